#!/usr/bin/env bash
# The console against S3 (through the AWS emulator and s3rver) and real
# PostgreSQL: the header's AWS facts, a bucket's diff with one pending
# migration, one outdated repeatable and one checksum mismatch, orphan
# buckets, :buckets and :locks, the filter, and an SSH hang-up in the
# middle of a migration (rolled back and recorded in the audit log).
set -u
cd "$(dirname "$0")/../.."
. tests/lib/assert.sh
. tests/lib/db.sh
: "${TARMAC_EMULATOR_ADMIN:?the AWS emulator is not running (tests/run.sh starts it)}"
WORK=$(mktemp -d /tmp/tarmac-tui-aws.XXXXXX)
. tests/lib/tui.sh
export XDG_CACHE_HOME=$WORK/cache TARMAC_AUDIT_LOG=$WORK/audit.log
admin() { curl -sf -X "$1" -H 'Content-Type: application/json' "$TARMAC_EMULATOR_ADMIN/$2" ${3:+--data "$3"}; }
bucket() { admin POST bucket "{\"name\": \"$1\"}" >/dev/null; }
tm() { "$TARMAC" -c "$WORK/tarmac.conf" "$@" >>"$WORK/setup.log" 2>&1 || { echo "setup: tarmac $* failed:" >&2; tail -5 "$WORK/setup.log" >&2; }; }

PGURL=$(newdb pg tui_drift); SLOWURL=$(newdb pg tui_slow)
B=tm-tui-$$   # the emulator outlives a test run: names of our own
bucket $B-drift; bucket $B-stray
cat >"$WORK/tarmac.conf" <<CONF
[aws]
region = eu-central-1

[ssm]
target = $TARMAC_EMULATOR_INSTANCE_ID

[database "drift"]
url = $PGURL
locations = s3:$B-drift
environment = staging

[database "slow"]
url = $SLOWURL
locations = filesystem:$WORK/slow

[database "stray"]
url = $PGURL
locations = s3:$B-stray
CONF
mkdir -p "$WORK/m" "$WORK/slow" "$WORK/stray"
printf 'CREATE TABLE accounts (id int);\n' >"$WORK/m/V1__create_accounts.sql"
printf 'ALTER TABLE accounts ADD name text;\n' >"$WORK/m/V2__add_name.sql"
printf 'CREATE OR REPLACE VIEW account_names AS SELECT name FROM accounts;\n' >"$WORK/m/R__account_names.sql"
tm push -d drift --from "$WORK/m" && tm -d drift migrate
# then the files change under the applied history
printf -- '-- reviewed\n' >>"$WORK/m/V2__add_name.sql"
printf 'CREATE OR REPLACE VIEW account_names AS SELECT id, name FROM accounts;\n' >"$WORK/m/R__account_names.sql"
printf 'CREATE INDEX accounts_name ON accounts (name);\n' >"$WORK/m/V3__index_name.sql"
tm push -d drift --from "$WORK/m" --force
printf 'CREATE TABLE stray (id int);\n' >"$WORK/stray/V1__stray.sql"
tm push -d stray --from "$WORK/stray"
# the stray bucket's database leaves the configuration: its bucket is an orphan
sed -i '/^\[database "stray"\]/,$d' "$WORK/tarmac.conf"
printf 'CREATE TABLE slow_t (id int);\nSELECT pg_sleep(5);\n' >"$WORK/slow/V1__slow.sql"

