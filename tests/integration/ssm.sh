#!/usr/bin/env bash
# tarmac ssm run|list|cancel|host through the AWS emulator (tests/aws/),
# which runs each SSM command locally with /bin/sh and streams its lines into
# CloudWatch Logs while it runs: live output with --follow, stderr marked,
# exit codes, one run per database, --attach, cancel, list and its operator,
# template values with shell metacharacters refused before anything is sent,
# a follower killed mid-run and re-attached without repeating a line, a
# fleet run that stops at its first failure, and the host's agent status.
set -u
cd "$(dirname "$0")/../.."
. tests/lib/assert.sh
: "${TARMAC_EMULATOR_ADMIN:?the AWS emulator is not running (tests/run.sh starts it)}"
: "${TARMAC_EMULATOR_INSTANCE_ID:?the emulator names its instance}"
WORK=$(mktemp -d /tmp/tarmac-ssm.XXXXXX)
BG=()
ping() { curl -sf -X POST "$TARMAC_EMULATOR_ADMIN/ping" -d "{\"status\": \"$1\"}" >/dev/null; }
trap 'for p in "${BG[@]}"; do kill "$p" 2>/dev/null; done; ping Online; rm -rf "$WORK"' EXIT
# follow positions go here, not into the home directory; runs are sent as
export XDG_STATE_HOME="$WORK/state" USER=ssm-test
STATE="$XDG_STATE_HOME/tarmac/ssm"

run() { OUT=$("$TARMAC" -c "$WORK/tarmac.conf" "$@" 2>&1); RC=$?; }
reset() { curl -sf -X POST "$TARMAC_EMULATOR_ADMIN/reset" >/dev/null; }
sends() { curl -sf "$TARMAC_EMULATOR_ADMIN/log" | grep -c '"SendCommand"'; }
# wait_for FILE TEXT SECONDS: until FILE holds TEXT; prints the seconds it took
wait_for() {
	local t0 t; t0=$(date +%s%N)
	while ! grep -q -- "$2" "$1" 2>/dev/null; do
		t=$(( ($(date +%s%N) - t0) / 1000000 ))
		[ "$t" -lt $(( $3 * 1000 )) ] || { echo "timeout"; return 1; }
		sleep 0.1
	done
	echo $(( ($(date +%s%N) - t0) / 1000000 ))
}

# slow runs 8 s, bad exits 3, every run writes "oops" on stderr
cat >"$WORK/tarmac.conf" <<'CONF'
[ssm]
command = case {database} in slow) n=8;; *) n=3;; esac; for i in $(seq 1 $n); do echo {database} line $i from {bucket}/{prefix} {action}; sleep 1; done; echo oops >&2; case {database} in bad) exit 3;; esac; exit 0
CONF
cat >>"$WORK/tarmac.conf" <<CONF
target = $TARMAC_EMULATOR_INSTANCE_ID

[database "users"]
url = postgresql://flyway@127.0.0.1/users
locations = s3:tm-users/sql

[database "bad"]
url = postgresql://flyway@127.0.0.1/bad
locations = s3:tm-bad

[database "slow"]
url = postgresql://flyway@127.0.0.1/slow
locations = s3:tm-slow

[database "products"]
url = postgresql://flyway@127.0.0.1/products
locations = s3:tm-products/v2

[database "evil"]
url = postgresql://flyway@127.0.0.1/evil
locations = s3:x;rm -rf /

[database "evil2"]
url = postgresql://flyway@127.0.0.1/evil2
locations = s3:a\$(id)/sql
CONF

# --dry-run and read-only: the command is shown, nothing is sent
reset
run ssm run -d users --dry-run
eq "$RC" 0 "ssm run --dry-run"
contains "$OUT" "command: case 'users' in slow) n=8;;" "prints the rendered command, values single-quoted"
contains "$OUT" "from 'tm-users'/'sql' 'migrate'" "bucket and prefix from the s3: location, action migrate by default"
contains "$OUT" "target:  $TARMAC_EMULATOR_INSTANCE_ID" "and the target"
run --read-only ssm run -d users --follow
eq "$RC" 2 "--read-only refuses ssm run with exit 2"
contains "$OUT" "read-only" "saying why"
eq "$(sends)" 0 "neither sent a SendCommand"

# values with shell metacharacters are refused before any request
reset
run ssm run -d evil --follow
eq "$RC" 2 "a bucket name 'x;rm -rf /' is refused with exit 2"
contains "$OUT" 'refusing bucket "x;rm -rf ' "naming the bucket"
run ssm run -d evil2
eq "$RC" 2 "a bucket name 'a\$(id)' is refused with exit 2"
contains "$OUT" 'refusing bucket "a$(id)"' "naming it"
run ssm run -d users --action 'migrate;id'
eq "$RC" 2 "an action outside Flyway's verbs is refused"
contains "$OUT" 'refusing action' "naming the action"
eq "$(sends)" 0 "no SendCommand reached the emulator"

