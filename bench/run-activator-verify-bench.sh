#!/bin/bash
# Times `kmod-sysext-activate select` on a store holding one signed image of SIZE bytes (random
# data, verity tree and signature made the way `kmod-sysext build --sign-key` makes them), and
# `veritysetup verify` on the same files for comparison.
#   run-activator-verify-bench.sh ACTIVATE_BINARY SIZE_BYTES RUNS
set -euo pipefail
activate=$(realpath "${1:?path of kmod-sysext-activate}")
size=${2:?image size in bytes, a multiple of 4096}
runs=${3:-20}
# On tmpfs, as /run is at boot: select writes its records there (on a disk, their fsync would
# be timed too).
root=$(mktemp -d "$([ -d /dev/shm ] && echo /dev/shm || echo "${TMPDIR:-/tmp}")/ksx-bench-XXXXXX")
trap 'rm -rf "$root"' EXIT
kernel=6.1.0-bench-amd64
store=$root/var/lib/kmod-sysext/hello
mkdir -p "$store" "$root/etc/verity.d"
image=$store/hello_1.0.0_$kernel.raw
stem=${image%.raw}
head -c "$size" /dev/urandom >"$image"
salt=$(sha256sum "$image" | cut -c1-64)
u=$({ printf 'kmod-sysext verity uuid'; printf '%s' "$salt" | tr a-f A-F | basenc --base16 -d; } |
    sha256sum | cut -c1-32)
u=${u:0:12}$(printf '%02x' $(((0x${u:12:2} & 0x0f) | 0x40)))${u:14:2}$(printf '%02x' $(((0x${u:16:2} & 0x3f) | 0x80)))${u:18}
veritysetup format --salt="$salt" --uuid="${u:0:8}-${u:8:4}-${u:12:4}-${u:16:4}-${u:20:12}" \
    "$image" "$stem.verity" | sed -n 's/^Root hash:[[:space:]]*//p' | tr -d '\n' >"$stem.roothash"
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=bench -keyout "$root/bench.key" \
    -out "$root/etc/verity.d/bench.crt" 2>/dev/null
openssl smime -sign -nocerts -noattr -binary -in "$stem.roothash" -inkey "$root/bench.key" \
    -signer "$root/etc/verity.d/bench.crt" -outform DER -out "$stem.roothash.p7s"
"$activate" --root="$root" --kernel="$kernel" select 2>&1 | grep -E "verified|refused"
cat "$stem".* >/dev/null # page cache warm, as at boot after the first read
# Wall and CPU (user + system) time per run.
TIMEFORMAT="%R %U %S"
per_run() {
    awk -v n="$runs" -v what="$1" '{ printf "%s: %.1f ms wall, %.1f ms CPU per run (mean of %d)\n",
        what, $1 * 1000 / n, ($2 + $3) * 1000 / n, n }'
}
{ time for _ in $(seq "$runs"); do
    "$activate" --root="$root" --kernel="$kernel" select >/dev/null 2>&1
done; } 2>&1 | per_run "select with verification, $size bytes"
{ time for _ in $(seq "$runs"); do
    veritysetup verify "$image" "$stem.verity" "$(cat "$stem.roothash")"
done; } 2>&1 | per_run "veritysetup verify, $size bytes"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
