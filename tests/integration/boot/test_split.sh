#!/bin/bash
# Boot test of split images: Debian 12's 6.1 kernel under qemu with hello built by the CLI with
# `userspace: shared`: a modules image for the kernel and a shared image holding hello's
# configuration file, both signed by a key whose certificate the guest has in /etc/verity.d.
# Two boots:
#   pair      the store holds both: the activator verifies and links both, systemd-sysext merges
#             both through dm-verity, the modules load, the shared image's file is under /usr.
#   mismatch  the store holds the modules image of 1.0.0 and the shared image of 2.0.0 only:
#             one line from the activator, nothing of the shared image merged, the modules image
#             merged and its modules loaded, the boot reaches multi-user.
#   test_split.sh ACTIVATE_BINARY KMOD_SYSEXT_BINARY SOURCE_DIR
# Exit status 77 (skipped) only when qemu cannot run at all.
set -euo pipefail

ACTIVATE=$(realpath "${1:?path of kmod-sysext-activate}")
export KSX=$(realpath "${2:?path of kmod-sysext}")
export SRC=$(realpath "${3:?source tree}")
HERE=$(cd "$(dirname "$0")" && pwd)
HELLO_MANIFEST=$SRC/manifests/hello-debian12.yaml
. "$HERE/../lib.sh"
. "$HERE/activator.sh"
. "$HERE/qemu.sh"
set -o pipefail

qemu_or_skip
require_tools mkfs.ext4 systemctl unsquashfs

# 1. The guest (cached) and its 6.1 kernel.
start=$(now)
guest=$("$HERE/guest.sh")
kernel=$(cd "$guest/boot" && ls vmlinuz-6.1.* | sed 's/^vmlinuz-//')
echo "guest: $guest (kernel $kernel) in $(elapsed "$start") s"

# 2. hello 1.0.0 and 2.0.0, split, signed, for that kernel.
start=$(now)
hello_manifest_with_kernels "$WORK/base.yaml" "{package: linux-headers-amd64}"
{ cat "$WORK/base.yaml"; echo "userspace: shared"; } >"$WORK/hello.yaml"
sed -e 's/^version: 1.0.0$/version: 2.0.0/' "$WORK/hello.yaml" >"$WORK/hello-2.yaml"
grep -q '^version: 2.0.0$' "$WORK/hello-2.yaml" || fail "hello.yaml has no version: 1.0.0"
"$KSX" keygen --out "$WORK/testkey" --cn "kmod-sysext boot test" --name kmod-sysext-test \
    >"$WORK/keygen.log" 2>&1 || { cat "$WORK/keygen.log"; fail "kmod-sysext keygen failed"; }
test_cert="$WORK/testkey/cert.pem"
for v in 1 2; do
    manifest="$WORK/hello.yaml"
    [ "$v" = 1 ] || manifest="$WORK/hello-$v.yaml"
    "$KSX" build "$manifest" --output "$WORK/v$v" --jobs 2 --sign-key "$WORK/testkey/key.pem" \
        --sign-cert "$test_cert" >"$WORK/build-$v.log" 2>&1 ||
        { cat "$WORK/build-$v.log"; fail "kmod-sysext build $manifest failed"; }
done
modules="$WORK/v1/hello_1.0.0_$kernel.raw"
shared="$WORK/v1/hello-userspace_1.0.0.raw"
other="$WORK/v2/hello-userspace_2.0.0.raw"
for image in "$modules" "$shared" "$other"; do
    for suffix in raw verity roothash roothash.p7s; do
        [ -f "${image%.raw}.$suffix" ] || fail "no ${image%.raw}.$suffix; built: $(ls "$(dirname "$image")" | tr '\n' ' ')"
    done
done
unsquashfs -l "$modules" | grep -q "/extra/hello/hello_core\.ko" || fail "no hello_core in $modules"
unsquashfs -l "$modules" | grep -q "hello-sysext" && fail "$modules holds the shared files"
unsquashfs -l "$shared" | grep -q "/usr/share/hello-sysext/hello.conf$" || fail "no hello.conf in $shared"
unsquashfs -l "$shared" | grep -q "\.ko" && fail "$shared holds modules"
echo "images: $(basename "$modules"), $(basename "$shared"), $(basename "$other") in $(elapsed "$start") s"

choose_accel "$guest" "$kernel"

