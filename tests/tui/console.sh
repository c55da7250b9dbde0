#!/usr/bin/env bash
# The console in a real terminal: the binary runs inside tmux against real
# PostgreSQL and MariaDB; keys are typed with send-keys and the screen is
# read with capture-pane.
set -u
cd "$(dirname "$0")/../.."
. tests/lib/assert.sh
. tests/lib/db.sh
WORK=$(mktemp -d /tmp/tarmac-tui.XXXXXX)
. tests/lib/tui.sh

PGURL=$(newdb pg tui_users); MYURL=$(newdb my tui_products); BROKENURL=$(newdb pg tui_broken)
mkdir -p "$WORK/broken"
printf 'CREATE TABLE fine (id int);\n' >"$WORK/broken/V1__fine.sql"
printf 'CREATE TABLE half (id int);\n\nSELEC 1;\n' >"$WORK/broken/V2__broken.sql"
cat >"$WORK/tarmac.conf" <<CONF
[database "users"]
url = $PGURL
locations = filesystem:$PWD/migrations/users
environment = prod

[database "products"]
url = $MYURL
locations = filesystem:$PWD/migrations/products

[database "broken"]
url = $BROKENURL
locations = filesystem:$WORK/broken
CONF

start 120 30 LANG=C.UTF-8
ok "the console shows both databases once loaded" wait_for_re ' products +v- 3 pend'
ok "users has its 2 pending migrations" on_screen '> users +v- 2 pend'
ok "products has its 3 pending migrations" on_screen ' products +v- 3 pend' 
ok "the diff of the selected database, with glyph and word" wait_for "… 1      create table persons"
contains "$(screen)" "PostgreSQL" "the pane names the engine"
T send-keys -t con v
ok "v validates (pending is a validate error, as in Flyway)" wait_for "Detected resolved migration not applied to database: 2."
T send-keys -t con Escape p
ok "p shows the plan: the dry-run script" wait_for "Plan users: 2 pending (dry run, nothing changed)"
ok "with line numbers" on_screen '│ +[0-9]+  SET search_path = "public";'
T send-keys -t con / 'ALTER TABLE' Enter
ok "/ searches the view: the script's second migration" wait_for "ALTER TABLE Persons ADD DateOfBirth date;"
T send-keys -t con Escape / Enter Enter d
ok "d shows the selected migration's checksums" wait_for "checksum file   1408735753"
ok "and that it has no history row" on_screen "history row     none \\(not applied\\)"
T send-keys -t con Escape s
ok "s shows its SQL with line numbers" wait_for "1  CREATE TABLE Persons ("
T send-keys -t con Escape h; sleep 0.3
T send-keys -t con j; sleep 0.3; T send-keys -t con Enter
ok "j and enter open products" wait_for "products · MariaDB"
contains "$(screen)" "products in stock" "its repeatable is listed"
T send-keys -t con o; sleep 0.3
ok "o hides the output pane" not_on_screen '─ Output'
T send-keys -t con o
ok "o again shows it" wait_for '─ Output'
T resize-window -t con -x 80 -y 24; sleep 0.5
ok "80x24: stacked panes" wait_for "┌─ Databases ──────────────────────────────"
T resize-window -t con -x 60 -y 15; sleep 0.5
ok "60x15 is still usable" not_on_screen 'too small'
ok "60x15 still shows the databases" on_screen 'Databases' 
T resize-window -t con -x 40 -y 10; sleep 0.5
ok "40x10: a too-small screen" wait_for "terminal too small: 40x10"
T resize-window -t con -x 100 -y 30; sleep 0.5
ok "and back to the full layout" wait_for "Databases › products"
T send-keys -t con P
ok "P shows what repair would change first" wait_for "Repair products"
T send-keys -t con Escape
T send-keys -t con q
ok "q quits cleanly" wait_for "CONSOLE-EXITED 0"
eq "$(q pg tui_users "SELECT count(*) FROM pg_tables WHERE tablename = 'flyway_schema_history'")" 0 \
	"the console's loads wrote nothing"

