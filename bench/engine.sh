#!/usr/bin/env bash
# bench/engine.sh — the engine against its floor, psql, on the same server
# in the same run (issue: "The Flyway-exact migration engine"):
#   1. `tarmac migrate` of 1,000 small migrations vs `psql -1 -f` of the
#      same files concatenated                              (target <= 1.6x)
#   2. one migration of 200,000 rows in multi-row INSERTs vs `psql -f`
#      of it (target <= 0.7x), and tarmac's peak resident memory (< 30 MB)
#   3. `tarmac info` over 10,000 applied migrations         (target <= 0.25 s)
# Each timing is the median of RUNS runs on a fresh database. Prints a
# table and writes bench/out/engine.txt.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-5}
TARMAC=${TARMAC:-build/tarmac}
[ -x "$TARMAC" ] || make -s all
OUT=bench/out; mkdir -p "$OUT"
WORK=$(mktemp -d /tmp/tarmac-bench.XXXXXX)
SERVERS=$WORK/servers; mkdir -p "$SERVERS"
trap 'tests/lib/servers.sh stop "$SERVERS" >/dev/null 2>&1; rm -rf "$WORK"' EXIT
tests/lib/servers.sh start "$SERVERS" >/dev/null
. "$SERVERS/env"
PG="postgresql://postgres@127.0.0.1:$TARMAC_TEST_PG_PORT"

now() { date +%s.%N; }
median() { sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
# A fresh database, and a checkpoint so that no run pays for the previous
# run's dirty pages (the same for tarmac and psql).
fresh() { psql -X -q "$PG/postgres" -c "DROP DATABASE IF EXISTS $1" -c "CREATE DATABASE $1" -c "CHECKPOINT" 2>/dev/null; }
timed() { local t0 t1; t0=$(now); "$@" >/dev/null; t1=$(now); echo "$t1 - $t0" | bc -l; }

# 1. 1,000 small migrations
SMALL=$WORK/small; mkdir -p "$SMALL"
for i in $(seq 1 1000); do
	printf 'CREATE TABLE t_%d (id int PRIMARY KEY, name text NOT NULL);\nINSERT INTO t_%d VALUES (1, '"'"'row %d'"'"');\n' \
		"$i" "$i" "$i" >"$SMALL/V${i}__table_$i.sql"
done
for i in $(seq 1 1000); do cat "$SMALL/V${i}__table_$i.sql"; done >"$WORK/small.sql"
small_tarmac=() small_psql=()
for r in $(seq 1 "$RUNS"); do
	fresh b1; small_tarmac+=("$(timed "$TARMAC" --url "$PG/b1" --locations "filesystem:$SMALL" migrate)")
	fresh b2; small_psql+=("$(timed psql -X -q -1 -v ON_ERROR_STOP=1 -f "$WORK/small.sql" "$PG/b2")")
done
st=$(printf '%s\n' "${small_tarmac[@]}" | median); sp=$(printf '%s\n' "${small_psql[@]}" | median)

# 2. 200,000 rows in multi-row INSERTs (1,000 rows a statement)
BIG=$WORK/big; mkdir -p "$BIG"
python3 - "$BIG/V1__rows.sql" <<'PY'
import sys
with open(sys.argv[1], "w") as f:
    f.write("CREATE TABLE big (id int PRIMARY KEY, name text NOT NULL, city text, amount numeric(12,2));\n")
    for s in range(200):
        rows = ",\n".join("(%d, 'name %d', 'city %d', %d.%02d)" % (i, i, i % 97, i, i % 100)
                          for i in range(s * 1000 + 1, s * 1000 + 1001))
        f.write("INSERT INTO big (id, name, city, amount) VALUES\n" + rows + ";\n")
PY
big_tarmac=() big_psql=() big_rss=()
for r in $(seq 1 "$RUNS"); do
	fresh b3
	t0=$(now)
	/usr/bin/time -f '%M' -o "$WORK/rss" "$TARMAC" --url "$PG/b3" --locations "filesystem:$BIG" migrate >/dev/null
	t1=$(now); big_tarmac+=("$(echo "$t1 - $t0" | bc -l)"); big_rss+=("$(cat "$WORK/rss")")
	fresh b4; big_psql+=("$(timed psql -X -q -v ON_ERROR_STOP=1 -f "$BIG/V1__rows.sql" "$PG/b4")")
done
bt=$(printf '%s\n' "${big_tarmac[@]}" | median); bp=$(printf '%s\n' "${big_psql[@]}" | median)
rss=$(printf '%s\n' "${big_rss[@]}" | sort -g | tail -1)

# 3. info over 10,000 applied migrations
MANY=$WORK/many; mkdir -p "$MANY"
for i in $(seq 1 10000); do printf 'SELECT %d;\n' "$i" >"$MANY/V${i}__step_$i.sql"; done
fresh b5
"$TARMAC" --url "$PG/b5" --locations "filesystem:$MANY" migrate >/dev/null
info=()
for r in $(seq 1 "$RUNS"); do info+=("$(timed "$TARMAC" --url "$PG/b5" --locations "filesystem:$MANY" info)"); done
it=$(printf '%s\n' "${info[@]}" | median)

{
	echo "engine benchmark, $(nproc) cores, median of $RUNS runs, $(psql --version | head -1)"
	printf '%-44s %9s %9s %7s %s\n' "case" "tarmac s" "psql s" "ratio" "target"
	printf '%-44s %9.3f %9.3f %6.2fx %s\n' "migrate 1,000 small migrations" "$st" "$sp" "$(echo "$st / $sp" | bc -l)" "<= 1.6x"
	printf '%-44s %9.3f %9.3f %6.2fx %s\n' "migrate 200,000 rows (multi-row INSERTs)" "$bt" "$bp" "$(echo "$bt / $bp" | bc -l)" "<= 0.7x"
	printf '%-44s %9s\n' "peak RSS of tarmac for 200,000 rows" "$((rss / 1024)) MB (target < 30 MB)"
	printf '%-44s %9.3f %9s %7s %s\n' "info over 10,000 applied migrations" "$it" "-" "-" "<= 0.25 s"
} | tee "$OUT/engine.txt"
