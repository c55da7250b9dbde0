# assert.sh — a tiny TAP-style helper for tests/integration/*.sh.
# Each check prints "ok N - what" or "not ok N - what" (with the evidence);
# tests/run.sh counts those lines. Source it; call `done_testing` last.
# shellcheck shell=bash

_n=0
_failed=0

ok() { # ok "what" command...   — passes when the command exits 0
	local what=$1; shift
	_n=$((_n + 1))
	if "$@" >/tmp/assert.$$ 2>&1; then
		echo "ok $_n - $what"
	else
		echo "not ok $_n - $what"; sed 's/^/#   /' /tmp/assert.$$ | head -20
		_failed=$((_failed + 1))
	fi
	rm -f /tmp/assert.$$
}

eq() { # eq "actual" "expected" "what"
	_n=$((_n + 1))
	if [ "$1" == "$2" ]; then
		echo "ok $_n - $3"
	else
		echo "not ok $_n - $3"
		printf '#   expected: %s\n#   actual:   %s\n' "$2" "$1" | head -40
		_failed=$((_failed + 1))
	fi
}

contains() { # contains "haystack" "needle" "what"
	_n=$((_n + 1))
	if [[ $1 == *"$2"* ]]; then
		echo "ok $_n - $3"
	else
		echo "not ok $_n - $3"
		printf '#   wanted to find: %s\n#   in: %s\n' "$2" "$1" | head -40
		_failed=$((_failed + 1))
	fi
}

done_testing() {
	echo "1..$_n"
	[ "$_failed" = 0 ]
}
