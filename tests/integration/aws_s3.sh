#!/usr/bin/env bash
# tarmac's AWS layer end to end through the emulator (tests/aws/), which
# checks every signature with botocore and forwards S3 to s3rver: push,
# s3: locations for info/migrate, buckets, 2,500-object paging, awkward
# keys, IMDSv2 credentials, a Secrets Manager secret as the database
# password, injected faults, read-only refusals.
set -u
cd "$(dirname "$0")/../.."
. tests/lib/assert.sh
. tests/lib/db.sh
: "${TARMAC_EMULATOR_ADMIN:?the AWS emulator is not running (tests/run.sh starts it)}"
WORK=$(mktemp -d /tmp/tarmac-aws.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
export XDG_CACHE_HOME=$WORK/cache

admin() { curl -sf -X "$1" -H 'Content-Type: application/json' "$TARMAC_EMULATOR_ADMIN/$2" ${3:+--data "$3"}; }
# reset clears faults and the request log: keep the log for the final check
reset() { curl -sf "$TARMAC_EMULATOR_ADMIN/log" >>"$WORK/requests.log"; admin POST reset >/dev/null; }
bucket() { admin POST bucket "{\"name\": \"$1\"}" >/dev/null; }
run() { OUT=$("$TARMAC" -c "$WORK/tarmac.conf" "$@" 2>&1); RC=$?; }

PGDB=aws_users; MYDB=aws_orders
PGURL=$(newdb pg $PGDB); MYURL=$(newdb my $MYDB)
bucket tm-users; bucket tm-orders; bucket tm-stray
cat >"$WORK/tarmac.conf" <<CONF
[database "users"]
url = $PGURL
locations = s3:tm-users/sql

[database "orders"]
url = $MYURL
locations = s3:tm-orders
CONF
mkdir -p "$WORK/orders"; cp migrations/products/*.sql "$WORK/orders/"

reset
run push -d users --from migrations/users
eq "$RC" 0 "push uploads the local migrations"
contains "$OUT" "put       s3://tm-users/sql/V1__create_table_persons.sql" "under the location's prefix"
contains "$OUT" "2 uploaded, 0 already there" "both files"
run push -d users --from migrations/users
contains "$OUT" "0 uploaded, 2 already there" "a second push uploads nothing"
cp -r migrations/users "$WORK/users-edited"
printf -- '-- edited\n' >>"$WORK/users-edited/V2__alter_table_persons.sql"
run push -d users --from "$WORK/users-edited"
eq "$RC" 1 "push refuses to overwrite an object whose content differs"
contains "$OUT" "refused   s3://tm-users/sql/V2__alter_table_persons.sql" "naming it"
run push -d users --from "$WORK/users-edited" --dry-run --force
contains "$OUT" "would put s3://tm-users/sql/V2__alter_table_persons.sql" "--dry-run --force shows the overwrite"
run push -d orders --from "$WORK/orders"
eq "$RC" 0 "push into a bucket without prefix"

run -d users info --json
eq "$RC" 0 "info on an s3: location"
contains "$OUT" '"script":	"tm-users/sql/V1__create_table_persons.sql"' "the script is bucket/key, as Flyway writes it"
contains "$OUT" '"checksum":	1408735753' "checksums of S3 objects are Flyway's"
run -d users migrate
eq "$RC" 0 "migrate from S3 into PostgreSQL"
eq "$(q pg $PGDB "SELECT script FROM flyway_schema_history ORDER BY installed_rank" | head -1)" \
	"tm-users/sql/V1__create_table_persons.sql" "the history row names bucket/key"
run -d orders migrate
eq "$RC" 0 "migrate from S3 into MariaDB"
eq "$(q my $MYDB "SELECT count(*) FROM flyway_schema_history")" 3 "all three applied"

# signed for the wrong region: S3 answers with the bucket's region, tarmac
# re-signs for it and goes on (the emulator's region is eu-central-1)
OUT=$(AWS_REGION=us-west-2 AWS_DEFAULT_REGION=us-west-2 "$TARMAC" -c "$WORK/tarmac.conf" -d users info 2>&1); RC=$?
eq "$RC" 0 "a bucket in another region is reached through S3's redirect"
contains "$(curl -sf "$TARMAC_EMULATOR_ADMIN/log")" '"verdict": "wrong-region"' "after S3 refused the first signature"

run buckets
eq "$RC" 0 "buckets"
contains "$OUT" "tm-users" "lists the users bucket"
ok "maps tm-users to the users database" grep -qE '^tm-users +users +2 ' <<<"$OUT"
ok "and tm-stray to none" grep -qE '^tm-stray +- +0 ' <<<"$OUT"

# 2,500 objects, with awkward keys among them
MANY=$WORK/many; mkdir -p "$MANY"
for i in $(seq 1 2500); do printf 'SELECT %d;\n' "$i" >"$MANY/V${i}__step_$i.sql"; done
printf 'SELECT 1;\n' >"$MANY/V2501__a b+c=d_ü.sql"
bucket tm-many
cat >>"$WORK/tarmac.conf" <<CONF

[database "many"]
url = $(newdb pg aws_many)
locations = s3:tm-many/deep/prefix
CONF
run push -d many --from "$MANY"
contains "$OUT" "2501 uploaded" "push of 2,501 objects"
run -d many info --json
eq "$(grep -c '"state":	"Pending"' <<<"$OUT")" 2501 "info lists every object past the first 1,000 keys"
contains "$OUT" '"description":	"a b+c=d ü"' "a key with space, +, = and unicode"
contains "$OUT" '"script":	"tm-many/deep/prefix/V2501__a b+c=d_ü.sql"' "keeps its name"
t0=$(date +%s%N); run -d many info; t1=$(date +%s%N)
eq "$RC" 0 "a second info uses the checksum cache ($(( (t1 - t0) / 1000000 )) ms)"
ok "the cache file exists" test -s "$XDG_CACHE_HOME/tarmac/s3-checksums"

# credentials from IMDSv2 (the Flyway host's instance role); run.sh starts
# the emulator with IMDS credentials that expire in 700 s, inside the
# 15-minute window in which they must be refreshed before expiry
reset
OUT=$(env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY -u AWS_SESSION_TOKEN \
	"$TARMAC" -c "$WORK/tarmac.conf" buckets 2>&1); RC=$?
eq "$RC" 0 "credentials from IMDSv2 when the environment has none"
LOG=$(curl -sf "$TARMAC_EMULATOR_ADMIN/log")
contains "$LOG" '"verdict": "token-issued"' "an IMDSv2 session token was requested first"
contains "$LOG" '"access_key_id": "ASIA' "requests were signed with the instance role's keys"
fetches=$(grep -oE '"path": "/latest/meta-data/iam/security-credentials/[^"]+"' <<<"$LOG" | wc -l)
ok "credentials about to expire were refreshed ahead of expiry ($fetches fetches in one run)" test "$fetches" -ge 2

# a Secrets Manager secret as the database's credentials
SDB=aws_secret; newdb pg $SDB >/dev/null
admin POST seed "{\"secrets\": {\"tm-users-secret\": {\"engine\": \"postgres\", \"host\": \"127.0.0.1\", \"port\": $TARMAC_TEST_PG_PORT, \"username\": \"tarmac\", \"password\": \"tarmac\", \"dbname\": \"$SDB\"}, \"tm-bad-secret\": {\"engine\": \"postgres\", \"host\": \"127.0.0.1\", \"port\": $TARMAC_TEST_PG_PORT, \"username\": \"tarmac\", \"password\": \"wrong\", \"dbname\": \"$SDB\"}}}" >/dev/null
cat >>"$WORK/tarmac.conf" <<CONF

[database "secret"]
secret = tm-users-secret
locations = s3:tm-users/sql

[database "badsecret"]
secret = tm-bad-secret
locations = s3:tm-users/sql
CONF
run -d secret migrate
eq "$RC" 0 "a secret resolves into a working PostgreSQL connection"
eq "$(q pg $SDB "SELECT DISTINCT installed_by FROM flyway_schema_history")" "tarmac" "as the secret's user"
run -d badsecret info
eq "$RC" 3 "a wrong password in the secret is an authentication error"
ok "that never shows the password" bash -c "! grep -q wrong <<<'$OUT'"

# faults: retried per the standard mode; when they persist, a clear error and nothing written
reset
admin POST fault '{"service": "s3", "kind": "503-slowdown", "count": 2}' >/dev/null
run buckets
eq "$RC" 0 "503 SlowDown twice, then success"
admin POST fault '{"service": "s3", "kind": "reset", "count": 1}' >/dev/null
run buckets
eq "$RC" 0 "a connection reset is retried"
admin POST fault '{"service": "s3", "kind": "throttle", "count": 1}' >/dev/null
run buckets
eq "$RC" 0 "throttling is retried"
admin POST fault '{"service": "s3", "kind": "expired-token", "count": 1}' >/dev/null
run buckets
eq "$RC" 0 "an expired token is refreshed and retried"
admin POST fault '{"service": "s3", "kind": "skew", "seconds": 3600}' >/dev/null
run buckets
eq "$RC" 0 "a skewed clock is corrected from the Date header"
reset
printf 'SELECT 42;\n' >"$WORK/users-edited/V3__new.sql"
admin POST fault '{"service": "s3", "kind": "500", "count": 50}' >/dev/null
run push -d users --from "$WORK/users-edited" --force
ok "a persistent 500 fails the push ($RC)" test "$RC" != 0
contains "$OUT" "HeadObject on s3://tm-users/sql/V3__new.sql: HTTP 500 (gave up after 3 attempts)" "naming the call, the object and the retries"
reset
run -d users info --json
ok "and nothing was written to the bucket" bash -c "! grep -q V3__new <<<'$OUT'"

# read-only refuses writes before sending anything
reset
run --read-only push -d users --from "$WORK/users-edited" --force
eq "$RC" 2 "--read-only refuses push"
eq "$(curl -sf "$TARMAC_EMULATOR_ADMIN/log" | grep -c '"PutObject"')" 0 "without sending a PutObject"

# every request of the whole run had its signature checked by botocore
reset
LOG=$(cat "$WORK/requests.log")
ok "the emulator logged requests" grep -q '"verdict"' <<<"$LOG"
eq "$(grep -oE '"verdict": "[a-z-]+"' <<<"$LOG" | sort -u | grep -vE '"(ok|token-issued|token-ok|skewed|wrong-region)"' | tr '\n' ' ')" "" \
	"every signature botocore checked was valid (skewed, wrong-region: the two provoked cases)"
done_testing
