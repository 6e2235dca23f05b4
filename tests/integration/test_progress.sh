#!/bin/sh
# Live progress of a real build of hello. On a terminal (a pseudo-terminal made by script(1)):
# the kernel's line shows its step, the step's elapsed time and the build's latest output line
# (the compiler's), redrawn in place. Not on a terminal: plain lines plus the periodic "still
# compiling, N s, last: ..." line. With --events: the JSON event stream, while stdout keeps the
# one --json result. Each ends with the per-phase time summary.
. "$(dirname "$0")/lib.sh"

mkdir -p "$WORK/m"
hello_manifest_with_kernels "$WORK/m/hello.yaml" "{package: linux-headers-amd64}"
# A pause after make keeps the build step running for several redraws and periodic lines (its
# last output line then is make's own). Real compiles, not ccache hits: each compiler line
# stands long enough to be drawn.
sed -i 's|^\(    - make .* modules\)$|\1 \&\& sleep 4|' "$WORK/m/hello.yaml"
grep -q 'modules && sleep 4$' "$WORK/m/hello.yaml" || fail "the build command was not changed"
export KSX_COMPILER_CACHE=off

# 1. On a terminal.
KSX_PROGRESS_INTERVAL=1 script -qfec "'$KSX' build '$WORK/m/hello.yaml' --output '$WORK/tty'" \
    "$WORK/tty.typescript" </dev/null >/dev/null || {
    cat -v "$WORK/tty.typescript" >&2
    fail "the build on a terminal failed"
}
python3 - "$WORK/tty.typescript" <<'PY' || fail "the terminal stream lacks live lines"
import re, sys
text = open(sys.argv[1], "rb").read().decode("utf-8", "replace")
# "[KERNEL] build command 1/1 (N s): LATEST OUTPUT", up to the next escape or line end.
lines = re.findall(r"\[([^][\x1b\r\n]+)\] build command 1/1 \((\d+) s\)(?:: ([^\x1b\r\n]*))?",
                   text)
print(f"{len(lines)} live line(s) of the build step")
elapsed = {int(seconds) for _, seconds, _ in lines}
outputs = {output for _, _, output in lines if output}
for output in sorted(outputs):
    print("  shown:", output)
assert len(elapsed) >= 2, f"the elapsed time did not advance: {sorted(elapsed)}"
assert any(re.match(r"CC \[M\] /build/src/hello\w*\.o$", o) for o in outputs), \
    "no compiler line was shown"
# In place: each redraw first erases the line it replaces (carriage return, erase line).
assert "\r\x1b[K[" + lines[0][0] + "] build command 1/1 (" in text, "no redraw in place"
assert "\x1b[A" not in text or "\x1b[A\x1b[K" in text
assert re.search(r"time: container \d+\.\d s, fetch \d+\.\d s, compile \d+\.\d s, "
                 r"sign \d+\.\d s, pack \d+\.\d s", text), "no time summary"
PY

# 2. Not on a terminal: the lines as before, the periodic line every KSX_PROGRESS_INTERVAL.
KSX_PROGRESS_INTERVAL=1 "$KSX" build "$WORK/m/hello.yaml" --output "$WORK/plain" \
    >"$WORK/plain.out" 2>"$WORK/plain.err" || { cat "$WORK/plain.err" >&2; fail "plain build failed"; }
cat "$WORK/plain.err"
kernel=$(ls "$WORK/plain" | sed -n 's/^hello_1\.0\.0_\(.*\)\.raw$/\1/p')
[ -n "$kernel" ] || fail "no image in $WORK/plain"
grep -qxF "[$kernel] build command 1/1" "$WORK/plain.err" || fail "no plain step line"
grep -F "[$kernel] still compiling, " "$WORK/plain.err" |
    grep -qE "^\[[^]]+\] still compiling, [0-9]+ s, last: ." || fail "no periodic still-compiling line"
grep -qE "^time: container [0-9.]+ s, fetch [0-9.]+ s, compile [0-9.]+ s, sign [0-9.]+ s, pack [0-9.]+ s$" \
    "$WORK/plain.err" || fail "no time summary"
if grep -q "$(printf '\033')" "$WORK/plain.err"; then
    fail "escape sequences in plain output"
fi
grep -q "^built 1 image(s) in " "$WORK/plain.out" || fail "no result line on stdout"

# 3. --json with --events: stdout is the one result document, the events a JSON object a line.
KSX_PROGRESS_INTERVAL=1 "$KSX" build --json "$WORK/m/hello.yaml" --output "$WORK/json" \
    --events "$WORK/events.jsonl" >"$WORK/json.out" 2>"$WORK/json.err" ||
    { cat "$WORK/json.err" >&2; fail "the --json build failed"; }
[ ! -s "$WORK/json.err" ] || { cat "$WORK/json.err" >&2; fail "--json wrote to stderr"; }
python3 - "$WORK/json.out" "$WORK/events.jsonl" "$kernel" <<'PY' || fail "the event stream is wrong"
import json, sys
result = json.load(open(sys.argv[1]))
kernel = sys.argv[3]
phases = ["container", "fetch", "compile", "sign", "pack"]
assert sorted(result["phases"]) == sorted(phases), result["phases"]
assert result["images"][0]["kernel"] == kernel
events = [json.loads(line) for line in open(sys.argv[2])]
print(f"{len(events)} events:", sorted({e["event"] for e in events}))
for e in events:
    assert isinstance(e["time"], (int, float)), e
times = [e["time"] for e in events]
assert times == sorted(times), "event times go backwards"
seen = {e["phase"] for e in events if e["event"] == "step" and e.get("task") == kernel}
assert {"fetch", "compile", "sign", "pack"} <= seen, f"phases of {kernel}: {seen}"
still = [e for e in events if e["event"] == "still"]
assert still and still[0]["task"] == kernel and still[0]["phase"] == "compile", still
assert all(e["last"] for e in still), still
assert any(e["event"] == "done" and e["task"] == kernel for e in events)
summary = [e for e in events if e["event"] == "summary"]
assert len(summary) == 1 and sorted(summary[0]["phases"]) == sorted(phases), summary
assert summary[0]["phases"]["compile"] > 0
PY
echo "ok"
