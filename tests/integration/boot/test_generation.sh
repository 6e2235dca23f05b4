#!/bin/bash
# Boot test of one systemd generation: a Debian guest of SUITE under qemu (bookworm: Debian 12,
# systemd 252, kernel 6.1; trixie: Debian 13, systemd 257, kernel 6.12; forky: testing, systemd
# 262, kernel 7.2) with the activator and its units installed, and hello images built by the CLI
# in a developer container of the same suite for the guest's kernel. Two boots:
#   signed    the store holds hello, signed by a key whose certificate is in /etc/verity.d: the
#             activator verifies it, systemd merges it through dm-verity (its root hash in
#             `dmsetup table`, whatever the device's name), the modules load and the modprobe
#             hook works; and hello-tampered, signed and then one byte inverted: refused with the
#             reason, nothing of it merged, and the boot reaches multi-user.
#   unsigned  the store holds hello unsigned for the running kernel (merged without dm-verity,
#             modules loaded) and hello-away only for another kernel: one line from the activator
#             naming the running kernel and what is there; nothing of hello-away merged.
# The guest root filesystem and the developer container are cached (XDG_CACHE_HOME).
#   test_generation.sh SUITE ACTIVATE_BINARY KMOD_SYSEXT_BINARY SOURCE_DIR
# Exit status 77 (skipped) only when qemu cannot run at all.
set -euo pipefail

SUITE=${1:?bookworm, trixie or forky}
ACTIVATE=$(realpath "${2:?path of kmod-sysext-activate}")
export KSX=$(realpath "${3:?path of kmod-sysext}")
export SRC=$(realpath "${4:?source tree}")
HERE=$(cd "$(dirname "$0")" && pwd)
case $SUITE in
bookworm) HELLO_MANIFEST=$SRC/manifests/hello-debian12.yaml ;;
trixie | forky) HELLO_MANIFEST=$SRC/manifests/hello.yaml ;;
*) echo "unknown suite $SUITE" >&2; exit 2 ;;
esac
# lib.sh makes $WORK (kept when the test fails) and hello_manifest_with_kernels.
. "$HERE/../lib.sh"
. "$HERE/activator.sh"
. "$HERE/qemu.sh"
set -o pipefail

qemu_or_skip
require_tools mkfs.ext4 systemctl

# 1. The guest (cached) and the kernel it boots.
start=$(now)
guest=$("$HERE/guest.sh" "$SUITE")
case $SUITE in
bookworm) kernel=$(cd "$guest/boot" && ls vmlinuz-6.1.* | sed 's/^vmlinuz-//') ;;
*) kernel=$(cd "$guest/boot" && ls vmlinuz-* | sed 's/^vmlinuz-//') ;;
esac
[ "$(echo "$kernel" | wc -w)" = 1 ] || fail "expected one kernel to boot in the $SUITE guest: $kernel"
systemd_version=$(sed -n 's/^Version: \([0-9]*\).*/\1/p' \
    <(awk '/^Package: systemd$/,/^$/' "$guest/var/lib/dpkg/status"))
echo "guest: $SUITE, systemd $systemd_version, kernel $kernel ($guest) in $(elapsed "$start") s"

# 2. The manifest: hello for the guest's kernel and for another kernel of the same suite, in a
# developer container of that suite. Debian 12: its 6.12 line; Debian 13: the kernel of
# trixie-backports (headers from another suite); forky: its cloud kernel. forky's Release file
# is past its Valid-Until date on Debian's mirror, so its container needs that apt option; its
# os-release has no VERSION_ID (systemd then matches on ID alone).
case $SUITE in
bookworm)
    running="{package: linux-headers-amd64}" other="{package: linux-headers-6.12-amd64}"
    other_kernel="6.12.*"
    hello_manifest_with_kernels "$WORK/hello.yaml" "$running" "$other"
    ;;
trixie)
    running="{package: linux-headers-amd64}"
    other="{package: linux-headers-amd64, suite: trixie-backports}"
    other_kernel="7.3.*+deb13-amd64" # trixie-backports
    hello_manifest_with_kernels "$WORK/base.yaml" "$running" "$other"
    sed -e 's/^    suite: trixie$/    suite: trixie\n    backports: true/' "$WORK/base.yaml" >"$WORK/hello.yaml"
    ;;
forky)
    running="{package: linux-headers-amd64}" other="{package: linux-headers-cloud-amd64}"
    other_kernel="*-cloud-amd64"
    hello_manifest_with_kernels "$WORK/base.yaml" "$running" "$other"
    sed -e 's/^    suite: trixie$/    suite: forky\n    apt_options: [Acquire::Check-Valid-Until=false]/' \
        -e 's/^  version_id: "13"$/  version_id: "14"/' "$WORK/base.yaml" >"$WORK/hello.yaml"
    ;;
esac
grep -q "^    suite: $SUITE$" "$WORK/hello.yaml" || fail "the manifest does not name suite $SUITE"

