#!/bin/sh
# Prints the directory of the CI example checkers' node_modules/.bin (gitlab-ci-local,
# action-validator), installing them first if needed with `npm ci` from npm/package-lock.json
# (every version pinned, integrity-checked) into a cache directory outside the source tree,
# keyed by the lock file's hash. After that install the checkers run offline.
#   npm_tools.sh
set -eu
lock=$(dirname "$0")/npm
key=$(cat "$lock/package.json" "$lock/package-lock.json" | sha256sum | cut -c1-16)
dir=${XDG_CACHE_HOME:-$HOME/.cache}/kmod-sysext-tests/npm-$key
if [ ! -x "$dir/node_modules/.bin/gitlab-ci-local" ]; then
    command -v npm >/dev/null || { echo "npm_tools: npm is not installed (scripts/setup installs it)" >&2; exit 1; }
    mkdir -p "$(dirname "$dir")"
    partial=$(mktemp -d "$dir.partial-XXXXXX")
    trap 'rm -rf "$partial"' EXIT
    cp "$lock/package.json" "$lock/package-lock.json" "$partial/"
    (cd "$partial" && npm ci --no-audit --no-fund --loglevel=error) >&2
    # Another test may have installed it meanwhile: keep the first.
    mv -T "$partial" "$dir" 2>/dev/null || true
fi
echo "$dir/node_modules/.bin"
