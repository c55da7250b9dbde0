# db.sh — helpers for integration tests: fresh databases, queries, and the
# Flyway reference DDL (spec/flyway.md §3.1/§3.2) to compare tarmac with.
# Needs the env written by servers.sh (TARMAC_TEST_*) and $TARMAC.
# shellcheck shell=bash

newdb() { # newdb pg|my NAME → prints the URL of a fresh empty database
	tests/lib/servers.sh createdb "$1" "$2" "$TARMAC_TEST_SERVERS_DIR" >/dev/null || return 1
	case $1 in
	pg) echo "postgresql://postgres@127.0.0.1:$TARMAC_TEST_PG_PORT/$2" ;;
	my) echo "mysql://tarmac:tarmac@127.0.0.1:$TARMAC_TEST_MY_PORT/$2" ;;
	esac
}

q() { # q pg|my DBNAME SQL → rows, columns separated by |
	case $1 in
	pg) psql -X -q -A -t -F '|' -v ON_ERROR_STOP=1 \
		"postgresql://postgres@127.0.0.1:$TARMAC_TEST_PG_PORT/$2" -c "$3" ;;
	my) mariadb -h127.0.0.1 -P"$TARMAC_TEST_MY_PORT" -utarmac -ptarmac -N -B "$2" -e "$3" |
		tr '\t' '|' ;;
	esac
}

flyway_ddl() { # flyway_ddl pg|my SCHEMA → Flyway's own CREATE script for the table
	case $1 in
	pg) cat <<SQL
CREATE TABLE "$2"."flyway_schema_history" (
    "installed_rank" INT NOT NULL,
    "version" VARCHAR(50),
    "description" VARCHAR(200) NOT NULL,
    "type" VARCHAR(20) NOT NULL,
    "script" VARCHAR(1000) NOT NULL,
    "checksum" INTEGER,
    "installed_by" VARCHAR(100) NOT NULL,
    "installed_on" TIMESTAMP NOT NULL DEFAULT now(),
    "execution_time" INTEGER NOT NULL,
    "success" BOOLEAN NOT NULL
);
ALTER TABLE "$2"."flyway_schema_history" ADD CONSTRAINT "flyway_schema_history_pk" PRIMARY KEY ("installed_rank");
CREATE INDEX "flyway_schema_history_s_idx" ON "$2"."flyway_schema_history" ("success");
SQL
	;;
	my) cat <<SQL
CREATE TABLE \`$2\`.\`flyway_schema_history\` (
    \`installed_rank\` INT NOT NULL,
    \`version\` VARCHAR(50),
    \`description\` VARCHAR(200) NOT NULL,
    \`type\` VARCHAR(20) NOT NULL,
    \`script\` VARCHAR(1000) NOT NULL,
    \`checksum\` INT,
    \`installed_by\` VARCHAR(100) NOT NULL,
    \`installed_on\` TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    \`execution_time\` INT NOT NULL,
    \`success\` BOOL NOT NULL,
    CONSTRAINT  PRIMARY KEY (\`installed_rank\`)
);
CREATE INDEX \`flyway_schema_history_s_idx\` ON \`$2\`.\`flyway_schema_history\` (\`success\`);
SQL
	;;
	esac
}

# The table's definition as the catalog describes it, names of the
# database left out, so two databases' tables can be compared.
table_shape() { # table_shape pg|my DBNAME
	case $1 in
	pg) q pg "$2" "SELECT column_name, data_type, coalesce(character_maximum_length::text,''), is_nullable, coalesce(column_default,'') FROM information_schema.columns WHERE table_name = 'flyway_schema_history' ORDER BY ordinal_position"
	    q pg "$2" "SELECT indexname, regexp_replace(indexdef, ' ON \S+', ' ON T') FROM pg_indexes WHERE tablename = 'flyway_schema_history' ORDER BY 1"
	    q pg "$2" "SELECT conname, contype FROM pg_constraint WHERE conrelid = 'flyway_schema_history'::regclass ORDER BY 1" ;;
	my) q my "$2" "SHOW CREATE TABLE flyway_schema_history" ;;
	esac
}

history_rows() { # history_rows pg|my DBNAME → every column but installed_on and execution_time
	local b="success" c="CAST(checksum AS CHAR)"
	[ "$1" = pg ] && b="CASE WHEN success THEN 1 ELSE 0 END" c="checksum::text"
	q "$1" "$2" "SELECT installed_rank, coalesce(version,'NULL'), description, type, script, coalesce($c,'NULL'), installed_by, $b FROM flyway_schema_history ORDER BY installed_rank" 2>/dev/null
}
