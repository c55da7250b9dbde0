#!/usr/bin/env bash
# bench/s3.sh — the S3 diff against its baseline, in the same run
# (issue: "AWS without an SDK"): 5,000 migrations in a bucket (behind the
# AWS emulator, which checks every signature, in front of s3rver) diffed
# against a PostgreSQL database that has them all applied:
#   tarmac info, cold (empty checksum cache)      target <= 0.5x the sync
#   tarmac info, warm (cache filled by a run)     target <= 0.1x the sync
#   baseline: `aws s3 sync` of the bucket to an empty directory, the way the
#   Flyway host fetches the files today (Debian's awscli).
# Medians of RUNS runs; prints a table and writes bench/out/s3.txt.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-5}
N=${N:-5000}
TARMAC=${TARMAC:-build/tarmac}
[ -x "$TARMAC" ] || make -s all
command -v /usr/bin/aws >/dev/null || {
	sudo=; [ "$(id -u)" = 0 ] || sudo=sudo
	$sudo apt-get install -y -qq --no-install-recommends awscli >/dev/null
}
OUT=bench/out; mkdir -p "$OUT"
WORK=$(mktemp -d /tmp/tarmac-bench-s3.XXXXXX)
trap 'tests/aws/stop.sh "$WORK/aws" >/dev/null 2>&1; tests/lib/servers.sh stop "$WORK/servers" >/dev/null 2>&1; rm -rf "$WORK"' EXIT
mkdir -p "$WORK/servers"
tests/lib/servers.sh start "$WORK/servers" >/dev/null
tests/aws/start.sh "$WORK/aws" >/dev/null
. "$WORK/servers/env"
. "$WORK/aws/aws-env"
export XDG_CACHE_HOME=$WORK/cache

now() { date +%s.%N; }
median() { sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
timed() { local t0 t1; t0=$(now); "$@" >/dev/null; t1=$(now); echo "$t1 - $t0" | bc -l; }

mkdir -p "$WORK/sql"
for i in $(seq 1 "$N"); do
	printf -- '-- migration %d\nCREATE TABLE IF NOT EXISTS bench_%d (id int PRIMARY KEY, note text);\n' "$i" "$i" \
		>"$WORK/sql/V${i}__step_$i.sql"
done
curl -sf -X POST -H 'Content-Type: application/json' "$TARMAC_EMULATOR_ADMIN/bucket" \
	--data '{"name": "bench-migrations"}' >/dev/null
tests/lib/servers.sh createdb pg bench "$WORK/servers" >/dev/null
cat >"$WORK/tarmac.conf" <<CONF
[database "bench"]
url = postgresql://postgres@127.0.0.1:$TARMAC_TEST_PG_PORT/bench
locations = s3:bench-migrations
CONF
T() { "$TARMAC" -c "$WORK/tarmac.conf" "$@"; }
T push -d bench --from "$WORK/sql" >/dev/null
T -d bench migrate >/dev/null

cold=() warm=() sync=()
for r in $(seq 1 "$RUNS"); do
	rm -rf "$XDG_CACHE_HOME"
	cold+=("$(timed T -d bench info)")
	warm+=("$(timed T -d bench info)")
	rm -rf "$WORK/synced"; mkdir -p "$WORK/synced"
	sync+=("$(timed /usr/bin/aws s3 sync --only-show-errors --endpoint-url "$AWS_ENDPOINT_URL" s3://bench-migrations "$WORK/synced")")
done
[ "$(find "$WORK/synced" -type f | wc -l)" = "$N" ] || { echo "aws s3 sync fetched the wrong number of files" >&2; exit 1; }
c=$(printf '%s\n' "${cold[@]}" | median); w=$(printf '%s\n' "${warm[@]}" | median)
s=$(printf '%s\n' "${sync[@]}" | median)
{
	echo "S3 diff benchmark: $N objects, $(nproc) cores, median of $RUNS runs, $(/usr/bin/aws --version 2>&1 | cut -d' ' -f1)"
	printf '%-40s %8s %7s %s\n' "case" "seconds" "ratio" "target"
	printf '%-40s %8.3f %7s\n' "aws s3 sync to an empty directory" "$s" "1.00x"
	printf '%-40s %8.3f %6.2fx %s\n' "tarmac info, cold cache" "$c" "$(echo "$c / $s" | bc -l)" "<= 0.5x"
	printf '%-40s %8.3f %6.2fx %s\n' "tarmac info, warm cache" "$w" "$(echo "$w / $s" | bc -l)" "<= 0.1x"
} | tee "$OUT/s3.txt"
