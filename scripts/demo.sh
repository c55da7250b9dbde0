#!/usr/bin/env bash
# make demo — the local stack: PostgreSQL and MariaDB in a temp directory,
# database `users` (PostgreSQL, marked prod) and `products` (MariaDB), a demo
# tarmac.conf pointing at migrations/users and migrations/products, then
# tarmac on them. Leaving stops everything and removes the directory.
set -euo pipefail
cd "$(dirname "$0")/.."
DEMO=$(mktemp -d /tmp/tarmac-demo.XXXXXX)
cleanup() { tests/lib/servers.sh stop "$DEMO/servers" >/dev/null 2>&1 || true; rm -rf "$DEMO"; }
trap cleanup EXIT INT TERM HUP
mkdir -p "$DEMO/servers"
echo "Starting PostgreSQL and MariaDB in $DEMO ..."
tests/lib/servers.sh start "$DEMO/servers" >/dev/null
. "$DEMO/servers/env"
tests/lib/servers.sh createdb pg users "$DEMO/servers" >/dev/null
tests/lib/servers.sh createdb my products "$DEMO/servers" >/dev/null
cat >"$DEMO/tarmac.conf" <<CONF
[database "users"]
url = postgresql://postgres@127.0.0.1:$TARMAC_TEST_PG_PORT/users
locations = filesystem:$PWD/migrations/users
environment = prod

[database "products"]
url = mysql://tarmac:tarmac@127.0.0.1:$TARMAC_TEST_MY_PORT/products
locations = filesystem:$PWD/migrations/products
environment = dev
CONF
export TARMAC_CONFIG=$DEMO/tarmac.conf PATH="$PWD/build:$PATH"
for db in users products; do
	echo; echo "== tarmac -d $db info"
	tarmac -d "$db" info || true
done
if [ -t 0 ] && [ -t 1 ]; then
	tarmac || true   # the console; q leaves it
	cat <<MSG

tarmac is configured for both databases (TARMAC_CONFIG=$DEMO/tarmac.conf);
\`tarmac\` alone opens the console again.
Try:  tarmac -d products migrate      tarmac -d users migrate --dry-run
      tarmac -d users migrate          (users is prod: it asks for the name)
      tarmac -d users validate --json  tarmac databases
Leave the shell (exit or Ctrl-D) to stop the servers.
MSG
	PS1='tarmac-demo$ ' bash --norc -i || true
fi
