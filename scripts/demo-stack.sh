#!/usr/bin/env bash
# demo-stack.sh up DIR | down DIR — the stack behind `make demo`, on loopback,
# everything inside DIR (which up creates; it must not exist or be empty).
#
#   up DIR    PostgreSQL and MariaDB (tests/lib/servers.sh), s3rver and the
#             AWS emulator (tests/aws/start.sh); databases `users`
#             (PostgreSQL, environment prod) and `products` (MariaDB, dev);
#             buckets `users` and `products` holding migrations/users and
#             migrations/products (uploaded with `tarmac push`); the emulated
#             Flyway host in DIR/host; writes
#               DIR/tarmac.conf  the operator's: [aws] [console] [ssm], both
#                                databases on s3: locations
#               DIR/env          `export` lines: servers, emulator endpoint
#                                and credentials, TARMAC_CONFIG, PATH
#   down DIR  stops all of it — the emulator first (it kills the SSM commands
#             it runs), s3rver, both servers, then any process still running
#             from DIR — and removes DIR.
#
# The emulated Flyway host: the emulator runs each SSM command locally, in its
# own environment with the instance's IMDS role and no static keys, like the
# SSM agent does. The [ssm] command calls DIR/host/flyway-host.sh with the
# (shell-quoted) bucket, prefix, database and action; it syncs the bucket to
# a fresh directory with `aws s3 sync` and runs `tarmac migrate` (or the other
# action) there with the host's own DIR/host/tarmac.conf — tarmac's line mode
# stands in for Flyway, which would need Java.
#
# Invariants: binds 127.0.0.1 only and never reaches real AWS; down acts only
# on a directory up marked (DIR/.tarmac-demo-stack) and signals only
# processes whose command line or working directory lies inside DIR.
# $TARMAC selects the binary (default build/tarmac).
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$PWD
MARK=.tarmac-demo-stack

die() { echo "demo-stack: $*" >&2; exit 1; }
say() { echo "demo-stack: $*" >&2 || true; } # the terminal may be gone

