#!/usr/bin/env bash
# servers.sh — throwaway PostgreSQL and MariaDB servers for tests, the demo
# and benchmarks, all state inside one directory the caller owns.
#
#   servers.sh start DIR             initdb/install-db, start both, write DIR/env
#   servers.sh stop DIR              stop both (idempotent)
#   servers.sh createdb pg|my NAME [DIR]
#                                    drop and create an empty database; DIR
#                                    defaults to $TARMAC_TEST_SERVERS_DIR
#
# Invariants: nothing outside DIR is touched except the system user
# tarmac-test (created when run as root, because initdb and mariadbd refuse
# to run as root). Server settings stay at their defaults apart from ports,
# sockets and max_connections (and MariaDB's utf8mb4 default, which Debian's
# own config would set), since benchmarks run on these same servers.
# DIR/env holds `export` lines; PostgreSQL trusts every role except
# `tarmac`, which needs its password, so tests can provoke an auth failure.
set -euo pipefail

RUN_USER=tarmac-test
WAIT_S=60

die() { echo "servers.sh: $*" >&2; exit 1; }

# Runs a command as the unprivileged server user when we are root.
as_user() {
	if [ "$(id -u)" = 0 ]; then
		runuser -u "$RUN_USER" -- "$@"
	else
		"$@"
	fi
}

prepare_user() {
	local dir=$1
	[ "$(id -u)" = 0 ] || return 0
	id "$RUN_USER" >/dev/null 2>&1 ||
		useradd --system --no-create-home --shell /usr/sbin/nologin "$RUN_USER"
	chown -R "$RUN_USER" "$dir"
	# The server user must be able to reach DIR through its parents.
	local p
	p=$(dirname "$dir")
	while [ "$p" != / ]; do
		chmod o+x "$p"
		p=$(dirname "$p")
	done
}

# A TCP port nobody listens on; `taken` lists ports already handed out.
free_port() {
	local taken=${1:-} port
	while :; do
		port=$((20000 + RANDOM % 40000))
		[ "$port" = "$taken" ] && continue
		ss -Htln "sport = :$port" | grep -q . || { echo "$port"; return; }
	done
}

log_tail() {
	echo "--- $1 (last 40 lines) ---" >&2
	tail -n 40 "$1" >&2 2>/dev/null || true
}

# Polls `cmd...` until it succeeds or WAIT_S passes.
wait_for() {
	local what=$1 log=$2 i
	shift 2
	for ((i = 0; i < WAIT_S * 10; i++)); do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	echo "servers.sh: $what did not accept connections within ${WAIT_S}s" >&2
	log_tail "$log"
	return 1
}

