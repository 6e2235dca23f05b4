#!/bin/sh
# The build cache and the compiler cache, measured in one run (the machine may be shared: compare
# the ratios, not the seconds):
#   1. hello, no-op rebuild: built once, then again with nothing changed: wall time, peak RSS,
#      commands run in the container (0: no compiler), images byte-identical;
#   2. nvidia-open, Debian 12 target (two kernels): both kernels (--jobs 1, in the manifest's
#      order) with an empty compiler cache, so the second kernel finds what the first compiled
#      (this first run also fetches the packages if they are not cached: it can only come out
#      slower), then the first kernel alone (the second skipped, same container) with another
#      empty compiler cache; the ratio of the wall times and ccache's hits and misses per
#      kernel; then a no-op rebuild of both from the build cache.
# The nvidia builds run with `nice`. The developer containers are made (or taken from the
# cache) before any timing, with `plan --resolve`. Prints markdown for bench/RESULTS.md.
#
# With --skip-ratio, step 2 is only a build of both kernels into the build cache (the default
# compiler cache, warm or not) and the no-op rebuild after it.
#
# usage: bench/run-build-cache-bench.sh [--bin PATH/kmod-sysext] [--skip-hello] [--skip-nvidia]
#                                       [--skip-ratio]
set -eu

here=$(cd "$(dirname "$0")" && pwd)
src=$here/..
bin=$src/build/bin/kmod-sysext
nvidia=yes
hello=yes
ratio=yes
while [ $# -gt 0 ]; do
    case $1 in
    --bin) bin=$2; shift 2 ;;
    --skip-nvidia) nvidia=no; shift ;;
    --skip-hello) hello=no; shift ;;
    --skip-ratio) ratio=no; shift ;;
    *) echo "usage: $0 [--bin PATH] [--skip-hello] [--skip-nvidia] [--skip-ratio]" >&2; exit 2 ;;
    esac
done
# BENCH_WORK: a directory to keep the runs' outputs in (default: a temp dir removed at exit).
if [ -n "${BENCH_WORK:-}" ]; then
    work=$BENCH_WORK
    mkdir -p "$work"
else
    work=$(mktemp -d "${TMPDIR:-/tmp}/ksx-cache-bench-XXXXXX")
    trap 'rm -rf "$work"' EXIT
fi
export KSX_BUILD_CACHE=on

