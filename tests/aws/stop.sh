#!/usr/bin/env bash
# stop.sh DIR — stops the AWS emulator and s3rver that tests/aws/start.sh
# started in DIR (by the process ids it recorded there). Idempotent; leaves
# DIR's contents in place for the caller to inspect or remove.
set -uo pipefail

[ $# -eq 1 ] || { echo "usage: $0 DIR" >&2; exit 2; }
DIR=$1

stop_pid() { # pidfile
	local f=$1 pid i
	[ -f "$f" ] || return 0
	pid=$(cat "$f")
	if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
		kill -TERM "$pid" 2>/dev/null
		for ((i = 0; i < 50; i++)); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
	fi
	rm -f "$f"
}

# The emulator first: on SIGTERM it kills the process groups of running SSM commands.
stop_pid "$DIR/emulator.pid"
stop_pid "$DIR/s3rver.pid"
rm -f "$DIR/ports.json"
exit 0
