#!/usr/bin/env bash
# The Flyway host's command from the console, through the AWS emulator
# (which runs it locally and feeds CloudWatch Logs): S shows the target and
# the exact rendered command, the output streams in with stderr marked, K
# cancels, :runs lists and reopens runs, a fleet of marked databases stops
# at the first failure, a restarted console re-attaches to a run in flight
# without repeating lines, and quitting mid-stream restores the terminal.
set -u
cd "$(dirname "$0")/../.."
. tests/lib/assert.sh
. tests/lib/db.sh
: "${TARMAC_EMULATOR_ADMIN:?the AWS emulator is not running (tests/run.sh starts it)}"
WORK=$(mktemp -d /tmp/tarmac-tui-ssm.XXXXXX)
. tests/lib/tui.sh
export XDG_STATE_HOME=$WORK/state TARMAC_AUDIT_LOG=$WORK/audit.log

URL=$(newdb pg tui_ssm)
# a line a second; slow prints 8, bad fails
cat >"$WORK/tarmac.conf" <<CONF
[ssm]
target = $TARMAC_EMULATOR_INSTANCE_ID
command = case {database} in slow$$) n=8;; *) n=3;; esac; for i in \$(seq 1 \$n); do echo {database} line \$i; sleep 1; done; echo {database} done >&2; case {database} in bad$$) exit 3;; esac

[database "users$$"]
url = $URL
locations = filesystem:$PWD/migrations/users

[database "bad$$"]
url = $URL
locations = filesystem:$PWD/migrations/users

[database "later$$"]
url = $URL
locations = filesystem:$PWD/migrations/users
environment = prod

[database "slow$$"]
url = $URL
locations = filesystem:$PWD/migrations/users
CONF
U=users$$ BAD=bad$$ LATER=later$$ SLOW=slow$$

start 120 34 LANG=C.UTF-8
wait_for_re "> $U +v- 2 pend" >/dev/null
ok "the header shows the host Online with its agent" wait_for "host $TARMAC_EMULATOR_INSTANCE_ID Online (agent "
T send-keys -t con S
ok "S opens a dialog with the target" wait_for "target  $TARMAC_EMULATOR_INSTANCE_ID"
ok "and the exact command, values quoted" on_screen "1\\. $U: case '$U' in slow$$\\) n=8;;"
T send-keys -t con Tab Enter
ok "the output streams in while the command runs" wait_for "$U line 1"
ok "(before it ends)" not_on_screen 'ssm: status'
ok "stderr is marked" wait_for "stderr| $U done"
ok "the end shows status, exit code and duration" wait_for_re "ssm: status Success, exit code 0, [0-9]+ s"

# K cancels a running command
T send-keys -t con : db " $SLOW" Enter S; wait_for "1. $SLOW:" >/dev/null
T send-keys -t con Tab Enter
wait_for "$SLOW line 2" >/dev/null
T send-keys -t con K
ok "K asks before cancelling the host's command" wait_for "CancelCommand "
T send-keys -t con Tab Enter
ok "K cancels the command" wait_for_re "ssm: status Cancelled"
ok "the audit log has the send and the cancel" grep -q '"action":"ssm-cancel","database":"","event":"requested"' "$WORK/audit.log"
ok "before its 8 lines" not_on_screen "$SLOW line 8"

# :runs lists the host's runs; Enter reads one's output
T send-keys -t con : runs Enter
ok ":runs lists the runs with database and status" wait_for_re "$SLOW +[^ ]+ +Cancelled"
ok "and the successful one" on_screen "$U +[^ ]+ +Success"
T send-keys -t con / "$U" Enter Enter
ok "Enter on a run closes the list and shows its output" wait_for_re "^│$U line 3"
T send-keys -t con / Enter

# a fleet: marked databases one after another, stopping at the first failure
T send-keys -t con : db " $U" Enter; sleep 0.2
T send-keys -t con h Space Space Space
ok "space marks databases" wait_for_re "\\* ?$LATER"
T send-keys -t con S
ok "S on marked databases lists each one's command" wait_for "3. $LATER:"
ok "a prod database in the fleet: its name must be typed" on_screen "PROD: type $LATER to enable Confirm"
T send-keys -t con -l "$LATER"; T send-keys -t con Tab Enter
ok "the fleet runs the first" wait_for "fleet 1/3: $U"
ok "then the second, which fails" wait_for_re "fleet 2/3: $BAD: status Failed, exit code 3"
sleep 2
ok "and stops: the third is never sent" not_on_screen "fleet 3/3"
ok "saying so" on_screen "$LATER"

# a restarted console re-attaches to a run in flight without repeating lines
T send-keys -t con : db " $SLOW" Enter S; wait_for "1. $SLOW:" >/dev/null
T send-keys -t con Tab Enter
wait_for "$SLOW line 2" >/dev/null
pkill -TERM -f "^$TARMAC -c $WORK/tarmac.conf"
wait_for "CONSOLE-EXITED" >/dev/null
start 120 34 LANG=C.UTF-8
ok "the new console re-attaches to the run" wait_for "re-attaching to $SLOW's run"
ok "and resumes its output" wait_for "$SLOW line 5"
ok "without the lines shown before" not_on_screen "$SLOW line 1 "
ok "to its end" wait_for_re "ssm: status Success, exit code 0"

# quitting mid-stream: q asks, q again quits and the terminal is restored
T kill-server; sleep 0.5; rm -f "$SOCK"
T new-session -d -s con -x 120 -y 34 "stty -g >$WORK/stty.before; env LANG=C.UTF-8 $TARMAC -c $WORK/tarmac.conf; echo CONSOLE-EXITED \$?; stty -g >$WORK/stty.after; sleep 60"
wait_for "Online" >/dev/null
T send-keys -t con : db " $SLOW" Enter S; wait_for "1. $SLOW:" >/dev/null
T send-keys -t con Tab Enter; wait_for "$SLOW line 1" >/dev/null
T send-keys -t con q
ok "q mid-stream asks first" wait_for "q again quits"
T send-keys -t con q
ok "q again quits" wait_for "CONSOLE-EXITED 0"
sleep 0.3
eq "$(cat "$WORK/stty.after")" "$(cat "$WORK/stty.before")" "the terminal's settings are restored"
done_testing
