#!/usr/bin/env bash
# run.sh BUILD — runs every suite against the binaries in BUILD and ends
# with the one line the README promises: "N passed, N failed".
#   unit:        BUILD/tests/test_*   (cmocka)
#   integration: BUILD/tests/itest_*  (cmocka) and tests/integration/*.sh
#                (TAP lines), against PostgreSQL and MariaDB started here
#   fuzz:        build-fuzz/fuzz_* for a short time each (not under asan)
set -uo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
pass=0 fail=0
failed_names=()

count_cmocka() { # name output rc
	local p f
	p=$(grep -oE '^\[  PASSED  \] [0-9]+' <<<"$2" | grep -oE '[0-9]+$' | tail -1)
	f=$(grep -oE '^\[  FAILED  \] [0-9]+' <<<"$2" | grep -oE '[0-9]+$' | tail -1)
	p=${p:-0} f=${f:-0}
	if [ "$3" != 0 ] && [ "$f" = 0 ]; then f=1; fi # crashed or sanitizer abort
	pass=$((pass + p)) fail=$((fail + f))
	[ "$f" = 0 ] || failed_names+=("$1")
}

count_tap() { # name output rc
	local p f
	p=$(grep -cE '^ok [0-9]+' <<<"$2")
	f=$(grep -cE '^not ok [0-9]+' <<<"$2")
	if [ "$3" != 0 ] && [ "$f" = 0 ]; then f=1; fi
	pass=$((pass + p)) fail=$((fail + f))
	[ "$f" = 0 ] || failed_names+=("$1")
}

run_suite() { # kind file...
	local kind=$1; shift
	for t in "$@"; do
		[ -f "$t" ] && [ -x "$t" ] || continue # skips the compiler's .d files
		local out rc
		echo "== $t"
		out=$(timeout 600 "$t" 2>&1); rc=$?
		echo "$out" | grep -E '^(not ok|\[  FAILED  \]|\[  ERROR   \]|#|.*(ERROR|runtime error|Sanitizer))' | head -60
		"count_$kind" "$t" "$out" "$rc"
	done
}

export CMOCKA_MESSAGE_OUTPUT=stdout
run_suite cmocka "$BUILD"/tests/test_*

SERVERS=$(mktemp -d /tmp/tarmac-test.XXXXXX)
trap 'cleanup' EXIT
cleanup() { tests/aws/stop.sh "$SERVERS/aws" >/dev/null 2>&1; tests/lib/servers.sh stop "$SERVERS" >/dev/null 2>&1; rm -rf "$SERVERS"; }
if tests/lib/servers.sh start "$SERVERS" && tests/aws/start.sh "$SERVERS/aws" --imds-expiry 700 >/dev/null; then
	# shellcheck disable=SC1091
	. "$SERVERS/env"
	# shellcheck disable=SC1091
	. "$SERVERS/aws/aws-env"
	export TARMAC="$PWD/$BUILD/tarmac"
	# IMDS credentials that expire in under 15 minutes: tarmac must refresh
	# them ahead of expiry (tests/integration/aws_s3.sh checks it does)
	run_suite cmocka "$BUILD"/tests/itest_*
	run_suite tap tests/integration/*.sh
	run_suite tap tests/tui/*.sh
else
	echo "could not start the test servers or the AWS emulator" >&2
	fail=$((fail + 1)); failed_names+=("servers")
fi

if [ -z "${TARMAC_NO_FUZZ:-}" ]; then
	for f in build-fuzz/fuzz_*; do
		[ -x "$f" ] || continue
		name=$(basename "$f")
		corpus=$(mktemp -d)
		[ -d "tests/fuzz/corpus/$name" ] && cp -r "tests/fuzz/corpus/$name/." "$corpus/"
		echo "== $f (${TARMAC_FUZZ_SECONDS:-10} s)"
		if "$f" -max_total_time="${TARMAC_FUZZ_SECONDS:-10}" -timeout=10 "$corpus" >"$corpus.log" 2>&1; then
			pass=$((pass + 1))
		else
			tail -30 "$corpus.log"; fail=$((fail + 1)); failed_names+=("$f")
		fi
		rm -rf "$corpus" "$corpus.log"
	done
fi

[ ${#failed_names[@]} = 0 ] || printf 'failed: %s\n' "${failed_names[@]}"
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
