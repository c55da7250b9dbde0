# engine_cases.sh — the engine's integration cases, run once per dialect by
# tests/integration/engine_pg.sh and engine_my.sh against real servers.
# Every case uses a fresh database and a fresh migrations directory.
# shellcheck shell=bash

D=${D:?set D to pg or my}
WORK=$(mktemp -d /tmp/tarmac-it.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
USER_NAME=postgres; [ "$D" = my ] && USER_NAME=tarmac
SCHEMA=public

mig() { # mig DIR NAME CONTENT
	mkdir -p "$1"; printf '%s' "$3" >"$1/$2"
}

example_dir() { # the two example migrations of the users database
	local dir=$WORK/$1
	mkdir -p "$dir"
	cp migrations/users/V1__create_table_persons.sql migrations/users/V2__alter_table_persons.sql "$dir/"
	echo "$dir"
}

tm() { # tm URL DIR args... → runs tarmac, output in $OUT, exit code in $RC
	local url=$1 dir=$2; shift 2
	OUT=$("$TARMAC" --url "$url" --locations "filesystem:$dir" "$@" 2>&1); RC=$?
}

db_schema() { [ "$D" = pg ] && echo public || echo "$1"; }

case_flyway_written_history() {
	local db=${D}_fw url dir
	url=$(newdb "$D" $db); dir=$(example_dir fw)
	local s; s=$(db_schema $db)
	q "$D" $db "$(flyway_ddl "$D" "$s")" >/dev/null
	local t="1"; [ "$D" = pg ] && t="TRUE"
	q "$D" $db "INSERT INTO flyway_schema_history (installed_rank, version, description, type, script, checksum, installed_by, execution_time, success) VALUES (1, '1', 'create table persons', 'SQL', 'V1__create_table_persons.sql', 1408735753, 'flyway', 12, $t), (2, '2', 'alter table persons', 'SQL', 'V2__alter_table_persons.sql', -1799197182, 'flyway', 4, $t)" >/dev/null
	q "$D" $db "CREATE TABLE Persons (PersonID int, LastName varchar(255), FirstName varchar(255), Address varchar(255), City varchar(255), DateOfBirth date)" >/dev/null
	mig "$dir" V3__add_city_index.sql "CREATE INDEX persons_city ON Persons (City);"
	tm "$url" "$dir" info --json
	eq "$RC" 0 "$D: info reads a history table Flyway wrote"
	contains "$OUT" '"state":	"Success"' "$D: Flyway's rows show Success"
	contains "$OUT" '"state":	"Pending"' "$D: the new file shows Pending"
	tm "$url" "$dir" validate
	eq "$RC" 1 "$D: validate fails on a pending migration, as Flyway's does"
	contains "$OUT" "Detected resolved migration not applied to database: 3." "$D: with Flyway's message"
	tm "$url" "$dir" migrate
	eq "$RC" 0 "$D: migrate on a Flyway-written history"
	eq "$(history_rows "$D" $db | tail -1)" "3|3|add city index|SQL|V3__add_city_index.sql|$(cksum_of "$dir/V3__add_city_index.sql")|$USER_NAME|1" \
		"$D: the new row continues Flyway's ranks"
	tm "$url" "$dir" validate
	eq "$RC" 0 "$D: validate is clean afterwards"
}

cksum_of() { "$TARMAC" checksum "$1" | cut -d' ' -f1; }

case_rows_and_ddl_as_flyway_writes() {
	local a=${D}_ddl_a b=${D}_ddl_b ua dir
	ua=$(newdb "$D" $a); newdb "$D" $b >/dev/null; dir=$(example_dir ddl)
	mig "$dir" R__persons_view.sql "CREATE OR REPLACE VIEW persons_v AS SELECT PersonID FROM Persons;"
	tm "$ua" "$dir" migrate
	eq "$RC" 0 "$D: migrate into an empty database"
	q "$D" $b "$(flyway_ddl "$D" "$(db_schema $b)")" >/dev/null
	local mine theirs
	mine=$(table_shape "$D" $a | sed "s/$a/DB/g"); theirs=$(table_shape "$D" $b | sed "s/$b/DB/g")
	eq "$mine" "$theirs" "$D: the history table is the one Flyway's DDL creates"
	local r; r=$(cksum_of "$dir/R__persons_view.sql")
	eq "$(history_rows "$D" $a)" "1|1|create table persons|SQL|V1__create_table_persons.sql|1408735753|$USER_NAME|1
2|2|alter table persons|SQL|V2__alter_table_persons.sql|-1799197182|$USER_NAME|1
3|NULL|persons view|SQL|R__persons_view.sql|$r|$USER_NAME|1" "$D: rows are exactly Flyway's (all columns but times)"
	local et; et=$(q "$D" $a "SELECT min(execution_time) FROM flyway_schema_history")
	ok "$D: execution_time is whole milliseconds" test "$et" -ge 0
}

case_failure_and_repair() {
	local db=${D}_fail url dir
	url=$(newdb "$D" $db); dir=$(example_dir fail)
	tm "$url" "$dir" migrate
	mig "$dir" V3__broken.sql "CREATE TABLE t3 (a int);
INSERT INTO no_such_table VALUES (1);
"
	tm "$url" "$dir" migrate
	eq "$RC" 1 "$D: a failing migration exits 1"
	contains "$OUT" "V3__broken.sql failed at line 2" "$D: the error names the file and the statement's line"
	contains "$OUT" "no_such_table" "$D: and the database's message"
	if [ "$D" = pg ]; then
		eq "$(history_rows pg $db | wc -l)" 2 "pg: no row for a rolled-back migration"
		eq "$(q pg $db "SELECT count(*) FROM pg_tables WHERE tablename = 't3'")" 0 "pg: its DDL was rolled back"
		return
	fi
	eq "$(history_rows my $db | tail -1)" "3|3|broken|SQL|V3__broken.sql|$(cksum_of "$dir/V3__broken.sql")|tarmac|0" \
		"my: Flyway's failure row (success = 0)"
	tm "$url" "$dir" validate
	contains "$OUT" "Detected failed migration to version 3 (broken)." "my: validate reports the failed migration"
	tm "$url" "$dir" migrate
	eq "$RC" 1 "my: migrate refuses until repair"
	tm "$url" "$dir" repair --dry-run
	contains "$OUT" "DELETE FROM \`$db\`.\`flyway_schema_history\` WHERE \`success\` = 0 AND \`version\` = '3'" "my: repair --dry-run shows the row it deletes"
	eq "$(history_rows my $db | wc -l)" 3 "my: and changes nothing"
	tm "$url" "$dir" repair
	eq "$RC" 0 "my: repair"
	eq "$(history_rows my $db | wc -l)" 2 "my: repair removed the failure row"
	q my $db "DROP TABLE t3"
	mig "$dir" V3__broken.sql "CREATE TABLE t3 (a int);"
	tm "$url" "$dir" migrate
	eq "$RC" 0 "my: the fixed migration then applies"
}

case_concurrent_migrates() {
	local db=${D}_conc url dir i
	url=$(newdb "$D" $db); dir=$WORK/conc
	local sleep="SELECT pg_sleep(0.05);"; [ "$D" = my ] && sleep="SELECT SLEEP(0.05);"
	for i in $(seq 1 12); do mig "$dir" "V${i}__step_$i.sql" "CREATE TABLE c$i (a int); $sleep"; done
	local pids=() rcs=0
	for i in 1 2 3 4; do
		"$TARMAC" --url "$url" --locations "filesystem:$dir" migrate >"$WORK/conc.$i" 2>&1 & pids+=($!)
	done
	for p in "${pids[@]}"; do wait "$p" || rcs=$((rcs + 1)); done
	eq "$rcs" 0 "$D: four concurrent migrate processes all succeed"
	eq "$(q "$D" $db "SELECT count(*), count(DISTINCT version) FROM flyway_schema_history")" "12|12" \
		"$D: each migration applied exactly once"
	eq "$(cat "$WORK"/conc.* | grep -c 'Migrating schema')" 12 "$D: 12 migrations were run in all"
}

case_bad_input() {
	local db=${D}_bad url dir
	url=$(newdb "$D" $db); dir=$(example_dir bad)
	tm "$url" "$dir" migrate
	local before; before=$(history_rows "$D" $db)
	mig "$dir" v3__lowercase.sql "SELECT 1;"; mig "$dir" V3x__bad_version.sql "SELECT 1;"
	tm "$url" "$dir" info
	eq "$RC" 0 "$D: invalid names are skipped"
	contains "$OUT" "2 SQL migrations were detected but not run because they did not follow the filename convention." "$D: and counted as Flyway counts them"
	tm "$url" "$dir" info --set validateMigrationNaming=true
	contains "$OUT" "Invalid versioned migration name format: V3x__bad_version.sql (could not recognise version number 3x)" "$D: validateMigrationNaming lists them"
	rm "$dir"/v3__lowercase.sql "$dir"/V3x__bad_version.sql
	printf 'SELECT 1;\n-- caf\xe9\n' >"$dir/V3__latin1.sql"
	tm "$url" "$dir" migrate
	eq "$RC" 1 "$D: invalid UTF-8 fails"
	contains "$OUT" "Unable to calculate checksum of V3__latin1.sql: invalid UTF-8 at line 2" "$D: naming the file and line"
	rm "$dir/V3__latin1.sql"
	if [ "$D" = pg ]; then
		mig "$dir" V3__dollar.sql 'CREATE TABLE d (a int);
CREATE FUNCTION f() RETURNS int AS $body$ SELECT 1;
'
		tm "$url" "$dir" migrate
		eq "$RC" 1 "pg: an unterminated dollar quote fails"
		contains "$OUT" "V3__dollar.sql" "pg: naming the file"
		contains "$OUT" "line 2" "pg: and the line where the quote starts"
		eq "$(q pg $db "SELECT count(*) FROM pg_tables WHERE tablename = 'd'")" 0 "pg: nothing of it ran"
		rm "$dir/V3__dollar.sql"
	fi
	mig "$dir" V1.0__again.sql "SELECT 1;"
	tm "$url" "$dir" migrate
	eq "$RC" 1 "$D: duplicate versions fail"
	contains "$OUT" "Found more than one migration with version 1" "$D: with Flyway's message"
	contains "$OUT" "V1.0__again.sql" "$D: naming one file"
	contains "$OUT" "V1__create_table_persons.sql" "$D: and the other"
	rm "$dir/V1.0__again.sql"
	eq "$(history_rows "$D" $db)" "$before" "$D: the history is unchanged by all of it"
}

case_connection_lost() {
	local db=${D}_lost url dir
	url=$(newdb "$D" $db); dir=$(example_dir lost)
	tm "$url" "$dir" migrate
	if [ "$D" = pg ]; then
		mig "$dir" V3__slow.sql "CREATE TABLE t_lost (a int); SELECT pg_sleep(5);"
		( sleep 1; q pg postgres "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '$db' AND application_name = 'tarmac'" >/dev/null ) &
	else
		mig "$dir" V3__slow.sql "CREATE TABLE t_lost (a int); SELECT SLEEP(5);"
		( sleep 1; for id in $(q my $db "SELECT id FROM information_schema.processlist WHERE info LIKE 'SELECT SLEEP%'"); do q my $db "KILL $id"; done ) &
	fi
	tm "$url" "$dir" migrate
	wait
	ok "$D: a dropped connection fails the migration ($RC)" test "$RC" != 0
	contains "$OUT" "V3__slow.sql" "$D: and says which migration"
	if [ "$D" = pg ]; then
		eq "$(history_rows pg $db | wc -l)" 2 "pg: the history holds no row for it"
		eq "$(q pg $db "SELECT count(*) FROM pg_tables WHERE tablename = 't_lost'")" 0 "pg: and its table was rolled back"
	else
		eq "$(history_rows my $db | tail -1 | cut -d'|' -f1,2,8)" "3|3|0" "my: the failure is recorded after reconnecting"
	fi
}

case_lock_held() {
	local db=${D}_lock url dir held i
	url=$(newdb "$D" $db); dir=$(example_dir lock)
	if [ "$D" = pg ]; then
		psql -X -q "postgresql://postgres@127.0.0.1:$TARMAC_TEST_PG_PORT/$db" \
			-c "SELECT pg_advisory_lock(77433833903597)" -c "SELECT pg_sleep(6)" >/dev/null &
		held="SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted"
	else
		local name; name=$(printf '`%s`.`flyway_schema_history`' $db)
		local lock="Flyway-$(java_hash "$name")"
		mariadb -h127.0.0.1 -P"$TARMAC_TEST_MY_PORT" -utarmac -ptarmac $db \
			-e "SELECT GET_LOCK('$lock', 10); SELECT SLEEP(6)" >/dev/null &
		held="SELECT IS_USED_LOCK('$lock') IS NOT NULL"
	fi
	# wait until the other session really holds the lock (slow machines, sanitizers)
	for i in $(seq 1 50); do [ "$(q "$D" $db "$held")" = 1 ] && break; sleep 0.1; done
	tm "$url" "$dir" migrate --lock-retry-count 1
	eq "$RC" 4 "$D: a lock held elsewhere exits 4"
	contains "$OUT" "held by" "$D: naming who holds it"
	eq "$(history_rows "$D" $db | wc -l)" 0 "$D: and nothing was written"
	wait
}

java_hash() { # Java String.hashCode of an ASCII string
	python3 -c 'import sys
h=0
for ch in sys.argv[1]: h=(31*h+ord(ch)) & 0xffffffff
print(h-2**32 if h>=2**31 else h)' "$1"
}

case_dry_run_and_rehearse() {
	local db=${D}_dry url dir
	url=$(newdb "$D" $db); dir=$(example_dir dry)
	mig "$dir" V3__data.sql 'INSERT INTO Persons (PersonID, City) VALUES (1, '"'"'${city}'"'"');'
	tm "$url" "$dir" migrate --dry-run="$WORK/plan.sql" --set placeholders.city=Berlin
	eq "$RC" 0 "$D: dry-run"
	local plan; plan=$(cat "$WORK/plan.sql")
	contains "$plan" "CREATE TABLE" "$D: the script creates the history table"
	contains "$plan" "ALTER TABLE Persons ADD DateOfBirth date;" "$D: holds each statement"
	contains "$plan" "VALUES (1, 'Berlin')" "$D: with placeholders replaced"
	contains "$plan" "'V3__data.sql', -" "$D: and each history INSERT"
	eq "$(history_rows "$D" $db | wc -l)" 0 "$D: and touches nothing"
	if [ "$D" = pg ]; then
		tm "$url" "$dir" migrate --rehearse --set placeholders.city=Berlin
		eq "$RC" 0 "pg: rehearse"
		contains "$OUT" "V2__alter_table_persons.sql line 1" "pg: reports each statement"
		contains "$OUT" "rolled back" "pg: and rolls back"
		eq "$(q pg $db "SELECT count(*) FROM pg_tables WHERE tablename IN ('persons','flyway_schema_history')")" 1 \
			"pg: only the (empty) history table remains"
	else
		tm "$url" "$dir" migrate --rehearse
		eq "$RC" 2 "my: rehearse is refused on MariaDB (no transactional DDL)"
	fi
}

case_baseline() {
	local db=${D}_base url dir
	url=$(newdb "$D" $db); dir=$(example_dir base)
	q "$D" $db "CREATE TABLE legacy (a int)" >/dev/null
	mig "$dir" V3__after.sql "CREATE TABLE after_base (a int);"
	tm "$url" "$dir" migrate
	eq "$RC" 1 "$D: migrate refuses a non-empty schema without history"
	contains "$OUT" "but no schema history table. Use baseline() or set baselineOnMigrate to true" "$D: with Flyway's message"
	tm "$url" "$dir" baseline --version 2 --dry-run
	contains "$OUT" "'<< Flyway Baseline >>', 'BASELINE', '<< Flyway Baseline >>', NULL" "$D: baseline --dry-run shows the row"
	tm "$url" "$dir" baseline --version 2
	eq "$RC" 0 "$D: baseline"
	eq "$(history_rows "$D" $db)" "1|2|<< Flyway Baseline >>|BASELINE|<< Flyway Baseline >>|NULL|$USER_NAME|1" "$D: Flyway's baseline row"
	tm "$url" "$dir" info
	contains "$OUT" "| Below Baseline" "$D: V1 is below the baseline"
	contains "$OUT" "| Ignored (Baseline)" "$D: V2 is the baseline"
	tm "$url" "$dir" migrate
	eq "$RC" 0 "$D: migrate after baseline"
	eq "$(history_rows "$D" $db | tail -1 | cut -d'|' -f1,2)" "2|3" "$D: applies only V3"
	tm "$url" "$dir" baseline --version 5
	eq "$RC" 1 "$D: a second, different baseline is refused"
}

case_repair_missing_and_realign() {
	local db=${D}_rep url dir
	url=$(newdb "$D" $db); dir=$(example_dir rep)
	mig "$dir" V3__gone.sql "CREATE TABLE gone (a int);"
	tm "$url" "$dir" migrate
	rm "$dir/V3__gone.sql"
	mig "$dir" V4__new.sql "SELECT 1;"
	printf '\n-- edited\n' >>"$dir/V2__alter_table_persons.sql"
	tm "$url" "$dir" validate
	contains "$OUT" "Migration checksum mismatch for migration version 2" "$D: an edited file is a checksum mismatch"
	tm "$url" "$dir" repair
	eq "$RC" 0 "$D: repair"
	eq "$(history_rows "$D" $db | sed -n 4p | cut -d'|' -f1-5)" "4|3|gone|DELETE|V3__gone.sql" "$D: the missing migration is marked deleted"
	eq "$(history_rows "$D" $db | sed -n 2p | cut -d'|' -f6)" "$(cksum_of "$dir/V2__alter_table_persons.sql")" "$D: the checksum is realigned"
	tm "$url" "$dir" migrate
	eq "$RC" 0 "$D: migrate after repair"
}

case_schema_created_with_marker() {
	local db=${D}_schema url dir target=app
	url=$(newdb "$D" $db); dir=$(example_dir schema)
	[ "$D" = my ] && { target=${db}_app; q my $db "DROP DATABASE IF EXISTS $target"; }
	tm "$url" "$dir" migrate --schemas $target
	eq "$RC" 0 "$D: migrate into a schema that does not exist yet"
	local h="$target.flyway_schema_history"
	local b="success"; [ "$D" = pg ] && b="CASE WHEN success THEN 1 ELSE 0 END"
	local quoted="\"$target\""; [ "$D" = my ] && quoted="\`$target\`"
	eq "$(q "$D" $db "SELECT installed_rank, coalesce(version,'NULL'), description, type, script, $b FROM $h ORDER BY 1" | head -2)" \
		"0|NULL|<< Flyway Schema Creation >>|SCHEMA|$quoted|1
1|1|create table persons|SQL|V1__create_table_persons.sql|1" "$D: Flyway's SCHEMA marker at rank 0, then the migrations"
	local where="table_schema = '$target'"
	eq "$(q "$D" $db "SELECT count(*) FROM information_schema.tables WHERE $where AND lower(table_name) = 'persons'")" 1 \
		"$D: the migrations ran in that schema"
}
