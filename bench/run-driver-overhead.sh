#!/bin/sh
# kmod-sysext's own overhead on a real driver build: runs `kmod-sysext build MANIFEST` (all its
# kernels, --jobs 1, signed with a throw-away key) and splits the wall time into the compiler's
# share (the build commands and DKMS steps, as timed in each kernel's build.log) and
# everything else (container and source preparation, strip, modinfo, module signing, packing,
# verity). Prints a markdown table; the developer container and downloads come from the cache
# as in any run (run once before measuring to exclude first downloads).
#
# usage: bench/run-driver-overhead.sh [--bin PATH/kmod-sysext] MANIFEST [BUILD ARGS...]
set -eu

here=$(cd "$(dirname "$0")" && pwd)
bin=$here/../build/bin/kmod-sysext
if [ "${1-}" = --bin ]; then
    bin=$2
    shift 2
fi
manifest=${1:?usage: $0 [--bin PATH] MANIFEST [BUILD ARGS...]}
shift
work=$(mktemp -d "${TMPDIR:-/tmp}/ksx-overhead-XXXXXX")
trap 'rm -rf "$work"' EXIT

"$bin" keygen --quiet --out "$work/key" --cn "kmod-sysext overhead bench" >/dev/null
/usr/bin/time -f "%e %M" -o "$work/time" "$bin" build "$manifest" --output "$work/out" \
    --jobs 1 --keep-work --no-cache --sign-key "$work/key/key.pem" --sign-cert "$work/key/cert.pem" "$@" \
    >"$work/result.txt" 2>"$work/build.err" || { cat "$work/build.err" >&2; exit 1; }
kept=$(sed -n 's/^work directory kept: //p' "$work/build.err")
[ -d "$kept" ] || { echo "$0: no work directory in the build's output" >&2; exit 1; }

total=$(sed -n 's/^built [0-9]* image(s) in \([0-9.]*\) s$/\1/p' "$work/result.txt")
[ -n "$total" ] || { cat "$work/result.txt" "$work/build.err" >&2; exit 1; }
read -r elapsed rss <"$work/time"
echo "| kernel | compile (s) |"
echo "|---|---:|"
compile=0
for log in "$kept"/*/build.log; do
    kernel=$(basename "$(dirname "$log")")
    seconds=$(sed -n -e 's/^# build command [0-9]*: \([0-9.]*\) s$/\1/p' \
        -e 's/^# dkms [A-Z_]*: \([0-9.]*\) s$/\1/p' "$log" | awk '{ s += $1 } END { printf "%.1f", s }')
    echo "| $kernel | $seconds |"
    compile=$(awk -v a="$compile" -v b="$seconds" 'BEGIN { printf "%.1f", a + b }')
done
images=$(cd "$work/out" && for f in *.raw; do printf '%s %s MiB; ' "$f" "$(($(stat -c %s "$f") / 1048576))"; done)
reused=$(grep '^reused ' "$work/build.err" || echo "no compressed blocks reused")
echo
echo "| | seconds | share |"
echo "|---|---:|---:|"
awk -v t="$total" -v c="$compile" 'BEGIN {
    printf "| total wall time | %.1f | 100 %% |\n", t
    printf "| compile, all kernels | %.1f | %.1f %% |\n", c, 100 * c / t
    printf "| kmod-sysext overhead | %.1f | %.1f %% |\n", t - c, 100 * (t - c) / t
}'
echo
echo "peak RSS of kmod-sysext: $((rss / 1024)) MiB; /usr/bin/time: $elapsed s; $reused"
echo "images: $images"
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
rm -rf "$kept"
