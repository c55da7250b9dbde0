#!/usr/bin/env bash
# start.sh DIR [emulator options...] — starts s3rver and the AWS emulator on
# free loopback ports with all state inside DIR, waits until both answer and
# writes DIR/aws-env (`export` lines to source). Stop with tests/aws/stop.sh DIR.
#
#   DIR/aws-env        AWS_ENDPOINT_URL, AWS_EC2_METADATA_SERVICE_ENDPOINT, the test
#                      credentials, AWS_REGION, TARMAC_EMULATOR_ADMIN, …
#   DIR/ports.json     {"port", "imds_port", "s3rver_port", "pid"}
#   DIR/s3/            s3rver's data; DIR/state/ the emulator's SSM work dirs
#   DIR/*.log, *.pid   logs and process ids
#
# Options after DIR go to tests/aws/emulator.py (e.g. --seed FILE,
# --imds-expiry 60); so does $TARMAC_EMULATOR_SEED as --seed when set.
# Installs what it needs when missing: Debian's python3-botocore and nodejs/npm
# (only as root), and the pinned npm packages in tests/ (npm install).
# Invariants: binds 127.0.0.1 only; never reaches real AWS; idempotent (an
# emulator already running in DIR is stopped first).
set -euo pipefail

[ $# -ge 1 ] || { echo "usage: $0 DIR [emulator options...]" >&2; exit 2; }
HERE=$(cd "$(dirname "$0")" && pwd)
TESTS=$(dirname "$HERE")
mkdir -p "$1"
DIR=$(cd "$1" && pwd)
shift
PY=/usr/bin/python3
WAIT_S=30

die() { echo "start.sh: $*" >&2; exit 1; }

apt_install() {
	[ "$(id -u)" = 0 ] || die "missing Debian package(s) $*; install them (apt-get install $*)"
	echo "start.sh: installing $* (apt-get)" >&2
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@" >/dev/null 2>&1 || {
		apt-get update -q >/dev/null 2>&1
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@" >/dev/null
	}
}

if ! "$PY" -c 'import botocore' 2>/dev/null; then apt_install python3-botocore; fi
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then apt_install nodejs npm; fi
if [ ! -e "$TESTS/node_modules/s3rver/bin/s3rver.js" ]; then
	echo "start.sh: installing pinned npm packages in $TESTS" >&2
	(cd "$TESTS" && npm install --no-audit --no-fund --loglevel=error >/dev/null) ||
		die "npm install in $TESTS failed"
fi

"$HERE/stop.sh" "$DIR" >/dev/null 2>&1 || true
mkdir -p "$DIR/s3" "$DIR/state"
rm -f "$DIR/ports.json" "$DIR/aws-env"

log_tail() { echo "--- $1 ---" >&2; tail -n 30 "$1" >&2 2>/dev/null || true; }

# s3rver picks its own port (-p 0) and prints it; it must run with the legacy
# OpenSSL provider or every truncated listing page fails (spec/aws.md §7).
NODE_OPTIONS=--openssl-legacy-provider nohup node "$TESTS/node_modules/s3rver/bin/s3rver.js" \
	-d "$DIR/s3" -a 127.0.0.1 -p 0 --silent >"$DIR/s3rver.log" 2>&1 </dev/null &
echo $! >"$DIR/s3rver.pid"
S3PORT=
for ((i = 0; i < WAIT_S * 20; i++)); do
	S3PORT=$(sed -n 's/^S3rver listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$DIR/s3rver.log" 2>/dev/null || true)
	[ -n "$S3PORT" ] && break
	kill -0 "$(cat "$DIR/s3rver.pid")" 2>/dev/null || { log_tail "$DIR/s3rver.log"; die "s3rver exited"; }
	sleep 0.05
done
[ -n "$S3PORT" ] || { log_tail "$DIR/s3rver.log"; die "s3rver did not listen within ${WAIT_S}s"; }

seed=()
[ -n "${TARMAC_EMULATOR_SEED:-}" ] && seed=(--seed "$TARMAC_EMULATOR_SEED")
nohup "$PY" "$HERE/emulator.py" --port-file "$DIR/ports.json" \
	--s3-upstream "http://127.0.0.1:$S3PORT" --s3-data "$DIR/s3" --state-dir "$DIR/state" \
	"${seed[@]}" "$@" >"$DIR/emulator.log" 2>&1 </dev/null &
echo $! >"$DIR/emulator.pid"
for ((i = 0; i < WAIT_S * 20; i++)); do
	[ -s "$DIR/ports.json" ] && break
	kill -0 "$(cat "$DIR/emulator.pid")" 2>/dev/null || { log_tail "$DIR/emulator.log"; die "emulator exited"; }
	sleep 0.05
done
[ -s "$DIR/ports.json" ] || { log_tail "$DIR/emulator.log"; die "emulator did not listen within ${WAIT_S}s"; }

read -r PORT IMDS_PORT < <("$PY" -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["port"], d["imds_port"])' "$DIR/ports.json")
"$PY" - "$DIR/ports.json" "$S3PORT" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1])); d["s3rver_port"] = int(sys.argv[2])
json.dump(d, open(sys.argv[1], "w"))
EOF

# Both answer before we say so: the health call goes through to s3rver.
"$PY" - "$PORT" "$WAIT_S" <<'EOF' || { log_tail "$DIR/emulator.log"; die "emulator/s3rver not healthy"; }
import json, sys, time, urllib.request
port, wait = sys.argv[1], float(sys.argv[2])
end = time.time() + wait
while True:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/__admin/health", timeout=5) as r:
            if json.load(r).get("s3rver"):
                sys.exit(0)
    except OSError:
        pass
    if time.time() > end:
        sys.exit(1)
    time.sleep(0.05)
EOF

: >"$DIR/aws-config"
: >"$DIR/aws-credentials"
cat >"$DIR/aws-env" <<EOF
# written by tests/aws/start.sh; source it to point AWS clients at the emulator
unset AWS_SESSION_TOKEN AWS_SECURITY_TOKEN AWS_PROFILE AWS_DEFAULT_PROFILE AWS_CREDENTIAL_EXPIRATION
export AWS_ENDPOINT_URL=http://127.0.0.1:$PORT
export AWS_EC2_METADATA_SERVICE_ENDPOINT=http://127.0.0.1:$IMDS_PORT
export AWS_ACCESS_KEY_ID=AKIDTARMACTEST
export AWS_SECRET_ACCESS_KEY=tarmac-test-secret
export AWS_REGION=eu-central-1
export AWS_DEFAULT_REGION=eu-central-1
export AWS_CONFIG_FILE=$DIR/aws-config
export AWS_SHARED_CREDENTIALS_FILE=$DIR/aws-credentials
export TARMAC_EMULATOR_ADMIN=http://127.0.0.1:$PORT/__admin
export TARMAC_EMULATOR_READONLY_ACCESS_KEY_ID=AKIDTARMACREADONLY
export TARMAC_EMULATOR_READONLY_SECRET_ACCESS_KEY=tarmac-readonly-secret
export TARMAC_EMULATOR_INSTANCE_ID=i-0123456789abcdef0
export TARMAC_EMULATOR_S3RVER=http://127.0.0.1:$S3PORT
export TARMAC_EMULATOR_DIR=$DIR
EOF
echo "start.sh: AWS emulator on 127.0.0.1:$PORT (IMDS :$IMDS_PORT, s3rver :$S3PORT); source $DIR/aws-env"
