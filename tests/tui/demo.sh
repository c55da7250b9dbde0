#!/usr/bin/env bash
# `make demo`'s stack (scripts/demo-stack.sh) in a console: select users,
# S, type the prod database's name, confirm; the emulated Flyway host syncs
# the bucket and migrates, its output streams into the output pane, and
# after a refresh users is at its new version.
set -u
cd "$(dirname "$0")/../.."
. tests/lib/assert.sh
TARMAC=${TARMAC:-$PWD/build/tarmac}
export TARMAC
WORK=$(mktemp -d /tmp/tarmac-tui-demo.XXXXXX)
D=$WORK/stack
. tests/lib/tui.sh
trap 'T kill-server 2>/dev/null; scripts/demo-stack.sh down "$D" >/dev/null 2>&1; rm -rf "$WORK"' EXIT
if ! scripts/demo-stack.sh up "$D" >"$WORK/up.log" 2>&1; then
	sed 's/^/#   /' "$WORK/up.log" | tail -20
	ok "the demo stack starts" false
	done_testing
	exit
fi
# shellcheck disable=SC1091
. "$D/env"
export CONF=$D/tarmac.conf XDG_STATE_HOME=$WORK/state TARMAC_AUDIT_LOG=$WORK/audit.log

start 120 34 LANG=C.UTF-8
ok "the demo's databases load from their buckets" wait_for_re '> users +v- 2 pend'
ok "products too" wait_for_re '  products +v- 3 pend'
ok "the header shows the emulated host Online" wait_for "Online (agent"
T send-keys -t con S
ok "S shows the host's command for users" wait_for_re "1\\. users: /bin/sh '.*/host/flyway-host"
ok "with its values quoted" on_screen "flyway-host\\.sh' 'users' ''"
ok "(the dialog wraps, never cuts)" on_screen "'users' 'migrate'"
ok "users is prod: the name must be typed" on_screen "PROD: type users to enable Confirm"
T send-keys -t con -l users; T send-keys -t con Tab Enter
ok "the host's output streams in" wait_for_re 'Migrating schema "public" to version "2 - alter table persons"'
ok "the run ends in Success" wait_for_re "ssm: status Success, exit code 0"
T send-keys -t con r
ok "after a refresh users is at its new version" wait_for_re '> users +v2 ok'
ok "its diff shows both applied" wait_for_re '✓ 2 +alter table persons +SQL +Success'
T send-keys -t con q
ok "q quits" wait_for "CONSOLE-EXITED 0"
done_testing
