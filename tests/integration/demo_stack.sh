#!/usr/bin/env bash
# The stack behind `make demo` (scripts/demo-stack.sh), brought up in a temp
# directory of its own — its own servers, s3rver and emulator, not the ones
# tests/run.sh started, because the emulated Flyway host's command and
# environment belong to the emulator that runs it: both buckets hold the
# uploaded migrations byte for byte, the demo tarmac.conf loads, `ssm run -d
# products --follow` migrates products through the emulated host (aws s3
# sync + tarmac) to its latest version, and `down` leaves no process (not even
# an SSM command still running) and no directory.
set -u
cd "$(dirname "$0")/../.."
. tests/lib/assert.sh
. tests/lib/db.sh
TARMAC=${TARMAC:-$PWD/build/tarmac}
export TARMAC
WORK=$(mktemp -d /tmp/tarmac-demo-test.XXXXXX)
D=$WORK/stack
trap 'scripts/demo-stack.sh down "$D" >/dev/null 2>&1; rm -rf "$WORK"' EXIT

scripts/demo-stack.sh up "$D" >"$WORK/up.log" 2>&1
eq "$?" 0 "demo-stack.sh up starts the stack"
sed 's/^/#   /' "$WORK/up.log" | tail -20
ok "it writes tarmac.conf, env and the host's script" test -s "$D/tarmac.conf" -a -s "$D/env" -a -x "$D/host/flyway-host.sh"
# shellcheck disable=SC1091
. "$D/env"
eq "$TARMAC_CONFIG" "$D/tarmac.conf" "env points TARMAC_CONFIG at the demo conf"

# the buckets, read back with the AWS CLI rather than tarmac
for db in users products; do
	mkdir -p "$WORK/got/$db"
	/usr/bin/aws --endpoint-url "$AWS_ENDPOINT_URL" s3 sync --only-show-errors --no-progress \
		"s3://$db" "$WORK/got/$db" 2>&1 | head -5
	ok "bucket $db holds migrations/$db, byte for byte" diff -r "migrations/$db" "$WORK/got/$db"
done

run() { OUT=$("$TARMAC" "$@" 2>&1); RC=$?; }
# live PIDs: the given ones, or a process group's (-g PGID); a zombie not yet
# reaped by init does not count
live() { ps -o pid=,stat= "$@" 2>/dev/null | awk '$2 !~ /^Z/ {print $1}' | xargs; }
run databases
eq "$RC" 0 "the demo tarmac.conf loads"
ok "users is the prod database" grep -qE '^users +prod +postgresql://' <<<"$OUT"
ok "products the dev one, on MariaDB" grep -qE '^products +dev +mysql://' <<<"$OUT"
run -d users info
eq "$RC" 0 "info on users reads its bucket"
eq "$(grep -c '| Pending ' <<<"$OUT")" 2 "both users migrations are pending"
run ssm run -d products --dry-run
contains "$OUT" "command: /bin/sh '$D/host/flyway-host.sh' 'products' '' 'products' 'migrate'" \
	"the [ssm] command calls the host script with quoted values"

# the emulated Flyway host migrates products
run ssm run -d products --follow
eq "$RC" 0 "ssm run -d products --follow exits 0"
contains "$OUT" "flyway-host: tarmac -d products migrate (3 files)" "the host synced the bucket's 3 files"
contains "$OUT" 'Successfully applied 3 migrations to schema "products"' "its migrate output streams back"
contains "$OUT" "status Success, exit code 0" "the run ends Success"
eq "$(q my products "SELECT version FROM flyway_schema_history WHERE version IS NOT NULL AND success = 1 ORDER BY installed_rank DESC LIMIT 1")" \
	2 "products is at version 2, the latest in its bucket"
eq "$(q my products "SELECT count(*) FROM flyway_schema_history WHERE success = 1")" 3 "with its repeatable applied too"
run -d products validate
eq "$RC" 0 "tarmac validates products against the bucket after the host's run"
run -d users info
eq "$(grep -c '| Pending ' <<<"$OUT")" 2 "users is untouched"

# a command still running on the host when the stack goes down
cp "$D/tarmac.conf" "$WORK/slow.conf"
sed -i "s|^command = .*|command = echo \$\$ >$WORK/ssm.pid; sleep 300; echo {database}|" "$WORK/slow.conf"
run -c "$WORK/slow.conf" ssm run -d products
eq "$RC" 0 "a slow SSM command is sent"
for _ in $(seq 1 100); do [ -s "$WORK/ssm.pid" ] && break; sleep 0.1; done
SSM_PGID=$(cat "$WORK/ssm.pid" 2>/dev/null)
ok "and runs on the host (process group $SSM_PGID)" test -n "$(live -g "${SSM_PGID:-0}")"

pids=("$(cat "$D/aws/emulator.pid")" "$(cat "$D/aws/s3rver.pid")"
      "$(head -1 "$D/servers/pg/data/postmaster.pid")" "$(cat "$D/servers/my/pid")")
ok "every service is running (${pids[*]})" kill -0 "${pids[@]}"
scripts/demo-stack.sh down "$D" >"$WORK/down.log" 2>&1
eq "$?" 0 "demo-stack.sh down"
sed 's/^/#   /' "$WORK/down.log" | tail -20
ok "removes the directory" test ! -e "$D"
eq "$(live -p "$(IFS=,; echo "${pids[*]}")")" "" "emulator, s3rver, PostgreSQL and MariaDB are gone"
eq "$(live -g "${SSM_PGID:-0}")" "" "so is the SSM command's process group"
eq "$(pgrep -a -f -- "$D" | grep -v pgrep)" "" "no process names the directory"
scripts/demo-stack.sh down "$D"
eq "$?" 0 "down again is a no-op"
mkdir "$WORK/other"
scripts/demo-stack.sh down "$WORK/other" 2>/dev/null
ok "down refuses a directory up did not make" test "$?" != 0 -a -d "$WORK/other"
done_testing
