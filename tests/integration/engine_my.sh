#!/usr/bin/env bash
# Engine integration cases on a real MariaDB (see tests/lib/engine_cases.sh).
set -u
cd "$(dirname "$0")/../.."
. tests/lib/assert.sh
. tests/lib/db.sh
D=my
. tests/lib/engine_cases.sh
for c in $(declare -F | awk '{print $3}' | grep '^case_'); do
	echo "# $c"
	"$c"
done
done_testing
