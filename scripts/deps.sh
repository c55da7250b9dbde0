#!/usr/bin/env bash
# Installs what building and testing tarmac needs, when it is missing:
# Debian packages (sudo when not root) and the pinned npm test packages.
# Does nothing (and says nothing) when everything is already there.
set -euo pipefail
cd "$(dirname "$0")/.."

debs=(build-essential pkg-config clang libclang-rt-14-dev
      libncurses-dev libcurl4-openssl-dev libssl-dev libpq-dev libmariadb-dev
      libcjson-dev libexpat1-dev zlib1g-dev libinih-dev libcmocka-dev
      postgresql postgresql-client mariadb-server mariadb-client
      tmux python3 python3-botocore awscli nodejs npm clang-tidy cppcheck
      procps util-linux curl bc)

missing=()
for p in "${debs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
# nodejs/npm may come from elsewhere than Debian on some machines: a working
# node and npm on PATH is as good.
if command -v node >/dev/null && command -v npm >/dev/null; then
	m=(); for p in "${missing[@]}"; do [[ $p == nodejs || $p == npm ]] || m+=("$p"); done
	missing=("${m[@]+"${m[@]}"}")
fi
if ((${#missing[@]})); then
	sudo=; [ "$(id -u)" = 0 ] || sudo=sudo
	echo "deps: installing ${missing[*]}" >&2
	$sudo apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if [ -f tests/package.json ] && [ ! -d tests/node_modules/s3rver ]; then
	echo "deps: installing pinned npm test packages" >&2
	(cd tests && npm install --no-audit --no-fund --silent >/dev/null)
fi
