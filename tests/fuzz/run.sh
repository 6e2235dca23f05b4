#!/bin/bash
# Runs the libFuzzer harnesses for N minutes each (default 10), two at a time, at low priority,
# and prints a line per harness for README.md: run time, executions, coverage (cov/ft), crashes.
# Usage: tests/fuzz/run.sh [minutes] [harness...]   (default: every harness built)
# Needs the fuzz build: cmake --preset fuzz && cmake --build build-fuzz --target fuzz
# Each harness runs in bubblewrap with / read-only: a parser that wrote outside its temporary
# directories would fail instead of changing the machine. New inputs go to
# build-fuzz/fuzz-run/<harness>/corpus (not to the committed seeds), crashes and the log next to
# them.
set -eu
cd "$(dirname "$0")/../.."
build=${KSX_FUZZ_BUILD:-build-fuzz}
out=$(realpath -m "$build/fuzz-run")

run_one() { # minutes harness
    local minutes=$1 h=$2 sandbox=()
    local bin work started
    bin=$(realpath "$build/fuzz/ksx-fuzz-$h")
    work=$out/$h
    mkdir -p "$work/corpus"
    rm -f "$work"/crash-* "$work"/leak-* "$work"/timeout-* "$work"/oom-*
    if bwrap --ro-bind / / --dev /dev --proc /proc true 2>/dev/null; then
        sandbox=(bwrap --ro-bind / / --dev /dev --proc /proc --tmpfs /tmp --tmpfs /dev/shm
                 --bind "$out" "$out")
    else
        echo "run.sh: bubblewrap does not work here; $h runs without the read-only sandbox" >&2
    fi
    started=$(date -u +%Y-%m-%dT%H:%MZ)
    # -timeout: an input taking 25 s is a finding; -rss_limit_mb: so is 2 GiB of memory.
    nice -n 10 "${sandbox[@]}" "$bin" -max_total_time=$((minutes * 60)) -timeout=25 \
        -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$work/" "$work/corpus" \
        "$PWD/tests/fuzz/corpus/$h" >"$work/log" 2>&1 || true
    local execs secs cov ft crashes
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/log" | tail -1)
    secs=$(sed -n 's/^Done [0-9]* runs in \([0-9]*\) second.*/\1/p' "$work/log" | tail -1)
    cov=$(grep -o 'cov: [0-9]*' "$work/log" | tail -1 | cut -d' ' -f2)
    ft=$(grep -o 'ft: [0-9]*' "$work/log" | tail -1 | cut -d' ' -f2)
    crashes=$(find "$work" -maxdepth 1 \( -name 'crash-*' -o -name 'leak-*' -o -name 'timeout-*' \
        -o -name 'oom-*' \) | wc -l)
    echo "| $h | $started | ${secs:-stopped early} | ${execs:-?} | ${cov:-?} | ${ft:-?} | $crashes |" |
        tee "$work/summary"
}

if [ "${1:-}" = --one ]; then
    run_one "$2" "$3"
    exit
fi
minutes=${1:-10}
[ $# -gt 0 ] && shift
harnesses=("$@")
if [ ${#harnesses[@]} -eq 0 ]; then
    for bin in "$build"/fuzz/ksx-fuzz-*; do
        harnesses+=("${bin##*/ksx-fuzz-}")
    done
fi
mkdir -p "$out"
echo "| harness | started (UTC) | seconds | executions | cov | ft | crashes |"
echo "|---|---|---|---|---|---|---|"
printf '%s\n' "${harnesses[@]}" | xargs -P 2 -I{} "$0" --one "$minutes" {}