pg_bindir() {
	local d
	d=$(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
	[ -x "$d/initdb" ] || die "PostgreSQL server not installed (Debian package postgresql)"
	echo "$d"
}

pg_start() {
	local dir=$1 port=$2 bin data=$1/pg/data log=$1/pg/log
	bin=$(pg_bindir)
	mkdir -p "$dir/pg" && prepare_user "$dir/pg"
	# --no-sync only skips initdb's own flush of the fresh catalog; the
	# running server keeps fsync on.
	as_user "$bin/initdb" -D "$data" --auth=trust -U postgres -E UTF8 \
		--locale=C --no-sync >"$dir/pg/initdb.log" 2>&1 ||
		{ log_tail "$dir/pg/initdb.log"; return 1; }
	cat >>"$data/postgresql.conf" <<-CONF
		listen_addresses = '127.0.0.1'
		port = $port
		unix_socket_directories = '$dir/pg'
		max_connections = 200
	CONF
	# First match wins: role tarmac authenticates, everyone else is trusted.
	{ printf 'local all tarmac scram-sha-256\nhost all tarmac 127.0.0.1/32 scram-sha-256\n'
	  cat "$data/pg_hba.conf"; } >"$data/pg_hba.new"
	mv "$data/pg_hba.new" "$data/pg_hba.conf"
	if [ "$(id -u)" = 0 ]; then chown "$RUN_USER" "$data/pg_hba.conf"; fi
	as_user "$bin/pg_ctl" -D "$data" -l "$log" -s start >/dev/null 2>&1 ||
		{ log_tail "$log"; return 1; }
	wait_for PostgreSQL "$log" "$bin/pg_isready" -q -h "$dir/pg" -p "$port" -U postgres
	"$bin/psql" -X -q -h "$dir/pg" -p "$port" -U postgres -d postgres -v ON_ERROR_STOP=1 \
		-c "CREATE ROLE tarmac LOGIN SUPERUSER PASSWORD 'tarmac'" >/dev/null
}

my_start() {
	local dir=$1 port=$2 data=$1/my/data log=$1/my/error.log run=()
	command -v mariadbd >/dev/null || PATH=$PATH:/usr/sbin
	command -v mariadbd >/dev/null || die "MariaDB server not installed (Debian package mariadb-server)"
	mkdir -p "$dir/my" && prepare_user "$dir/my"
	as_user mariadb-install-db --no-defaults --auth-root-authentication-method=normal \
		--datadir="$data" --skip-test-db --skip-name-resolve \
		>"$dir/my/install.log" 2>&1 || { log_tail "$dir/my/install.log"; return 1; }
	if [ "$(id -u)" = 0 ]; then run=(runuser -u "$RUN_USER" --); fi
	# setsid: the server outlives this script and its terminal.
	setsid "${run[@]}" mariadbd --no-defaults --datadir="$data" --socket="$dir/my/sock" \
		--port="$port" --bind-address=127.0.0.1 --pid-file="$dir/my/pid" \
		--log-error="$log" --max-connections=200 --skip-name-resolve \
		--character-set-server=utf8mb4 --collation-server=utf8mb4_general_ci \
		</dev/null >>"$dir/my/stdout.log" 2>&1 &
	wait_for MariaDB "$log" mariadb-admin --no-defaults -uroot --socket="$dir/my/sock" ping
	mariadb --no-defaults -uroot --socket="$dir/my/sock" -e "
		CREATE USER 'tarmac'@'%' IDENTIFIED BY 'tarmac';
		CREATE USER 'tarmac'@'localhost' IDENTIFIED BY 'tarmac';
		GRANT ALL PRIVILEGES ON *.* TO 'tarmac'@'%' WITH GRANT OPTION;
		GRANT ALL PRIVILEGES ON *.* TO 'tarmac'@'localhost' WITH GRANT OPTION;"
}

write_env() {
	local dir=$1 pgport=$2 myport=$3
	cat >"$dir/env" <<-ENV
		export TARMAC_TEST_SERVERS_DIR=$dir
		export TARMAC_TEST_PG_URL=postgresql://postgres@127.0.0.1:$pgport/postgres
		export TARMAC_TEST_PG_USER_URL=postgresql://tarmac:tarmac@127.0.0.1:$pgport/postgres
		export TARMAC_TEST_PG_HOST=127.0.0.1
		export TARMAC_TEST_PG_PORT=$pgport
		export TARMAC_TEST_PG_SOCKDIR=$dir/pg
		export TARMAC_TEST_MY_URL=mysql://tarmac:tarmac@127.0.0.1:$myport/
		export TARMAC_TEST_MY_PORT=$myport
		export TARMAC_TEST_MY_SOCK=$dir/my/sock
	ENV
}

cmd_start() {
	local dir pgport myport pgpid mypid rc=0
	[ -d "${1:-}" ] || die "usage: servers.sh start DIR (an existing directory)"
	dir=$(cd "$1" && pwd)
	if [ -e "$dir/pg" ] || [ -e "$dir/my" ]; then
		die "$dir already holds servers: stop them and use a fresh directory"
	fi
	prepare_user "$dir"
	# The server user may not be able to read the caller's directory.
	cd "$dir"
	pgport=$(free_port)
	myport=$(free_port "$pgport")
	# Both servers initialise in parallel: start-up is dominated by initdb
	# and mariadb-install-db.
	pg_start "$dir" "$pgport" & pgpid=$!
	my_start "$dir" "$myport" & mypid=$!
	wait "$pgpid" || rc=1
	wait "$mypid" || rc=1
	if [ "$rc" != 0 ]; then
		cmd_stop "$dir"
		die "could not start the test servers in $dir (logs above)"
	fi
	write_env "$dir" "$pgport" "$myport"
}

cmd_stop() {
	local dir=${1:-} pid i
	[ -n "$dir" ] || die "usage: servers.sh stop DIR"
	[ -d "$dir" ] || return 0
	if [ -f "$dir/pg/data/postmaster.pid" ]; then
		as_user "$(pg_bindir)/pg_ctl" -D "$dir/pg/data" -s -m fast stop >/dev/null 2>&1 || true
	fi
	if [ -f "$dir/my/pid" ]; then
		pid=$(cat "$dir/my/pid" 2>/dev/null || true)
		if [ -n "$pid" ] && kill "$pid" 2>/dev/null; then
			for ((i = 0; i < WAIT_S * 10; i++)); do
				kill -0 "$pid" 2>/dev/null || break
				sleep 0.1
			done
			kill -9 "$pid" 2>/dev/null || true
		fi
		rm -f "$dir/my/pid"
	fi
}

cmd_createdb() {
	local kind=${1:-} name=${2:-} dir=${3:-${TARMAC_TEST_SERVERS_DIR:-}}
	if [ -z "$name" ] || [ -z "$dir" ]; then
		die "usage: servers.sh createdb pg|my NAME [DIR]"
	fi
	[ -f "$dir/env" ] || die "$dir/env not found: run servers.sh start $dir first"
	# shellcheck source=/dev/null
	. "$dir/env"
	case "$kind" in
	pg)
		PGOPTIONS='-c client_min_messages=warning' \
		psql -X -q -h "$TARMAC_TEST_PG_SOCKDIR" -p "$TARMAC_TEST_PG_PORT" -U postgres \
			-d postgres -v ON_ERROR_STOP=1 \
			-c "DROP DATABASE IF EXISTS \"$name\" WITH (FORCE)" \
			-c "CREATE DATABASE \"$name\"" >/dev/null ;;
	my)
		mariadb --no-defaults -uroot --socket="$TARMAC_TEST_MY_SOCK" -e \
			"DROP DATABASE IF EXISTS \`$name\`; CREATE DATABASE \`$name\`" ;;
	*) die "usage: servers.sh createdb pg|my NAME [DIR]" ;;
	esac
}

case "${1:-}" in
start) cmd_start "${2:-}" ;;
stop) cmd_stop "${2:-}" ;;
createdb) shift; cmd_createdb "$@" ;;
*) die "usage: servers.sh start DIR | stop DIR | createdb pg|my NAME [DIR]" ;;
esac
