#!/bin/sh
# Packs one directory tree with ksx-bench-pack (our writer), mksquashfs and gensquashfs at
# the same zstd level and thread count; prints a markdown table (wall time, peak RSS, size,
# ratios against mksquashfs) and stores it as the "Squashfs writer" section of RESULTS.md.
#
# usage: bench/run-pack-bench.sh [--bin PATH/ksx-bench-pack] [--src DIR] [--level N]
#                                [--threads N] [--no-results]
# Default source: a copy of /usr/lib/x86_64-linux-gnu (regular files, directories and
# symlinks only) in ${XDG_CACHE_HOME:-$HOME/.cache}/kmod-sysext/bench/src.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
bin=${KSX_BENCH_PACK:-$here/../build/bin/ksx-bench-pack}
src=
level=15
threads=2
write_results=1
while [ $# -gt 0 ]; do
    case $1 in
    --bin) bin=$2; shift 2 ;;
    --src) src=$2; shift 2 ;;
    --level) level=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    --no-results) write_results=0; shift ;;
    *) echo "usage: $0 [--bin PATH] [--src DIR] [--level N] [--threads N] [--no-results]" >&2
       exit 2 ;;
    esac
done

for tool in "$bin" mksquashfs gensquashfs /usr/bin/time; do
    command -v "$tool" >/dev/null || { echo "$0: $tool not found" >&2; exit 1; }
done

work=${XDG_CACHE_HOME:-$HOME/.cache}/kmod-sysext/bench
mkdir -p "$work"
if [ -z "$src" ]; then
    src=$work/src
    if [ ! -d "$src" ]; then
        echo "copying /usr/lib/x86_64-linux-gnu to $src" >&2
        mkdir -p "$src.tmp"
        (cd /usr/lib/x86_64-linux-gnu &&
            find . \( -type f -o -type d -o -type l \) -print0 |
            tar --null --no-recursion -T - -cf -) | tar -C "$src.tmp" -xf -
        mv "$src.tmp" "$src"
    fi
    src_label="copy of /usr/lib/x86_64-linux-gnu"
else
    src_label=$src
fi

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
# Warm the page cache so every tool reads from memory.
tar -C "$src" -cf - . >/dev/null
input_mb=$(du -sm --apparent-size "$src" | cut -f1)
files=$(find "$src" | wc -l)

# run NAME COMMAND...: times one packer; records "NAME seconds kib bytes".
results=$work/results.txt
: >"$results"
run() {
    name=$1
    out=$2
    shift 2
    rm -f "$out"
    /usr/bin/time -f "%e %M" -o "$work/time.txt" "$@" >"$work/$name.log" 2>&1 ||
        { echo "$0: $name failed, see $work/$name.log" >&2; exit 1; }
    echo "$name $(cat "$work/time.txt") $(stat -c %s "$out")" >>"$results"
    echo "$name: $(cat "$work/time.txt") $(stat -c %s "$out")" >&2
}

run ksx "$work/ksx.raw" "$bin" "$src" "$work/ksx.raw" --level "$level" --threads "$threads"
run mksquashfs "$work/mksquashfs.raw" mksquashfs "$src" "$work/mksquashfs.raw" -comp zstd \
    -Xcompression-level "$level" -processors "$threads" -noappend -all-root -no-progress -quiet
run gensquashfs "$work/gensquashfs.raw" gensquashfs --pack-dir "$src" -c zstd -X "level=$level" \
    -j "$threads" --all-root -q -f "$work/gensquashfs.raw"

table=$(awk '
    { name[NR] = $1; t[NR] = $2; rss[NR] = $3; size[NR] = $4; if ($1 == "mksquashfs") ref = NR }
    END {
        print "| writer | wall time (s) | peak RSS (MiB) | image size (MiB) | time vs mksquashfs | size vs mksquashfs |"
        print "|---|---:|---:|---:|---:|---:|"
        for (i = 1; i <= NR; i++)
            printf "| %s | %.2f | %.1f | %.1f | %.2f | %.3f |\n", name[i], t[i], rss[i] / 1024,
                size[i] / 1048576, t[i] / t[ref], size[i] / size[ref]
    }' "$results")
echo "$table"

if [ "$write_results" = 1 ]; then
    cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')
    today=$(date -u +%Y-%m-%d)
    cat >"$work/section.md" <<SECTION
## Squashfs writer

Input: $src_label, $input_mb MiB in $files entries. zstd level $level, $threads threads,
block size 128 KiB. Machine: $(nproc) CPUs ($cpu), $today.
One run each, page cache warm; wall time and peak RSS from \`/usr/bin/time -f "%e %M"\`.
Load average before the runs: $load_before (other work on the machine makes the times
noisy; compare the ratios).

$table

Reproduce: \`bench/run-pack-bench.sh --bin build/bin/ksx-bench-pack --level $level --threads $threads\`,
which runs \`ksx-bench-pack SRC OUT --level $level --threads $threads\`,
\`mksquashfs SRC OUT -comp zstd -Xcompression-level $level -processors $threads -noappend -all-root\`
and \`gensquashfs --pack-dir SRC -c zstd -X level=$level -j $threads --all-root OUT\`.
SECTION
    file=$here/RESULTS.md
    [ -f "$file" ] || printf '# Benchmarks\n' >"$file"
    # Replace this section, keep the others.
    awk -v section_file="$work/section.md" '
        function put(line) { while ((getline line < section_file) > 0) print line; print "" }
        /^## / { skipping = ($0 == "## Squashfs writer"); if (skipping && !done) { put(); done = 1 } }
        !skipping { print }
        END { if (!done) { print ""; put() } }' "$file" >"$file.tmp"
    mv "$file.tmp" "$file"
    echo "wrote $file" >&2
fi