# --follow: the first line shows while the command still runs
"$TARMAC" -c "$WORK/tarmac.conf" ssm run -d users --follow --action info >"$WORK/follow.out" 2>&1 &
FPID=$!; BG+=("$FPID")
ms=$(wait_for "$WORK/follow.out" "users line 1" 6)
ok "the first line arrives while the command runs (after $ms ms of its 3 s)" test "$ms" != timeout -a "${ms:-9999}" -lt 3000
ok "before the run's status line" bash -c "! grep -q '^status' '$WORK/follow.out'"
wait "$FPID"; RC=$?; OUT=$(cat "$WORK/follow.out")
eq "$RC" 0 "a successful run exits 0"
contains "$OUT" "users line 3 from tm-users/sql info" "every line, --action in the command"
contains "$OUT" "stderr| oops" "stderr lines are marked"
ok "stdout lines are not" grep -qx "users line 1 from tm-users/sql info" "$WORK/follow.out"
contains "$OUT" "status Success, exit code 0, " "the final status, exit code and duration"

# a failing command
run ssm run -d bad --follow
eq "$RC" 1 "a command that exits 3 makes tarmac exit 1"
contains "$OUT" "status Failed, exit code 3" "and prints the exit code"

# one run per database; --attach; cancel
run ssm run -d slow
eq "$RC" 0 "ssm run without --follow sends and returns"
SLOW=$(grep -oE '^sent [0-9a-f-]+' <<<"$OUT" | cut -c6-)
ok "printing the command id ($SLOW)" test -n "$SLOW"
contains "$OUT" "--attach $SLOW" "and how to attach"
reset
run ssm run -d slow --follow
eq "$RC" 1 "a second run for the same database is refused"
contains "$OUT" "a run for slow is in progress: $SLOW (attach with: tarmac ssm run -d slow --attach $SLOW)" "naming the run in progress"
eq "$(sends)" 0 "without sending"
run ssm run -d users --dry-run
eq "$RC" 0 "another database is not blocked"
"$TARMAC" -c "$WORK/tarmac.conf" ssm run -d slow --attach "$SLOW" >"$WORK/attach.out" 2>&1 &
APID=$!; BG+=("$APID")
ms=$(wait_for "$WORK/attach.out" "slow line 2" 6)
ok "--attach prints the running command's lines ($ms ms)" test "$ms" != timeout
ok "from the start of its output" grep -qx "slow line 1 from tm-slow/ migrate" "$WORK/attach.out"
run ssm cancel -d slow
eq "$RC" 0 "ssm cancel ends the database's run"
contains "$OUT" "$SLOW on $TARMAC_EMULATOR_INSTANCE_ID: status Cancelled" "and prints its final status"
wait "$APID"; RC=$?; OUT=$(cat "$WORK/attach.out")
eq "$RC" 1 "the attached tarmac exits 1 on Cancelled"
contains "$OUT" "status Cancelled" "printing the status"
ok "it did not wait for the command's 8 lines" bash -c "! grep -q 'slow line 8' '$WORK/attach.out'"
run ssm cancel -d slow
eq "$RC" 1 "cancel with nothing in progress exits 1"
run --read-only ssm cancel -d slow "$SLOW"
eq "$RC" 2 "--read-only refuses cancel with exit 2"

# list
run ssm list
eq "$RC" 0 "ssm list"
ok "shows the cancelled run with its database" grep -qE "^$SLOW +slow +Cancelled " <<<"$OUT"
ok "the failed one" grep -qE "^[0-9a-f-]+ +bad +Failed .* [0-9]+ s$" <<<"$OUT"
ok "the successful one, with its duration" grep -qE "^[0-9a-f-]+ +users +Success .* [0-9]+ s$" <<<"$OUT"
run ssm list -d bad
ok "-d keeps that database's runs only" bash -c "! grep -qE ' (users|slow) ' <<<'$OUT'"
ok "the OPERATOR column shows who sent each run" grep -qE "^[0-9a-f-]+ +bad +Failed +ssm-test " <<<"$OUT"
USER='dba alice;$(id)' run ssm run -d users --follow
ID=$(grep -oE '^sent [0-9a-f-]+' <<<"$OUT" | cut -c6-)
contains "$OUT" "by=dba_alice___id_)" "an operator name is cut down to safe characters in the Comment"
run ssm list -d users
ok "and shown that way in the list" grep -qE "^$ID +users +Success +dba_alice___id_ " <<<"$OUT"

