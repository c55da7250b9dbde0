#!/usr/bin/env bash
# The layer rules of CONVENTIONS.md, checked on every include:
# base <- engine <- aws <- tui; only db_pg.c/db_my.c include client libraries;
# only tui/ includes curses; aws/ includes engine/engine.h in s3_source.c only.
set -u
cd "$(dirname "$0")/.."
fail=0
bad() { echo "check-deps: $1" >&2; fail=1; }

for f in base/*.[ch]; do
	grep -nE '#include *"(engine|aws|tui)/' "$f" && bad "$f: base/ includes a higher layer"
done
for f in engine/*.[ch]; do
	grep -nE '#include *"(aws|tui)/' "$f" && bad "$f: engine/ includes aws/ or tui/"
	grep -nE '#include *<(n?curses|curl/|openssl/|cjson/|cJSON|expat)' "$f" && bad "$f: engine/ includes a forbidden library"
	case "$f" in
	engine/db_pg.c) ;;
	*) grep -nE '#include *<(postgresql/)?libpq' "$f" && bad "$f: only engine/db_pg.c may include libpq" ;;
	esac
	case "$f" in
	engine/db_my.c) ;;
	*) grep -nE '#include *<(mariadb/|mysql/)?(mysql|mariadb)' "$f" && bad "$f: only engine/db_my.c may include mysql.h" ;;
	esac
done
for f in aws/*.[ch]; do
	[ -e "$f" ] || continue
	grep -nE '#include *"tui/' "$f" && bad "$f: aws/ includes tui/"
	grep -nE '#include *<(n?curses)' "$f" && bad "$f: only tui/ includes curses"
	case "$f" in
	aws/s3_source.c) ;;
	*) grep -nE '#include *"engine/' "$f" && bad "$f: only aws/s3_source.c may include engine/engine.h" ;;
	esac
done
# Outside a module only its public header: engine.h, aws.h, base/*.h.
for f in tui/*.[ch] aws/*.[ch]; do
	[ -e "$f" ] || continue
	grep -nE '#include *"engine/[a-z_]+\.h"' "$f" | grep -vE 'engine/engine\.h' && bad "$f: include engine/engine.h only"
done
for f in tui/*.[ch]; do
	grep -nE '#include *"aws/[a-z_]+\.h"' "$f" | grep -vE 'aws/aws\.h' && bad "$f: include aws/aws.h only"
done
[ $fail = 0 ] && echo "check-deps: ok"
exit $fail
