#!/usr/bin/env bash
# make demo — tarmac on a local, emulated AWS: scripts/demo-stack.sh brings up
# PostgreSQL, MariaDB, s3rver and the AWS emulator in a temp directory, with
# databases `users` (PostgreSQL, prod) and `products` (MariaDB, dev), their
# migrations uploaded to buckets `users` and `products`, and an emulated
# Flyway host behind [ssm]; then the console opens on them. Quitting it stops
# everything and removes the directory, also on Ctrl-C, SIGTERM and SIGHUP.
# TARMAC_DEMO_SHELL=1: a shell with tarmac configured after the console.
set -euo pipefail
cd "$(dirname "$0")/.."
DEMO=$(mktemp -d /tmp/tarmac-demo.XXXXXX)
# Runs however the script ends; the terminal may be gone by then, so a
# failed write must not cut it short.
cleanup() {
	set +e
	trap '' INT TERM HUP
	echo "Stopping the demo ..." >&2
	scripts/demo-stack.sh down "$DEMO" || rm -rf "$DEMO"
}
CONSOLE=
# A signal ends the console first (so the terminal is restored), then the demo.
on_signal() { # SIGNAL EXIT-CODE
	if [ -n "$CONSOLE" ]; then
		kill -"$1" "$CONSOLE" 2>/dev/null || true
		wait "$CONSOLE" || true
	fi
	exit "$2"
}
trap cleanup EXIT
trap 'on_signal INT 130' INT
trap 'on_signal TERM 143' TERM
trap 'on_signal HUP 129' HUP
echo "Starting PostgreSQL, MariaDB, s3rver and the AWS emulator in $DEMO ..."
scripts/demo-stack.sh up "$DEMO"
# shellcheck disable=SC1091
. "$DEMO/env"

if ! [ -t 0 ] || ! [ -t 1 ]; then
	for db in users products; do
		echo; echo "== tarmac -d $db info"
		tarmac -d "$db" info || true
	done
	echo; echo "No terminal: the console needs one. Stopping."
	exit 0
fi

# The console, q leaves it. It runs as a job that `wait` can be interrupted
# in, so a signal to this script reaches it too; stdin is passed explicitly
# because a job's would be /dev/null.
exec 3<&0
tarmac <&3 3<&- &
CONSOLE=$!
exec 3<&-
wait "$CONSOLE" || true
CONSOLE=
if [ "${TARMAC_DEMO_SHELL:-}" = 1 ]; then
	cat <<MSG

tarmac is configured for the demo (TARMAC_CONFIG=$TARMAC_CONFIG); the AWS
emulator's endpoint and keys are in the environment. \`tarmac\` alone opens
the console again. Try:
  tarmac buckets                       tarmac -d users info
  tarmac ssm run -d products --follow  (the emulated Flyway host migrates it)
  tarmac -d users migrate --dry-run    tarmac ssm list
Leave the shell (exit or Ctrl-D) to stop everything.
MSG
	PS1='tarmac-demo$ ' bash --norc -i || true
fi