# a follower killed mid-run (SIGTERM) stops between pages with its position
# saved; --attach goes on from the next line, so no line shows twice
"$TARMAC" -c "$WORK/tarmac.conf" ssm run -d slow --follow >"$WORK/kill.out" 2>&1 &
KPID=$!; BG+=("$KPID")
ms=$(wait_for "$WORK/kill.out" "slow line 3" 8)
ok "the follower shows lines before it is killed ($ms ms)" test "$ms" != timeout
kill -TERM "$KPID"; wait "$KPID"; RC=$?
KID=$(grep -oE '^sent [0-9a-f-]+' "$WORK/kill.out" | cut -c6-)
eq "$RC" 143 "a follower stopped by SIGTERM exits 143"
contains "$(cat "$WORK/kill.out")" "re-attach with: tarmac ssm run -d slow --attach $KID" "saying how to re-attach"
ok "it left the command running" bash -c "! grep -q '^status' '$WORK/kill.out'"
ok "its position is kept in a 0600 file" test "$(stat -c %a "$STATE/$KID" 2>&1)" = 600
ok "in a 0700 directory" test "$(stat -c %a "$STATE" 2>&1)" = 700
run ssm run -d slow --attach "$KID"
eq "$RC" 0 "the re-attached follower follows the run to its end"
contains "$OUT" "resuming $KID after " "saying it resumes"
last=$(grep -oE '^slow line [0-9]+' "$WORK/kill.out" | tail -1 | cut -d' ' -f3)
first=$(grep -oE '^slow line [0-9]+' <<<"$OUT" | head -1 | cut -d' ' -f3)
eq "$first" "$((last + 1))" "starting with the line after the last one shown (line $last)"
both=$( { grep -E '^(slow line|stderr\|)' "$WORK/kill.out"; grep -E '^(slow line|stderr\|)' <<<"$OUT"; } )
eq "$(sort <<<"$both" | uniq -d)" "" "no line appears in both outputs"
eq "$(grep -c '^slow line' <<<"$both")" 8 "and every line appears in one of them"
ok "the position is removed once the command is final" test ! -e "$STATE/$KID"
run ssm run -d slow --attach "$KID"
contains "$OUT" "no saved position for $KID; showing its output from the start" "a later attach starts over, and says so"
ok "from line 1" grep -q "^slow line 1 " <<<"$OUT"
printf 'tarmac ssm follow 1\nid %s\nlines x\n' "$KID" >"$STATE/$KID"
run ssm run -d slow --attach "$KID"
eq "$RC" 0 "a corrupt position file is not fatal"
contains "$OUT" "is not a saved position for $KID; showing $KID's output from the start" "it is named, and the output starts over"

# a fleet run: every database's command is checked before the first is sent;
# then one at a time, stopping at the first that does not succeed
reset
run ssm run -d users,evil,products --follow
eq "$RC" 2 "a fleet with a bucket 'x;rm -rf /' among its databases is refused"
contains "$OUT" 'refusing bucket "x;rm -rf ' "naming the bucket"
eq "$(sends)" 0 "before any SendCommand, for users too"
run ssm run -d users,products
eq "$RC" 2 "a fleet needs --follow"
reset
products_sent() { curl -sf "$TARMAC_EMULATOR_ADMIN/state" | grep -o 'tarmac db=products ' | wc -l; }
before=$(products_sent)
run ssm run -d users,bad,products --follow
eq "$RC" 1 "a fleet that meets a failing run exits 1"
contains "$OUT" "fleet 1/3: users"$'\n'"sent " "users goes first"
contains "$OUT" "fleet 1/3: users: status Success, exit code 0, " "and succeeds"
a=$(grep -n '^users line 3 ' <<<"$OUT" | head -1 | cut -d: -f1)
b=$(grep -n '^fleet 2/3: bad$' <<<"$OUT" | cut -d: -f1)
ok "its lines come before bad starts" test "${a:-99}" -lt "${b:-0}"
contains "$OUT" "fleet 2/3: bad: status Failed, exit code 3, " "bad fails"
ok "products is not started" bash -c "! grep -q 'fleet 3/3' <<<'$OUT'"
eq "$(sends)" 2 "two SendCommands"
eq "$(products_sent)" "$before" "none of them for products"
contains "$OUT" "fleet: 1 of 3 succeeded (users)" "a summary"
contains "$OUT" "fleet stopped at bad (2 of 3): status Failed, exit code 3, " "the error names where it stopped"
contains "$OUT" "; not sent: products" "and what was not sent"

# ssm host: the target's SSM agent
run ssm host
eq "$RC" 0 "ssm host"
contains "$OUT" "target:   $TARMAC_EMULATOR_INSTANCE_ID" "shows the target"
contains "$OUT" "ping:     Online" "its ping status"
contains "$OUT" "agent:    3.3.987.0" "and the agent's version"
ping ConnectionLost
run ssm host
eq "$RC" 1 "an instance whose agent lost its connection exits 1"
contains "$OUT" "tarmac: $TARMAC_EMULATOR_INSTANCE_ID is ConnectionLost: " "saying so"
ping Online
sed "s/^target = .*/target = i-0000000000000000f/" "$WORK/tarmac.conf" >"$WORK/unknown.conf"
OUT=$("$TARMAC" -c "$WORK/unknown.conf" ssm host 2>&1); RC=$?
eq "$RC" 1 "an instance SSM does not know exits 1"
contains "$OUT" "i-0000000000000000f is not managed by SSM: check the agent and the instance profile" "with what to check"
sed "s/^target = .*/target = tag:Role=flyway-host/" "$WORK/tarmac.conf" >"$WORK/tag.conf"
OUT=$("$TARMAC" -c "$WORK/tag.conf" ssm host 2>&1); RC=$?
eq "$RC" 0 "a tag target"
contains "$OUT" "instance: $TARMAC_EMULATOR_INSTANCE_ID" "shows the instance the tag found"
done_testing