# 3. Images, by the CLI: hello signed (build --sign-key) and unsigned for the guest's kernel,
# hello-tampered (signed, then one byte inverted) and hello-away for another kernel only.
start=$(now)
"$KSX" keygen --out "$WORK/testkey" --cn "kmod-sysext boot test" --name kmod-sysext-test \
    >"$WORK/keygen.log" 2>&1 || { cat "$WORK/keygen.log"; fail "kmod-sysext keygen failed"; }
test_cert="$WORK/testkey/cert.pem"
sign=(--sign-key "$WORK/testkey/key.pem" --sign-cert "$test_cert")
build() { # build LOGNAME MANIFEST ARGS...
    local log="$WORK/build-$1.log"
    shift
    "$KSX" build "$@" --jobs 2 >"$log" 2>&1 || { cat "$log"; fail "kmod-sysext build $* failed"; }
}
renamed() { # renamed NAME: the manifest for extension NAME
    sed -e "s/^name: hello$/name: $1/" "$WORK/hello.yaml" >"$WORK/$1.yaml"
    grep -q "^name: $1$" "$WORK/$1.yaml" || fail "hello.yaml has no name: hello"
    echo "$WORK/$1.yaml"
}
# Every build has the manifest's two kernels, so all use one developer container.
build unsigned "$WORK/hello.yaml" --output "$WORK/unsigned"
image="hello_1.0.0_$kernel.raw"
[ -f "$WORK/unsigned/$image" ] || fail "no image for the guest's kernel $kernel; built: \
$(ls "$WORK/unsigned" | tr '\n' ' ')— the guest in $(dirname "$guest") and the developer container \
come from different archive states: remove the older cache directory"
build signed "$WORK/hello.yaml" --output "$WORK/signed" "${sign[@]}"
build tampered "$(renamed hello-tampered)" --output "$WORK/signed" "${sign[@]}"
tampered="$WORK/signed/hello-tampered_1.0.0_$kernel.raw"
offset=$(flip_middle_byte "$tampered" "$WORK/signed/hello_1.0.0_$kernel.raw")
build away "$(renamed hello-away)" --output "$WORK/away"
rm "$WORK/away/hello-away_1.0.0_$kernel.raw"
away=$(cd "$WORK/away" && ls hello-away_1.0.0_*.raw)
away_kernel=${away#hello-away_1.0.0_}
away_kernel=${away_kernel%.raw}
[ "$(echo "$away" | wc -l)" = 1 ] || fail "expected one other kernel: $away"
# shellcheck disable=SC2053
[[ $away_kernel == $other_kernel ]] || fail "hello-away is for $away_kernel, not $other_kernel ($other)"
for suffix in raw verity roothash roothash.p7s; do
    [ -f "$WORK/signed/hello_1.0.0_$kernel.$suffix" ] || fail "no signed hello_1.0.0_$kernel.$suffix"
done
roothash=$(head -c 64 "$WORK/signed/hello_1.0.0_$kernel.roothash")
ko=$(grep -o "/extra/hello/hello_core\.ko[.a-z]*" <("$KSX" inspect "$WORK/unsigned/$image") | head -n 1)
ko=${ko#/extra/hello/hello_core}
[ -n "$ko" ] || fail "no hello_core module in $image"
echo "images: hello signed (root hash $roothash) and unsigned ($ko modules) for $kernel," \
    "hello-tampered (byte $offset inverted), hello-away for $away_kernel in $(elapsed "$start") s"

# 4. KVM only if it boots a kernel quickly here, TCG otherwise.
choose_accel "$guest" "$kernel"

# The check unit prints what is merged and loaded to ttyS0 as KSX-* lines, then powers off.
install_guest_files() {
    local root=$1
    # KSX_ACTIVATOR_DEB: the kmod-sysext-activator package instead (test_packages.sh).
    if [ -n "${KSX_ACTIVATOR_DEB:-}" ]; then
        local log="$WORK/dpkg-$(basename "$(dirname "$root")").log"
        install_activator_package "$root" "$KSX_ACTIVATOR_DEB" >"$log" 2>&1 &&
            grep -q "^Setting up kmod-sysext-activator " "$log" ||
            { cat "$log"; fail "dpkg -i kmod-sysext-activator failed"; }
        [ ! -e "$root/usr/local/bin/kmod-sysext-activate" ] || fail "an activator beside the package's"
        echo "installed $(basename "$KSX_ACTIVATOR_DEB") with the guest's dpkg"
    else
        install_activator "$root" "$ACTIVATE" "$SRC"
    fi
    install_check_unit "$root" "kmod-sysext boot test check" <<'CHECK'
#!/bin/sh
. /usr/local/lib/ksx-check.sh
m "kernel $(uname -r)"
m "systemd $(systemctl --version | sed -n '1s/^systemd \([0-9]*\).*/\1/p')"
m "multi-user $(systemctl is-active multi-user.target)"
# The device's name differs between systemd versions (262: loopN-M-verity); its table does not.
dmsetup table 2>&1 | sed 's/^/KSX-DMTABLE /'
report_merge
report_units
check_modprobe
finish
CHECK
}

# boot NAME IMAGE... : a guest whose store holds each IMAGE (a path, with its sidecars) under
# its extension's name, $TRUST (a certificate) in /etc/verity.d when set, booted with the guest's kernel;
# the serial log ends up in $WORK/NAME.log.
boot() {
    local name=$1 start
    shift
    start=$(now)
    local root="$WORK/$name/root"
    mkdir -p "$WORK/$name"
    guest_root "$root" "$guest"
    install_guest_files "$root"
    store_images "$root" "$@"
    # A node that trusts a certificate requires signatures (the activator's policy): only the
    # signed boot gets one.
    if [ -n "$TRUST" ]; then
        install -D -m 0644 "$TRUST" "$root/etc/verity.d/kmod-sysext-test.crt"
    fi
    boot_root "$name" "$root" "$start"
}

# Common to both boots: the guest is the generation we meant and the boot went through.
check_boot() {
    LOG="$WORK/$1.log"
    has "KSX-CHECK kernel $kernel"
    has "KSX-CHECK systemd $systemd_version"
    has "KSX-CHECK multi-user active"
    has "KSX-CHECK unit kmod-sysext-select active success"
    has "KSX-CHECK unit kmod-sysext-load active success"
    has "KSX-CHECK done"
}

# hello merged and both modules loaded through the activator, the modprobe hook working.
check_hello_loaded() {
    grep -q "KSX-SYSEXT /usr.* hello" "$LOG" || fail "$(basename "$LOG"): systemd-sysext status does not show hello merged"
    has "KSX-RELEASE extension-release.hello"
    has "KSX-MODULE hello_core"
    has "KSX-MODULE hello"
    has "\"selected\":\"/var/lib/kmod-sysext/hello/hello_1.0.0_$kernel.raw\""
    has "kmod-sysext-activate: loaded hello_core from /usr/lib/modules/$kernel/extra/hello/hello_core$ko with options greeting=\"hello from kmod-sysext\""
    has "KSX-CHECK removed hello: gone"
    has "KSX-MODPROBE kmod-sysext-activate: loaded hello from /usr/lib/modules/$kernel/extra/hello/hello$ko"
    has "KSX-CHECK after modprobe: hello-loaded"
}

TRUST=$test_cert
boot signed "$WORK/signed/hello_1.0.0_$kernel.raw" "$WORK/signed/hello-tampered_1.0.0_$kernel.raw"
check_boot signed
check_hello_loaded
has "kmod-sysext-activate: verified hello_1.0.0_$kernel.raw: signed by kmod-sysext boot test, root hash $roothash"
has "\"state\":\"verified\",\"verified\":true,\"root_hash\":\"$roothash\",\"signer\":\"kmod-sysext boot test\""
grep -q "^KSX-DMTABLE .* verity .* $roothash " "$LOG" ||
    fail "signed: no dm-verity table with root hash $roothash: $(grep KSX-DMTABLE "$LOG" || echo none)"
[ "$(grep -c "^KSX-DMTABLE .* verity " "$LOG")" = 1 ] ||
    fail "signed: expected one dm-verity device: $(grep KSX-DMTABLE "$LOG")"
has "kmod-sysext-activate: refused /var/lib/kmod-sysext/hello-tampered/hello-tampered_1.0.0_$kernel.raw: root hash mismatch: image or .verity changed"
has "\"state\":\"refused\",\"verified\":false,\"root_hash\":null,\"signer\":null,\"reason\":\"root hash mismatch: image or .verity changed\""
lacks "KSX-RELEASE extension-release.hello-tampered"
grep -q "KSX-SYSEXT .*hello-tampered" "$LOG" && fail "signed: hello-tampered was merged"
echo "signed (systemd $systemd_version): hello verified, merged through dm-verity (root hash in" \
    "the dm table), modules loaded, modprobe hook works; hello-tampered refused, boot reached multi-user"

TRUST=""
boot unsigned "$WORK/unsigned/hello_1.0.0_$kernel.raw" "$WORK/away/$away"
check_boot unsigned
check_hello_loaded
has "\"verification\":{\"image\":\"/var/lib/kmod-sysext/hello/hello_1.0.0_$kernel.raw\",\"state\":\"unsigned\",\"verified\":false"
grep -q "^KSX-DMTABLE .* verity " "$LOG" && fail "unsigned: a dm-verity device: $(grep KSX-DMTABLE "$LOG")"
has "kmod-sysext-activate: no image of hello-away for kernel $kernel; available: $away_kernel"
lacks "KSX-RELEASE extension-release.hello-away"
grep -q "KSX-SYSEXT .*hello-away" "$LOG" && fail "unsigned: hello-away was merged"
echo "unsigned (systemd $systemd_version): hello merged without dm-verity, modules loaded;" \
    "hello-away (only for $away_kernel): one line naming the kernel, nothing merged"
echo "PASS"
