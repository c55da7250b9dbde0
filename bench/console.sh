#!/usr/bin/env bash
# bench/console.sh — the console against its targets (issue: "A benchmark
# under bench/"), in a real pseudo-terminal of 120x40 driven by
# bench/console_pty.py, timed by the console's own TARMAC_CONSOLE_TRACE:
#   1. first full screen with 50 databases and 10,000 migrations
#                                  (target < 300 ms after the data is loaded)
#   2. key-to-screen latency while 5,000 output lines a second stream into
#      the output pane (target p99 < 50 ms); the same with nothing streaming
#      as a baseline
#   3. resident memory with 10,000 migrations loaded  (target < 40 MB)
# The 50 databases are 50 [database] sections on one PostgreSQL database,
# each with its own schema and history table. MIX=one (default): db01, the
# one the console selects and shows first, has 10,000 applied migrations and
# the 49 others 4 each; MIX=even: 200 each. The stream is db01's [ssm]
# command on the AWS emulator's host, which prints STREAM_RATE lines a second;
# the console starts it with S, Tab, Enter.
# Each session: first screen, memory (after G and g through all rows), key
# latency idle for KEY_SECONDS, then streaming for KEY_SECONDS. RUNS sessions;
# the screen figure is the median, latencies are pooled over all runs.
# Prints a table and writes bench/out/console.txt.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-5}
MIX=${MIX:-one}
KEY_SECONDS=${KEY_SECONDS:-10}
KEY_MS=${KEY_MS:-20}
STREAM_RATE=${STREAM_RATE:-5000}
PROBE_MS=${PROBE_MS:-5}
TARMAC=${TARMAC:-build/tarmac}
[ -x "$TARMAC" ] || make -s all
TARMAC=$(cd "$(dirname "$TARMAC")" && pwd)/$(basename "$TARMAC")
DRIVER=$PWD/bench/console_pty.py
OUT=bench/out; mkdir -p "$OUT"
WORK=$(mktemp -d /tmp/tarmac-bench-console.XXXXXX)
trap 'tests/aws/stop.sh "$WORK/aws" >/dev/null 2>&1; tests/lib/servers.sh stop "$WORK/servers" >/dev/null 2>&1; rm -rf "$WORK"' EXIT
mkdir -p "$WORK/servers"
tests/lib/servers.sh start "$WORK/servers" >/dev/null
tests/aws/start.sh "$WORK/aws" >/dev/null
. "$WORK/servers/env"
. "$WORK/aws/aws-env"
tests/lib/servers.sh createdb pg console "$WORK/servers" >/dev/null
PG="postgresql://postgres@127.0.0.1:$TARMAC_TEST_PG_PORT/console"

# Migration files: tiny, so that the figures are the console's, not the server's.
files() { # files DIR FROM TO
	mkdir -p "$1"
	for i in $(seq "$2" "$3"); do printf 'SELECT %d;\n' "$i" >"$1/V${i}__step_$i.sql"; done
}
case $MIX in
one) files "$WORK/m/big" 1 10000; files "$WORK/m/small" 1 4; FIRST=10000 ;;
even) files "$WORK/m/small" 1 200; FIRST=200 ;;
*) echo "console.sh: MIX is one or even" >&2; exit 2 ;;
esac
# Long enough for the stream to start, settle and outlast the key window.
EMIT_S=$((KEY_SECONDS + 25))
{
	printf '[ssm]\ntarget = %s\ncommand = exec python3 %s emit %d %d\n\n' \
		"$TARMAC_EMULATOR_INSTANCE_ID" "$DRIVER" "$STREAM_RATE" "$EMIT_S"
	for i in $(seq -w 1 50); do
		dir=$WORK/m/small
		[ "$MIX$i" = one01 ] && dir=$WORK/m/big
		printf '[database "db%s"]\nurl = %s\nlocations = filesystem:%s\nschemas = s%s\n\n' \
			"$i" "$PG" "$dir" "$i"
	done
} >"$WORK/tarmac.conf"
T() { "$TARMAC" -c "$WORK/tarmac.conf" "$@"; }
export -f T; export TARMAC WORK
seq -w 1 50 | xargs -P "$(nproc)" -I{} bash -c 'T -d db{} migrate >/dev/null'
[ "$(T -d db01 info | grep -c ' Success ')" -gt "$FIRST" ] ||
	{ echo "console.sh: db01 does not have its $FIRST migrations applied" >&2; exit 1; }

# Other work on the machine shows in every figure here: say how much there was.
LOAD0=$(cut -d' ' -f1 /proc/loadavg)
for r in $(seq 1 "$RUNS"); do
	python3 "$DRIVER" session --trace "$WORK/trace.$r" --json "$WORK/run.$r.json" \
		--rows-expected "$FIRST" --seconds "$KEY_SECONDS" --key-ms "$KEY_MS" \
		--stream-rate "$STREAM_RATE" --probe-ms "$PROBE_MS" -- "$TARMAC" -c "$WORK/tarmac.conf"
	# the next run's S must find no command of db01 still running
	T ssm cancel -d db01 >/dev/null 2>&1 || true
done

{
	echo "console benchmark: 50 databases, MIX=$MIX (db01: $FIRST migrations), 120x40 pty," \
		"$(nproc) cores (1-min load $LOAD0 before the runs), $RUNS runs, $(psql --version | head -1)"
	python3 "$DRIVER" report --stream-rate "$STREAM_RATE" "$WORK"/run.*.json
} | tee "$OUT/console.txt"