# read-only: every mutating key is refused, with a message, and nothing changes
T kill-server 2>/dev/null; sleep 0.5; rm -f "$SOCK"
T new-session -d -s con -x 120 -y 30 "env LANG=C.UTF-8 $TARMAC -c $WORK/tarmac.conf --read-only; echo CONSOLE-EXITED \$?; sleep 60"
ok "read-only: the console opens with the RO badge" wait_for " RO "
ok "RO in the header" on_screen ' RO  [0-9]{2}:[0-9]{2}Z' 
wait_for_re ' products +v- 3 pend' >/dev/null
ok "the footer hides the mutating keys" not_on_screen ' M migrate '
T send-keys -t con '?'
ok "help lists them greyed with the reason" wait_for "[blocked: read-only session]"
T send-keys -t con Escape
for key in M P R S; do
	T send-keys -t con "$key"
	ok "read-only refuses $key with a message" wait_for "is refused"
	T send-keys -t con j; sleep 0.2
done
eq "$(q pg tui_users "SELECT count(*) FROM pg_tables WHERE tablename = 'flyway_schema_history'")" 0 \
	"read-only: the database is unchanged"
T send-keys -t con q; wait_for "CONSOLE-EXITED 0" >/dev/null

# migrate a prod database: Confirm stays disabled until its name is typed
start 120 30 LANG=C.UTF-8
wait_for_re '> users +v- 2 pend' >/dev/null
T send-keys -t con M
ok "M opens the dialog with the plan" wait_for "2 pending migrations on users"
ok "prod asks for the name" wait_for "PROD: type users to enable Confirm"
T send-keys -t con Tab Enter
ok "Confirm cannot be chosen before the name is typed" wait_for "cancelled, nothing was changed"
eq "$(q pg tui_users "SELECT count(*) FROM pg_tables WHERE tablename = 'flyway_schema_history'")" 0 \
	"so nothing ran"
T send-keys -t con M; wait_for "PROD: type users" >/dev/null
T send-keys -t con -l users; T send-keys -t con Tab Enter
ok "after typing the name, migrate runs with per-statement progress" wait_for "statement 1 of 1"
ok "and reports the result" wait_for "migrate users: 2 migrations applied"
ok "the diff shows the new state" wait_for "users · PostgreSQL"
eq "$(q pg tui_users "SELECT string_agg(version, ',' ORDER BY installed_rank) FROM flyway_schema_history")" "1,2" \
	"the history holds both migrations"
T send-keys -t con q; wait_for "CONSOLE-EXITED 0" >/dev/null

# a failing migration: the statement, its line and the server's message
start 120 30 LANG=C.UTF-8
T send-keys -t con : db ' broken' Enter; wait_for_re '> broken +v- 2 pend' >/dev/null
T send-keys -t con M; wait_for "2 pending migrations on broken" >/dev/null
T send-keys -t con Tab Enter
ok "a failing migration names the file and the statement's line" wait_for "failed: V2__broken.sql line 3: SELEC 1"
ok "and the database's message" on_screen 'syntax error at or near "SELEC"'
ok "the diff shows what was applied before it" wait_for_re '✓ 1 +fine'
eq "$(q pg tui_broken "SELECT count(*) FROM pg_tables WHERE tablename = 'half'")" 0 \
	"the failed migration left nothing behind"
T send-keys -t con q; wait_for "CONSOLE-EXITED 0" >/dev/null

# a resize right after start, as an SSM session sends one once connected
start 80 24 LANG=C.UTF-8
T resize-window -t con -x 130 -y 35
ok "a resize right after start lays the panes out for the new size" wait_for_re '^┌─ Databases ─+┐┌─ users'
T send-keys -t con q; wait_for "CONSOLE-EXITED 0" >/dev/null

start 100 25 NO_COLOR=1 LANG=C
ok "NO_COLOR and an ASCII locale: states as glyph and word" wait_for "+ 1      create table persons     SQL"
ok "(the word)" on_screen 'Success' 
ok "ASCII borders" wait_for "+- Databases ---"
T send-keys -t con C-c
ok "SIGINT restores the terminal and exits" wait_for "CONSOLE-EXITED 130"
done_testing