# boot NAME IMAGE... : a guest whose store holds each IMAGE (with its sidecars) and that trusts
# the test certificate, booted; the serial log ends up in $WORK/NAME.log.
boot() {
    local name=$1
    shift
    start=$(now)
    local root="$WORK/$name/root"
    mkdir -p "$WORK/$name"
    guest_root "$root" "$guest"
    install_activator "$root" "$ACTIVATE" "$SRC"
    install_check_unit "$root" "kmod-sysext split boot test check" <<'CHECK'
#!/bin/sh
. /usr/local/lib/ksx-check.sh
m "kernel $(uname -r)"
m "multi-user $(systemctl is-active multi-user.target)"
for d in /sys/block/dm-*/dm; do [ -e "$d/uuid" ] && m "dm $(cat "$d/name") $(cat "$d/uuid")"; done
report_merge
report_units
sed 's/^/KSX-CONF /' /usr/share/hello-sysext/hello.conf 2>&1
kmod-sysext-activate status 2>&1 | sed 's/^/KSX-STATUS /'
finish
CHECK
    store_images "$root" "$@"
    install -D -m 0644 "$test_cert" "$root/etc/verity.d/kmod-sysext-test.crt"
    boot_root "$name" "$root" "$start"
}

# Both boots: the guest booted, the units ran, the modules image merged and its modules loaded.
check_modules_boot() {
    LOG="$WORK/$1.log"
    has "KSX-CHECK kernel $kernel"
    has "KSX-CHECK multi-user active"
    has "KSX-CHECK unit kmod-sysext-select active success"
    has "KSX-CHECK unit kmod-sysext-load active success"
    has "KSX-RELEASE extension-release.hello"
    has "KSX-MODULE hello_core"
    has "KSX-MODULE hello"
    has "kmod-sysext-activate: verified hello_1.0.0_$kernel.raw: signed by kmod-sysext boot test"
    has "\"selected\":\"/var/lib/kmod-sysext/hello/hello_1.0.0_$kernel.raw\""
    has "KSX-CHECK done"
}

boot pair "$modules" "$shared"
check_modules_boot pair
# systemd-sysext status lists the second extension of /usr on a line of its own.
grep -q "KSX-SYSEXT .*hello-userspace" "$LOG" ||
    fail "pair: systemd-sysext status does not show hello-userspace merged"
has "Using extensions 'hello', 'hello-userspace'."
has "KSX-RELEASE extension-release.hello-userspace"
has "kmod-sysext-activate: verified hello-userspace_1.0.0.raw: signed by kmod-sysext boot test"
has "\"selected\":\"/var/lib/kmod-sysext/hello/hello-userspace_1.0.0.raw\""
has "{\"name\":\"hello-userspace\",\"images\":[{\"file\":\"hello-userspace_1.0.0.raw\",\"version\":\"1.0.0\",\"kernel\":null}]"
has "\"merged\":{\"version\":\"1.0.0\",\"kernel\":null}"
has "KSX-CONF greeting=hello from kmod-sysext"
has "KSX-STATUS   merged: yes, version 1.0.0 for kernel $kernel with hello-userspace 1.0.0"
has "\"merged\":{\"version\":\"1.0.0\",\"kernel\":\"$kernel\",\"userspace\":\"1.0.0\"}"
[ "$(grep -c "KSX-CHECK dm [0-9a-f]*-verity CRYPT-VERITY-" "$LOG")" = 2 ] ||
    fail "pair: expected two dm-verity devices: $(grep 'KSX-CHECK dm' "$LOG" || echo none)"
echo "pair: both verified and merged through dm-verity, hello and hello_core loaded," \
    "/usr/share/hello-sysext/hello.conf from the shared image"

boot mismatch "$modules" "$other"
check_modules_boot mismatch
has "kmod-sysext-activate: not linking hello-userspace: hello_1.0.0_$kernel.raw needs version 1.0.0, which is not in the store (the store has 2.0.0); hello is linked without it"
# One line (the console and the journal may each show it once).
said=$(grep -o "kmod-sysext-activate: .*userspace.*" "$LOG" | sed 's/\r$//' | sort -u)
[ "$(echo "$said" | wc -l)" = 1 ] || fail "mismatch: more than one activator line on the shared image: $said"
lacks "KSX-RELEASE extension-release.hello-userspace"
lacks "KSX-CONF greeting"
# status shows the modules image merged alone, not with the shared image it needs.
has "\"merged\":{\"version\":\"1.0.0\",\"kernel\":\"$kernel\"}"
has "KSX-STATUS   merged: yes, version 1.0.0 for kernel $kernel"
lacks "with hello-userspace"
grep -q "KSX-SYSEXT .*hello-userspace" "$LOG" && fail "mismatch: hello-userspace was merged"
echo "mismatch: shared image 2.0.0 refused with one line, hello merged and its modules loaded," \
    "boot reached multi-user"
echo "PASS"
