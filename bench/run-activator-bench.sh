#!/bin/sh
# Times `kmod-sysext-activate select` against bench/shell-activator.sh on the same store:
# N runs each, process start included, mean wall time per run and the ratio.
# Usage: bench/run-activator-bench.sh [RUNS] [EXTENSIONS] [IMAGES-PER-EXTENSION]
# The store is synthetic (empty image files): select reads names, not image contents, when no
# certificate is installed on the node.
set -eu
cd "$(dirname "$0")/.."
runs=${1:-200}
extensions=${2:-3}
per_extension=${3:-6}
activator=${KSX_ACTIVATOR:-build/bin/kmod-sysext-activate}
[ -x "$activator" ] || { echo "build first: scripts/setup" >&2; exit 2; }

tree=$(mktemp -d)
trap 'rm -rf "$tree"' EXIT
kernel=6.1.0-99-amd64
for e in $(seq "$extensions"); do
    dir="$tree/var/lib/kmod-sysext/ext$e"
    mkdir -p "$dir"
    for v in $(seq "$per_extension"); do
        for k in "$kernel" 6.12.99+deb12-amd64 6.1.0-98-amd64; do
            : >"$dir/ext${e}_1.$v.0_$k.raw"
        done
    done
done

time_runs() { # COMMAND... -> mean milliseconds per run
    start=$(date +%s%N)
    i=0
    while [ "$i" -lt "$runs" ]; do
        "$@" >/dev/null 2>&1
        i=$((i + 1))
    done
    end=$(date +%s%N)
    echo "$(( (end - start) / runs / 1000 ))"
}

ours=$(time_runs "$activator" --root="$tree" --kernel="$kernel" select)
for e in $(seq "$extensions"); do
    test "$(readlink "$tree/run/extensions/ext$e.raw")" = \
        "/var/lib/kmod-sysext/ext$e/ext${e}_1.${per_extension}.0_$kernel.raw"
done
rm -rf "$tree/run"
shell=$(time_runs sh bench/shell-activator.sh "$tree" "$kernel")
test -L "$tree/run/extensions/ext1.raw"

echo "store: $extensions extensions x $per_extension versions x 3 kernels; $runs runs each"
echo "kmod-sysext-activate select: $ours us/run"
echo "shell activator:             $shell us/run"
awk -v a="$ours" -v b="$shell" 'BEGIN { printf "ratio (ours / shell): %.2fx\n", a / b }'
