#!/usr/bin/env bash
# tarmac ssm run|list|cancel through the AWS emulator (tests/aws/), which
# runs each SSM command locally with /bin/sh and streams its lines into
# CloudWatch Logs while it runs: live output with --follow, stderr marked,
# exit codes, one run per database, --attach, cancel, list, and template
# values with shell metacharacters refused before anything is sent.
set -u
cd "$(dirname "$0")/../.."
. tests/lib/assert.sh
: "${TARMAC_EMULATOR_ADMIN:?the AWS emulator is not running (tests/run.sh starts it)}"
: "${TARMAC_EMULATOR_INSTANCE_ID:?the emulator names its instance}"
WORK=$(mktemp -d /tmp/tarmac-ssm.XXXXXX)
BG=()
trap 'for p in "${BG[@]}"; do kill "$p" 2>/dev/null; done; rm -rf "$WORK"' EXIT

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
done_testing