# Only plain paths: DIR goes into a shell command, an INI file and URLs.
abs_dir() {
	local d=$1
	[[ $d == /* ]] || d=$PWD/$d
	[[ $d =~ ^/[A-Za-z0-9._/-]+$ ]] || die "DIR must be a plain path (A-Z a-z 0-9 . _ / -): $1"
	echo "${d%/}"
}

# Single-quoted for /bin/sh.
sq() { printf "'%s'" "${1//\'/\'\\\'\'}"; }

# ---- up -------------------------------------------------------------------

need_aws_cli() {
	[ -x /usr/bin/aws ] && return 0
	local sudo=
	[ "$(id -u)" = 0 ] || sudo=sudo
	say "installing awscli (the emulated Flyway host syncs buckets with it)"
	$sudo apt-get install -y -qq --no-install-recommends awscli >/dev/null ||
		die "cannot install the Debian package awscli"
}

write_host() { # DIR TARMAC
	local dir=$1 tarmac=$2 host=$1/host
	mkdir -p "$host/cache"
	: >"$host/aws-config"
	: >"$host/aws-credentials"
	cat >"$host/tarmac.conf" <<-CONF
		; The emulated Flyway host's own configuration (on a real host: Flyway's
		; conf files). Locations come from the command line: the synced bucket.
		[database "users"]
		url = postgresql://postgres@127.0.0.1:$TARMAC_TEST_PG_PORT/users
		environment = prod

		[database "products"]
		url = mysql://tarmac:tarmac@127.0.0.1:$TARMAC_TEST_MY_PORT/products
		environment = dev
	CONF
	{
		cat <<-'HEAD'
			#!/bin/sh
			# flyway-host.sh BUCKET PREFIX DATABASE ACTION — what the demo's [ssm]
			# command runs on the emulated Flyway host: sync s3://BUCKET/PREFIX to a
			# fresh directory, then run ACTION (migrate, info, validate, repair,
			# baseline) on DATABASE from it. Credentials are the instance's (IMDS).
			set -eu
			[ $# -eq 4 ] || { echo "usage: flyway-host.sh BUCKET PREFIX DATABASE ACTION" >&2; exit 2; }
			bucket=$1 prefix=$2 database=$3 action=$4
		HEAD
		printf 'HOST=%s\nTARMAC=%s\n' "$(sq "$host")" "$(sq "$tarmac")"
		cat <<-'BODY'
			: "${AWS_ENDPOINT_URL:?the emulator sets AWS_ENDPOINT_URL for its commands}"
			export AWS_CONFIG_FILE="$HOST/aws-config" AWS_SHARED_CREDENTIALS_FILE="$HOST/aws-credentials"
			export XDG_CACHE_HOME="$HOST/cache"
			unset TARMAC_CONFIG
			work=$(mktemp -d "$HOST/sync.XXXXXX")
			trap 'rm -rf "$work"' EXIT
			echo "flyway-host: aws s3 sync s3://$bucket/$prefix"
			# awscli 2.9 appends "latest/api/token" to the IMDS endpoint as written
			imds=${AWS_EC2_METADATA_SERVICE_ENDPOINT:+${AWS_EC2_METADATA_SERVICE_ENDPOINT%/}/}
			AWS_EC2_METADATA_SERVICE_ENDPOINT=$imds /usr/bin/aws --endpoint-url "$AWS_ENDPOINT_URL" \
			    s3 sync --only-show-errors --no-progress "s3://$bucket/$prefix" "$work"
			echo "flyway-host: tarmac -d $database $action ($(ls "$work" | wc -l) files)"
			"$TARMAC" -c "$HOST/tarmac.conf" -d "$database" --locations "filesystem:$work" --yes "$action"
		BODY
	} >"$host/flyway-host.sh"
	chmod +x "$host/flyway-host.sh"
}

write_conf() { # DIR
	local dir=$1
	cat >"$dir/tarmac.conf" <<-CONF
		; tarmac.conf for the demo (scripts/demo-stack.sh): AWS is the local
		; emulator, reached through AWS_ENDPOINT_URL and the keys in env.
		[aws]
		region = eu-central-1

		[console]
		theme = default
		read_only = false

		[ssm]
		target = $TARMAC_EMULATOR_INSTANCE_ID
		document = AWS-RunShellScript
		log_group = /tarmac/demo
		command = /bin/sh $(sq "$dir/host/flyway-host.sh") {bucket} {prefix} {database} {action}

		[database "users"]
		url = postgresql://postgres@127.0.0.1:$TARMAC_TEST_PG_PORT/users
		locations = s3:users
		environment = prod

		[database "products"]
		url = mysql://tarmac:tarmac@127.0.0.1:$TARMAC_TEST_MY_PORT/products
		locations = s3:products
		environment = dev
	CONF
}

write_env() { # DIR TARMAC
	local dir=$1 tarmac=$2
	{
		echo "# written by scripts/demo-stack.sh up; source it to use the demo stack"
		grep -v '^#' "$dir/servers/env"
		grep -v '^#' "$dir/aws/aws-env"
		echo "export TARMAC_CONFIG=$dir/tarmac.conf"
		echo "export XDG_CACHE_HOME=$dir/cache"
		echo "export TARMAC_DEMO_DIR=$dir"
		echo "export PATH=$(dirname "$tarmac"):\$PATH"
	} >"$dir/env"
}

# servers.sh picks free ports before the servers bind them; on a busy machine
# another process may take one in between, so a failed start is retried.
start_servers() { # DIR
	local dir=$1 try
	for try in 1 2 3; do
		setsid -w tests/lib/servers.sh start "$dir/servers" >/dev/null 2>"$dir/servers.log" &&
			return 0
		[ "$try" = 3 ] && break
		say "PostgreSQL or MariaDB did not start (attempt $try; $(grep -m1 -E 'ERROR|FATAL' "$dir/servers.log" || true)); retrying"
		tests/lib/servers.sh stop "$dir/servers" >/dev/null 2>&1 || true
		rm -rf "$dir/servers" && mkdir "$dir/servers"
	done
	cat "$dir/servers.log" >&2
	return 1
}

UP_DIR=
cmd_up() {
	local dir tarmac
	dir=$(abs_dir "$1")
	UP_DIR=$dir
	tarmac=${TARMAC:-$REPO/build/tarmac}
	[[ $tarmac == /* ]] || tarmac=$REPO/$tarmac
	[ -x "$tarmac" ] || die "$tarmac not built: run make"
	if [ -e "$dir" ] && [ -n "$(ls -A "$dir")" ]; then
		die "$dir is not empty: give a new directory"
	fi
	need_aws_cli
	mkdir -p "$dir/servers" "$dir/cache"
	: >"$dir/$MARK"
	# From here a failure stops whatever started (DIR stays, for its logs).
	trap 'say "up failed; stopping what started (logs in $UP_DIR)"; stop_all "$UP_DIR"' EXIT
	trap 'exit 130' INT TERM HUP
	say "starting PostgreSQL and MariaDB"
	# setsid: the services stop on `down` only, never on the terminal's signals.
	start_servers "$dir"
	# shellcheck disable=SC1091
	. "$dir/servers/env"
	tests/lib/servers.sh createdb pg users "$dir/servers" >/dev/null
	tests/lib/servers.sh createdb my products "$dir/servers" >/dev/null
	say "starting s3rver and the AWS emulator"
	setsid -w tests/aws/start.sh "$dir/aws" >/dev/null
	# shellcheck disable=SC1091
	. "$dir/aws/aws-env"
	export XDG_CACHE_HOME=$dir/cache
	write_host "$dir" "$tarmac"
	write_conf "$dir"
	write_env "$dir" "$tarmac"
	local db
	for db in users products; do
		curl -sf -X POST -H 'Content-Type: application/json' "$TARMAC_EMULATOR_ADMIN/bucket" \
			--data "{\"name\": \"$db\"}" >/dev/null
		"$tarmac" -c "$dir/tarmac.conf" push -d "$db" --from "migrations/$db" >/dev/null
	done
	trap - EXIT INT TERM HUP
	say "up: source $dir/env; stop with: scripts/demo-stack.sh down $dir"
}

# ---- down -----------------------------------------------------------------

# Processes started from DIR: an argument names a path inside it, or their
# working directory is inside it. Never this script, its subshells (our
# process group: the services and the SSM commands run in sessions of their
# own) or its callers. DIR reaches awk through the environment, so no
# helper's own command line names it.
pids_in() { # DIR
	local dir=$1 a=$$ skip pgid
	pgid=$(ps -o pgid= -p $$ | tr -d ' ')
	skip=" $$ "
	while a=$(ps -o ppid= -p "$a" 2>/dev/null | tr -d ' ') && [ -n "$a" ] && [ "$a" -gt 1 ]; do
		skip+="$a "
	done
	{
		ps -eo pid=,pgid=,args= | DEMO_DIR=$dir awk -v pg="$pgid" '$2 != pg {
			d = ENVIRON["DEMO_DIR"]
			for (i = 3; i <= NF; i++)
				if ($i == d || index($i, d "/")) { print $1; break }
		}'
		find /proc -mindepth 2 -maxdepth 2 -name cwd \( -lname "$dir" -o -lname "$dir/*" \) \
			2>/dev/null | cut -d/ -f3 | while read -r p; do
			[ "$(ps -o pgid= -p "$p" 2>/dev/null | tr -d ' ')" = "$pgid" ] || echo "$p"
		done
	} | sort -un | while read -r p; do
		[[ $skip == *" $p "* ]] || echo "$p"
	done
}

stop_all() { # DIR
	local dir=$1 pids i
	[ -d "$dir/aws" ] && tests/aws/stop.sh "$dir/aws" >/dev/null 2>&1
	[ -d "$dir/servers" ] && tests/lib/servers.sh stop "$dir/servers" >/dev/null 2>&1
	pids=$(pids_in "$dir")
	[ -z "$pids" ] && return 0
	say "stopping leftover process(es) from $dir:"
	# shellcheck disable=SC2086
	ps -o pid=,args= -p "$(echo $pids | tr ' ' ,)" >&2 || true
	# shellcheck disable=SC2086
	kill -TERM $pids 2>/dev/null || true
	for ((i = 0; i < 50; i++)); do
		pids=$(pids_in "$dir")
		[ -z "$pids" ] && return 0
		sleep 0.1
	done
	# shellcheck disable=SC2086
	kill -KILL $pids 2>/dev/null || true
	return 0
}

cmd_down() {
	local dir
	dir=$(abs_dir "$1")
	[ -d "$dir" ] || return 0
	[ -e "$dir/$MARK" ] || die "$dir was not made by demo-stack.sh up: leaving it alone"
	stop_all "$dir" || true
	rm -rf "$dir"
}

case "${1:-}" in
up) [ $# = 2 ] || die "usage: demo-stack.sh up DIR"; cmd_up "$2" ;;
down) [ $# = 2 ] || die "usage: demo-stack.sh down DIR"; cmd_down "$2" ;;
*) die "usage: demo-stack.sh up DIR | down DIR" ;;
esac