start 120 32 LANG=C.UTF-8
ok "the diff of a bucket loads" wait_for_re '> drift +v2 1 drift 2 pend'
ok "the pending migration: glyph and word" wait_for "… 3      index name"
ok "the outdated repeatable" on_screen '~ +account names +SQL +Outdated'
ok "the checksum mismatch" on_screen '≠ 2 +add name +SQL +Checksum mismatch'
ok "the applied one" on_screen '✓ 1 +create accounts +SQL +Success'
ok "the header shows the account" wait_for_re 'acct 1234.*@eu-central-1'
ok "and the Flyway host's SSM ping status" wait_for "host $TARMAC_EMULATOR_INSTANCE_ID Online"
ok "and the environment band" on_screen ' STAGING +RW '
ok "a bucket of migrations no database maps is listed as an orphan" wait_for "(orphan) $B-stray"
T send-keys -t con Enter j d
ok "d on the mismatch shows both checksums" wait_for_re 'checksum history -?[0-9]+  \(differ'
ok "and the S3 object's ETag" on_screen 'S3 ETag +"?[0-9a-f]{32}'
ok "and the bucket/key" on_screen "script +$B-drift/V2__add_name.sql"
T send-keys -t con Escape s
ok "s pages the S3 object's SQL with line numbers" wait_for "2  -- reviewed"
T send-keys -t con Escape / Pending Enter
ok "/ filters the diff" wait_for "(filtered)"
ok "to the pending migration" not_on_screen 'Checksum mismatch'
T send-keys -t con / '!Pending' Enter
ok "/!re inverts it" wait_for "Checksum mismatch"
ok "(the pending one hidden)" not_on_screen 'index name'
T send-keys -t con / Enter
T send-keys -t con : buckets Enter
ok ":buckets lists the buckets with their databases" wait_for_re "$B-drift +drift +4 +4"
ok "and the orphan" on_screen "$B-stray +- +1 +1 +\\(orphan"
T send-keys -t con Escape : locks Enter
ok ":locks asks every database" wait_for_re 'drift +"public"."flyway_schema_history" free'
T send-keys -t con Escape : db ' slow' Enter
ok ":db NAME selects a database" wait_for_re '> slow +v- 1 pend'
T send-keys -t con : theme ' nonesuch' Enter
ok ":theme with an unknown name says so" wait_for "nonesuch"
T send-keys -t con : theme ' light' Enter
ok ":theme NAME switches the theme" wait_for "theme light"

# K in the middle of a migration: cancelled, rolled back, the diff reloaded
T send-keys -t con M; wait_for "1 pending migration on slow" >/dev/null
T send-keys -t con Tab Enter
wait_for "migration 1 of 1" >/dev/null
T send-keys -t con K
ok "K cancels the running statement" wait_for "canceling statement due to user request"
ok "the migration is rolled back: still pending after the reload" wait_for_re '> slow +v- 1 pend'
ok "the audit log has the cancelled run" grep -q '"database":"slow","event":"cancelled"' "$WORK/audit.log"
eq "$(q pg tui_slow "SELECT count(*) FROM pg_tables WHERE tablename = 'slow_t'")" 0 "nothing of it is left"
: >"$WORK/audit.log"

# the SSH session drops in the middle of a migration
T send-keys -t con M; wait_for "1 pending migration on slow" >/dev/null
T send-keys -t con Tab Enter
ok "the slow migration runs" wait_for "migration 1 of 1"
T kill-server # the terminal hangs up: SIGHUP
for i in $(seq 1 100); do pgrep -f "$WORK/tarmac.conf" >/dev/null || break; sleep 0.1; done
ok "tarmac exits after the hang-up (without waiting out the statement)" test "$i" -lt 40
ok "the audit log records the confirmed migrate" grep -q '"action":"migrate","database":"slow","event":"confirmed"' "$WORK/audit.log"
ok "and its outcome" grep -qE '"action":"migrate","database":"slow","event":"(cancelled|succeeded)"' "$WORK/audit.log"
if grep -q '"event":"cancelled"' "$WORK/audit.log"; then
	eq "$(q pg tui_slow "SELECT count(*) FROM pg_tables WHERE tablename = 'slow_t'")" 0 "cancelled: the migration was rolled back"
	eq "$(q pg tui_slow "SELECT count(*) FROM flyway_schema_history WHERE version = '1'")" 0 "and has no history row"
else
	eq "$(q pg tui_slow "SELECT count(*) FROM flyway_schema_history WHERE version = '1' AND success")" 1 "finished: its history row"
fi
done_testing
