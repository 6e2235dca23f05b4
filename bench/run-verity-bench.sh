#!/bin/sh
# dm-verity hash tree of one data file: ksx-bench-verity (our implementation) against
# `veritysetup format` with the same salt and UUID, and against `openssl speed -evp sha256`
# on 4096-byte blocks. Checks that both trees are byte-identical, prints a markdown table and
# stores it as the "Verity" section of RESULTS.md.
#
# usage: bench/run-verity-bench.sh [--bin PATH/ksx-bench-verity] [--size MiB] [--runs N]
#                                  [--no-results]
# The data (random bytes) is kept in ${XDG_CACHE_HOME:-$HOME/.cache}/kmod-sysext/bench/.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
bin=${KSX_BENCH_VERITY:-$here/../build/bin/ksx-bench-verity}
size=1024
runs=3
write_results=1
while [ $# -gt 0 ]; do
    case $1 in
    --bin) bin=$2; shift 2 ;;
    --size) size=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    --no-results) write_results=0; shift ;;
    *) echo "usage: $0 [--bin PATH] [--size MiB] [--runs N] [--no-results]" >&2
       exit 2 ;;
    esac
done
for tool in "$bin" veritysetup openssl sha256sum; do
    command -v "$tool" >/dev/null || { echo "$0: $tool not found" >&2; exit 1; }
done

work=${XDG_CACHE_HOME:-$HOME/.cache}/kmod-sysext/bench
mkdir -p "$work"
data=$work/verity-${size}m.img
if [ ! -f "$data" ]; then
    head -c "$((size * 1024 * 1024))" /dev/urandom >"$data.tmp"
    mv "$data.tmp" "$data"
fi
cat "$data" >/dev/null # page cache warm for every run
salt=$(sha256sum "$data" | cut -d' ' -f1)
threads=$(nproc)

now() { date +%s.%N; }
best() { sort -n | head -n1; }

: >"$work/ksx.times"
: >"$work/ksx1.times"
: >"$work/vs.times"
for _ in $(seq "$runs"); do
    "$bin" "$data" "$work/ksx.verity" "$salt" --threads "$threads" >"$work/ksx.out"
    sed -n 's/^seconds //p' "$work/ksx.out" >>"$work/ksx.times"
    "$bin" "$data" "$work/ksx1.verity" "$salt" --threads 1 >"$work/ksx1.out"
    sed -n 's/^seconds //p' "$work/ksx1.out" >>"$work/ksx1.times"
    uuid=$(sed -n 's/^uuid //p' "$work/ksx.out")
    rm -f "$work/vs.verity"
    start=$(now)
    veritysetup format --hash=sha256 --data-block-size=4096 --hash-block-size=4096 \
        --salt="$salt" --uuid="$uuid" "$data" "$work/vs.verity" >"$work/vs.out"
    end=$(now)
    awk -v a="$end" -v b="$start" 'BEGIN { print a - b }' >>"$work/vs.times"
done
root=$(sed -n 's/^root //p' "$work/ksx.out")
vs_root=$(sed -n 's/^Root hash:[[:space:]]*//p' "$work/vs.out")
[ "$root" = "$vs_root" ] || { echo "$0: root hashes differ: $root vs $vs_root" >&2; exit 1; }
cmp "$work/ksx.verity" "$work/vs.verity" || { echo "$0: hash files differ" >&2; exit 1; }
cmp "$work/ksx1.verity" "$work/vs.verity" || { echo "$0: hash files differ" >&2; exit 1; }

# openssl speed: 1000s of bytes per second for 4096-byte blocks, one process, wall time.
speed=$(openssl speed -elapsed -evp sha256 -bytes 4096 -seconds 3 2>/dev/null |
    awk '$1 == "sha256" { sub(/k$/, "", $2); print $2 * 1000 }')
ksx=$(best <"$work/ksx.times")
ksx1=$(best <"$work/ksx1.times")
vs=$(best <"$work/vs.times")
bytes=$((size * 1024 * 1024))
table=$(awk -v ksx="$ksx" -v ksx1="$ksx1" -v vs="$vs" -v bytes="$bytes" -v speed="$speed" \
    -v threads="$threads" 'BEGIN {
    mib = bytes / 1048576
    printf "| tree writer | wall time (s) | MiB/s | time vs veritysetup | vs openssl speed (1 core) |\n"
    printf "|---|---:|---:|---:|---:|\n"
    printf "| ksx, %d threads | %.2f | %.0f | %.2f | %.0f%% |\n", threads, ksx, mib / ksx, ksx / vs, 100 * bytes / ksx / speed
    printf "| ksx, 1 thread | %.2f | %.0f | %.2f | %.0f%% |\n", ksx1, mib / ksx1, ksx1 / vs, 100 * bytes / ksx1 / speed
    printf "| veritysetup format | %.2f | %.0f | 1.00 | %.0f%% |\n", vs, mib / vs, 100 * bytes / vs / speed
    printf "| openssl speed -elapsed -evp sha256, 4096-byte blocks | | %.0f | | 100%% |\n", speed / 1048576
}')
echo "$table"

if [ "$write_results" = 1 ]; then
    load=$(cut -d' ' -f1-3 /proc/loadavg)
    cat >"$work/verity-section.md" <<SECTION
## Verity

Input: $size MiB of random data (page cache warm), sha256, 4096-byte data and hash blocks,
salt = SHA-256 of the data, UUID derived from it (as \`build\` does). Machine: $threads CPUs
($(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n1)), $(date +%Y-%m-%d),
load average $load. Best of $runs runs; both trees are byte-identical (checked with \`cmp\`).

$table

The tree costs one SHA-256 of every 4096-byte block plus 1/128 more for the upper levels;
the threads hash contiguous ranges of data blocks, the upper levels are hashed by one thread.

Reproduce: \`bench/run-verity-bench.sh --bin build/bin/ksx-bench-verity --size $size --runs $runs\`,
which runs \`ksx-bench-verity DATA OUT SALT --threads N\` (and \`--threads 1\`),
\`veritysetup format --hash=sha256 --data-block-size=4096 --hash-block-size=4096 --salt=SALT
--uuid=UUID DATA OUT\` and \`openssl speed -elapsed -evp sha256 -bytes 4096 -seconds 3\`
(wall time like the others: without \`-elapsed\` openssl counts only its own CPU time).
SECTION
    file=$here/RESULTS.md
    [ -f "$file" ] || printf '# Benchmarks\n' >"$file"
    # Replace this section, keep the others.
    awk -v section_file="$work/verity-section.md" '
        function put(line) { while ((getline line < section_file) > 0) print line; print "" }
        /^## / { skipping = ($0 == "## Verity"); if (skipping && !done) { put(); done = 1 } }
        !skipping { print }
        END { if (!done) { print ""; put() } }' "$file" >"$file.tmp"
    mv "$file.tmp" "$file"
    echo "wrote $file" >&2
fi