# timed NAME ARGS...: runs `kmod-sysext ARGS --json` (with $niced in front); NAME.json (the result), NAME.time
# ("wall-seconds peak-rss-kib").
timed() {
    name=$1
    shift
    $niced /usr/bin/time -f "%e %M" -o "$work/$name.time" "$bin" "$@" --json \
        >"$work/$name.json" 2>"$work/$name.err" || { cat "$work/$name.err" >&2; exit 1; }
}
wall() { cut -d' ' -f1 "$work/$1.time"; }
rss_mib() { awk '{ printf "%.0f", $2 / 1024 }' "$work/$1.time"; }
json() { python3 -c 'import json, sys; r = json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$work/$1.json" "$2"; }
same_bytes() { # DIR1 DIR2: every file of DIR1 equal in DIR2
    for f in "$1"/*; do cmp -s "$f" "$2/$(basename "$f")" || { echo no; return; }; done
    echo yes
}

"$bin" keygen --quiet --out "$work/key" --cn "kmod-sysext cache bench" >/dev/null
sign="--sign-key $work/key/key.pem --sign-cert $work/key/cert.pem"

# hello's runs are short and timed as a user sees them: not niced (on a loaded machine a niced
# process waits for the CPU longer than it takes to run).
niced=
if [ "$hello" = yes ]; then
# 1. hello: the first build (cold build cache: the key is new) and the no-op rebuild.
cp -r "$src/manifests/hello" "$src/manifests/hello.yaml" "$work/"
"$bin" plan --resolve "$work/hello.yaml" >/dev/null
# shellcheck disable=SC2086
timed hello-first build "$work/hello.yaml" --output "$work/hello-first" $sign
# Three no-op rebuilds: a run may wait for a lock another user of the cache holds.
for i in 1 2 3; do
    # shellcheck disable=SC2086
    timed hello-noop$i build "$work/hello.yaml" --output "$work/hello-noop$i" $sign
done
echo "### No-op rebuild of hello (one kernel, signed)"
echo
echo "| run | wall time (s) | peak RSS (MiB) | build cache | container runs | images byte-identical |"
echo "|---|---:|---:|---|---:|---|"
echo "| first build | $(wall hello-first) | $(rss_mib hello-first) | $(json hello-first 'r["images"][0]["build_cache"]') | $(json hello-first 'r["container_runs"]') | |"
for i in 1 2 3; do
    echo "| no-op rebuild $i | $(wall hello-noop$i) | $(rss_mib hello-noop$i) | $(json hello-noop$i 'r["images"][0]["build_cache"]') | $(json hello-noop$i 'r["container_runs"]') | $(same_bytes "$work/hello-first" "$work/hello-noop$i") |"
done
echo
fi

[ "$nvidia" = yes ] || exit 0
niced=nice

# 2. nvidia-open for Debian 12: the manifest narrowed to that target, and to its first kernel.
cp -r "$src/manifests/nvidia" "$src/manifests/patches" "$work/"
python3 - "$src/manifests/nvidia-open.yaml" "$work" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
# Drop the debian-13 target (from its "- name:" to "sources:") and every list item of the
# top-level lists that names only it.
text = re.sub(r"  - name: debian-13\n.*?(?=^sources:)", "", text, flags=re.S | re.M)
out = []
for block in re.split(r"(?m)^(?=  - |[a-z])", text):
    if block.startswith("  - ") and "targets: [debian-13]" in block:
        continue
    out.append(block)
two = "".join(out)
assert "debian-13]" not in two and "name: debian-12" in two
open(sys.argv[2] + "/nvidia12.yaml", "w").write(two)
# One kernel in the same developer container: the 6.12 kernel is skipped by an `unsupported:`
# source entry (so its headers, and the container, stay).
one = two.replace("sources:\n", "sources:\n  - unsupported: \"bench: one kernel\"\n    kernels: {min: \"6.12\"}\n", 1)
assert one != two
open(sys.argv[2] + "/nvidia12-one.yaml", "w").write(one)
PY
# The containers (and the packages, fetched by a first build of each if missing) before timing.
"$bin" plan --resolve "$work/nvidia12.yaml" >/dev/null
if [ "$ratio" = no ]; then
    # shellcheck disable=SC2086
    timed nv-fill build "$work/nvidia12.yaml" --output "$work/nv-fill" --jobs 1 $sign
    # shellcheck disable=SC2086
    timed nv-noop build "$work/nvidia12.yaml" --output "$work/nv-noop" --jobs 1 $sign
    echo "### nvidia-open 535.261.03, Debian 12 (two kernels, split images): no-op rebuild"
    echo
    echo "| run | wall time (s) | peak RSS (MiB) | build cache | container runs | images byte-identical |"
    echo "|---|---:|---:|---|---:|---|"
    for run in nv-fill nv-noop; do
        echo "| $run | $(wall $run) | $(rss_mib $run) | $(json $run '", ".join(i["build_cache"] for i in r["images"])') | $(json $run 'r["container_runs"]') | $(same_bytes "$work/nv-fill" "$work/$run") |"
    done
    exit 0
fi
# shellcheck disable=SC2086
KSX_COMPILER_CACHE=$work/ccache-two && export KSX_COMPILER_CACHE && timed nv-two build "$work/nvidia12.yaml" \
    --output "$work/nv-two" --jobs 1 --no-cache $sign
# shellcheck disable=SC2086
KSX_COMPILER_CACHE=$work/ccache-one && export KSX_COMPILER_CACHE && timed nv-one build "$work/nvidia12-one.yaml" \
    --output "$work/nv-one" --jobs 1 --no-cache $sign
unset KSX_COMPILER_CACHE
# shellcheck disable=SC2086
timed nv-noop build "$work/nvidia12.yaml" --output "$work/nv-noop" --jobs 1 $sign

rate() { # NAME INDEX
    json "$1" "'{h} hits / {m} misses ({p:.0f} %)'.format(h=r['images'][$2]['compiler_cache']['hits'], m=r['images'][$2]['compiler_cache']['misses'], p=100 * r['images'][$2]['compiler_cache']['hits'] / max(1, r['images'][$2]['compiler_cache']['hits'] + r['images'][$2]['compiler_cache']['misses']))"
}
echo "### nvidia-open 535.261.03, Debian 12 (two kernels), compiler cache across kernels"
echo
echo "| run | wall time (s) | peak RSS (MiB) | ccache per kernel |"
echo "|---|---:|---:|---|"
echo "| one kernel ($(json nv-one 'r["images"][0]["kernel"]')), empty ccache | $(wall nv-one) | $(rss_mib nv-one) | $(rate nv-one 0) |"
echo "| two kernels, empty ccache, --jobs 1 | $(wall nv-two) | $(rss_mib nv-two) | $(json nv-two 'r["images"][0]["kernel"]'): $(rate nv-two 0); $(json nv-two 'r["images"][1]["kernel"]'): $(rate nv-two 1) |"
echo "| no-op rebuild of both (build cache) | $(wall nv-noop) | $(rss_mib nv-noop) | container runs: $(json nv-noop 'r["container_runs"]'), hits: $(json nv-noop 'r["build_cache_hits"]'), byte-identical: $(same_bytes "$work/nv-two" "$work/nv-noop") |"
echo
awk -v a="$(wall nv-two)" -v b="$(wall nv-one)" 'BEGIN { printf "Two kernels / one kernel: %.2f\n", a / b }'
