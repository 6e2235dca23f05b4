#!/bin/sh
# Reference for bench/run-activator-bench.sh: the select step as node scripts commonly do it in
# shell. For every extension directory in the store it links the newest image built for the
# kernel into /run/extensions. It checks no signatures and honours no pins.
# Usage: shell-activator.sh ROOT KERNEL
set -eu
root=$1
kernel=$2
store="$root/var/lib/kmod-sysext"
mkdir -p "$root/run/extensions"
for dir in "$store"/*/; do
    name=$(basename "$dir")
    newest=$(ls "$dir" | grep -E "^${name}_[^_]+_${kernel}\.raw\$" | sort -V | tail -n 1 || true)
    if [ -z "$newest" ]; then
        echo "no image of $name for kernel $kernel" >&2
        continue
    fi
    ln -sfn "$dir$newest" "$root/run/extensions/$name.raw"
done
