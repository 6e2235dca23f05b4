#!/bin/bash
# Boot test under UEFI Secure Boot with the operator's own key enrolled as a Machine Owner Key.
# The machine: OVMF's Secure Boot code with a fresh copy of its variable store that holds
# Microsoft's keys, our test certificate added to shim's MokList offline (what `mokutil --import`
# and MokManager would do, with no person at the console), and a GPT disk made without root
# mounts: an EFI system partition with Debian's Microsoft-signed shim, Debian's signed grub and
# Debian 12's signed 6.1 kernel, and the guest's root file system. The kernel command line adds
# dm_verity.require_signatures=1. One boot checks, in the guest:
#   - Secure Boot is on, lockdown is active, module signatures are enforced;
#   - the test key is in the kernel's .machine keyring (from MokList), not in .platform (the
#     firmware's db, which Debian's kernel would also take for modules);
#   - hello, signed with it, is verified by the activator against /etc/kmod-sysext/keys and merged
#     by systemd-sysext through dm-verity with the kernel's own root hash signature check
#     (/etc/verity.d is absent, the verity table names the signature, no "Required key not
#     available"); its modules load through the activator and its modprobe hook;
#   - hello-tampered (hello with one byte inverted) is refused, nothing of it merged;
#   - the same hello modules signed by another key: the kernel refuses them, and the activator
#     says once, before, which key it is and how to enrol it;
#   - `kmod-sysext-activate status` (text and --json) reports all of the above;
#   - Debian's mokutil queues another certificate from `kmod-sysext enroll`'s DER and hash
#     file: MokNew holds it, MokAuth is the one-time password's hash (mok_import.sh);
#   - the boot reaches multi-user.
# With --nvidia (by hand: KSX_SECUREBOOT_NVIDIA=1, else skipped) the same boot also has
# manifests/nvidia-open.yaml built for the kernel and signed with the test key in its store:
# the kernel accepts nvidia.ko under lockdown (secureboot_nvidia.sh). The test key is then kept
# in the test cache, so that a rerun's NVIDIA build is a build cache hit.
#   test_secureboot.sh ACTIVATE_BINARY KMOD_SYSEXT_BINARY SOURCE_DIR [--nvidia]
# Exit status 77 (skipped) only when qemu cannot run at all.
set -euo pipefail

ACTIVATE=$(realpath "${1:?path of kmod-sysext-activate}")
export KSX=$(realpath "${2:?path of kmod-sysext}")
export SRC=$(realpath "${3:?source tree}")
nvidia=${4-}
if [ "$nvidia" = --nvidia ] && [ "${KSX_SECUREBOOT_NVIDIA-}" != 1 ]; then
    echo "SKIP: the NVIDIA Secure Boot run builds nvidia-open (10-30 min); run it with KSX_SECUREBOOT_NVIDIA=1"
    exit 77
fi
HERE=$(cd "$(dirname "$0")" && pwd)
# lib.sh makes $WORK (kept when the test fails).
. "$HERE/../lib.sh"
. "$HERE/activator.sh"
. "$HERE/efi_disk.sh"
. "$HERE/qemu.sh"
. "$HERE/mok_import.sh"
. "$HERE/secureboot_nvidia.sh"
set -o pipefail

qemu_or_skip
for file in "$OVMF_CODE" "$OVMF_MS_VARS" "$SHIM" "$GRUB"; do
    [ -f "$file" ] || fail "$file is missing (scripts/setup installs ovmf, shim-signed, grub-efi-amd64-signed)"
done
require_tools mkfs.vfat mcopy sfdisk mkfs.ext4 unsquashfs systemctl openssl

# 1. The Debian 12 guest (cached) and its 6.1 kernel, the one Debian signs for Secure Boot.
guest=$("$HERE/guest.sh" bookworm)
kernel=$(cd "$guest/boot" && ls vmlinuz-6.1.* | sed 's/^vmlinuz-//')
[ "$(echo "$kernel" | wc -w)" = 1 ] || fail "expected one 6.1 kernel in the guest: $kernel"
echo "guest: Debian 12, kernel $kernel ($guest)"

# 2. Keys and images, by the CLI: hello signed with the test key (the MOK) and the same manifest
# signed with another key; hello-tampered is the signed hello with one byte inverted.
start=$(now)
keygen() { # keygen DIR CN
    "$KSX" keygen --out "$WORK/$1" --cn "$2" >"$WORK/keygen-$1.log" 2>&1 ||
        { cat "$WORK/keygen-$1.log"; fail "kmod-sysext keygen failed"; }
}
if [ -n "$nvidia" ]; then
    nvidia_test_key "$WORK/testkey" "kmod-sysext secureboot test"
else
    keygen testkey "kmod-sysext secureboot test"
fi
keygen otherkey "kmod-sysext other key"
build() { # build NAME KEYDIR
    "$KSX" build "$SRC/manifests/hello-debian12.yaml" --output "$WORK/$1" --jobs 2 \
        --sign-key "$WORK/$2/key.pem" --sign-cert "$WORK/$2/cert.pem" >"$WORK/build-$1.log" 2>&1 ||
        { cat "$WORK/build-$1.log"; fail "kmod-sysext build ($1) failed"; }
}
build signed testkey
build other otherkey
image="hello_1.0.0_$kernel"
[ -f "$WORK/signed/$image.raw" ] || fail "no image for the guest's kernel $kernel; built: \
$(ls "$WORK/signed" | tr '\n' ' ')— the guest and the developer container come from different \
archive states: remove the older cache directory"
roothash=$(head -c 64 "$WORK/signed/$image.roothash")
mkdir "$WORK/tampered"
for file in "$WORK/signed/$image".*; do
    cp "$file" "$WORK/tampered/hello-tampered${file#"$WORK/signed/hello"}"
done
tampered="$WORK/tampered/hello-tampered_1.0.0_$kernel.raw"
offset=$(flip_middle_byte "$tampered" "$WORK/signed/$image.raw")
# The other key's modules, as a merged tree for `kmod-sysext-activate --root` in the guest.
unsquashfs -q -d "$WORK/other-root" "$WORK/other/$image.raw" >/dev/null ||
    fail "cannot unpack $WORK/other/$image.raw"
[ -f "$WORK/other-root/usr/lib/kmod-sysext/hello/modules.load" ] ||
    fail "no modules.load in the image signed by the other key"
# How the kernel names the test key: "<CN>: <subject key identifier>".
skid=$(openssl x509 -in "$WORK/testkey/cert.pem" -noout -ext subjectKeyIdentifier |
    sed -n 's/^ *\([0-9A-F:]*\)$/\1/p' | tr -d ':' | tr 'A-F' 'a-f')
[ -n "$skid" ] || fail "the test certificate has no subject key identifier"
test_key="kmod-sysext secureboot test: $skid"
echo "images: hello signed (root hash $roothash), the same signed by another key, hello-tampered" \
    "(byte $offset inverted) in $(elapsed "$start") s"
[ -z "$nvidia" ] || nvidia_image=$(nvidia_build "$kernel" "$WORK/testkey" "$WORK/nvidia")

# 3. The guest's root: the activator and its units, the test certificate where the activator
# looks (not /etc/verity.d: systemd-sysext must leave the signature to the kernel), the images
# in the store, the other key's tree, and a unit that prints what it sees as KSX-* lines.
root="$WORK/root"
guest_root "$root" "$guest"
rm "$root/etc/fstab"
echo "/dev/vda2 / ext4 rw,errors=remount-ro 0 1" >"$root/etc/fstab"
install_activator "$root" "$ACTIVATE" "$SRC"
install -D -m 0644 "$WORK/testkey/cert.pem" "$root/etc/kmod-sysext/keys/secureboot-test.pem"
[ ! -e "$root/etc/verity.d" ] || fail "the guest has /etc/verity.d"
store_images "$root" "$WORK/signed/$image.raw" "$tampered"
cp -a "$WORK/other-root" "$root/root/other-key"
# The other key (not enrolled) queued with mokutil from enroll's files; NVIDIA's image.
mok_import_prepare "$root" "$WORK/otherkey/cert.pem" "$WORK/mok"
[ -z "$nvidia" ] || nvidia_install "$root" "$nvidia_image"
install_check_unit "$root" "kmod-sysext Secure Boot test check" <<'CHECK'
#!/bin/sh
. /usr/local/lib/ksx-check.sh
m "kernel $(uname -r)"
m "secure-boot $(od -An -tu1 -j4 -N1 /sys/firmware/efi/efivars/SecureBoot-8be4df61-93ca-11d2-aa0d-00e098032b8c | tr -d ' ')"
m "lockdown $(cat /sys/kernel/security/lockdown)"
m "require_signatures $(cat /sys/module/dm_verity/parameters/require_signatures 2>&1)"
m "verity.d $(test -e /etc/verity.d && echo present || echo absent)"
m "multi-user $(systemctl is-active multi-user.target)"
dmesg | grep -E "Loaded X.509 cert|Secure boot|locked down" | sed 's/^/KSX-DMESG /'
dmsetup table 2>&1 | sed 's/^/KSX-DMTABLE /'
report_merge
kmod-sysext-activate status 2>&1 | sed 's/^/KSX-STATUS /'
report_units
journalctl -b -k --no-pager | grep -i -E "verity|key" | sed 's/^/KSX-KERNEL /'
# The same modules signed by another key, loaded through the activator from their own tree
# (--root; the kernel's /proc and /sys bound into it, so it sees the kernel's real state).
rmmod hello hello_core
m "unloaded: $(ls /sys/module | grep -c hello)"
other=/root/other-key
mkdir -p "$other/proc" "$other/sys"
# --rbind: lockdown (securityfs) and the SecureBoot variable (efivarfs) are mounts of their own.
mount --bind /proc "$other/proc" && mount --rbind /sys "$other/sys"
kmod-sysext-activate --root="$other" --kernel "$(uname -r)" load 2>&1 | sed 's/^/KSX-OTHER /'
m "other-key load exit $(kmod-sysext-activate --root="$other" --kernel "$(uname -r)" load >/dev/null 2>&1; echo $?)"
m "after other key: $(test -e /sys/module/hello_core && echo hello_core-loaded || echo hello_core-missing)"
umount "$other/proc" && umount -R "$other/sys"
modprobe hello 2>&1 | sed 's/^/KSX-MODPROBE /'
m "after modprobe: $(test -e /sys/module/hello && echo hello-loaded || echo hello-missing)"
for extra in /usr/local/lib/ksx-check.d/*; do [ -x "$extra" ] && "$extra"; done
finish
CHECK

# 4. The variable store with the test key in MokList, the disk, one boot.
start=$(now)
mok_vars "$WORK/vars.fd" "$WORK/testkey/cert.pem"
cmdline="root=/dev/vda2 rw console=ttyS0 panic=-1 loglevel=4 no_timer_check dm_verity.require_signatures=1"
efi_disk "$WORK/disk.img" "$root" "$guest/boot/vmlinuz-$kernel" "$guest/boot/initrd.img-$kernel" "$cmdline"
rm -rf "$root"
echo "machine: variable store and disk in $(elapsed "$start") s"
start=$(now)
secureboot_qemu "$WORK/vars.fd" "$WORK/disk.img" "$WORK/secureboot.log" ||
    echo "qemu exited with $? (see $WORK/secureboot.log)"
rm -f "$WORK/disk.img"
echo "boot: $(elapsed "$start") s (TCG, firmware to power-off)"

LOG="$WORK/secureboot.log"
tr -d '\r' <"$LOG" >"$LOG.txt" && LOG="$LOG.txt"

# The chain and the kernel's state.
has "KSX-CHECK kernel $kernel"
has "KSX-CHECK secure-boot 1"
has "KSX-CHECK lockdown none [integrity] confidentiality"
has "KSX-CHECK require_signatures Y"
has "KSX-CHECK verity.d absent"
has "KSX-CHECK multi-user active"
has "KSX-CHECK unit kmod-sysext-select active success"
# nvidia.ko ends with ENODEV without a GPU: the load unit fails for it (nvidia_check below).
if [ -n "$nvidia" ]; then
    has "KSX-CHECK unit kmod-sysext-load failed exit-code"
else
    has "KSX-CHECK unit kmod-sysext-load active success"
fi
has "KSX-DMESG"
grep -q "KSX-DMESG .*integrity: Loaded X.509 cert '$test_key'" "$LOG" ||
    fail "the kernel did not load the test key from MokList: $(grep KSX-DMESG "$LOG")"
# Which keyring holds it, as the activator reads it from /proc/keys and the keyrings.
has "\"keyring\":\".machine\",\"key\":\"$test_key\""
lacks "\"keyring\":\".platform\",\"key\":\"$test_key\""
has "\"kernel_trust\":{\"secure_boot\":true,\"lockdown\":\"integrity\",\"sig_enforce\":true,\"enforced\":true,"
has "KSX-STATUS secure boot: yes"
has "KSX-STATUS lockdown: integrity"
has "KSX-STATUS module signatures: enforced"

# hello: verified, merged through dm-verity with the kernel's signature check, loaded.
has "kmod-sysext-activate: verified $image.raw: signed by kmod-sysext secureboot test, root hash $roothash"
# The signature is linked for systemd-sysext: the kernel holds its key, so it can check it.
lacks "not linking"
grep -q "KSX-SYSEXT /usr.* hello" "$LOG" || fail "systemd-sysext status does not show hello merged"
has "KSX-RELEASE extension-release.hello"
grep -q "^KSX-DMTABLE .* verity .* $roothash .*root_hash_sig_key_desc" "$LOG" ||
    fail "no dm-verity table with root hash $roothash and the kernel's signature check: \
$(grep KSX-DMTABLE "$LOG" || echo none)"
lacks "Required key not available"
has "KSX-MODULE hello_core"
has "KSX-MODULE hello"
has "kmod-sysext-activate: loaded hello_core from /usr/lib/modules/$kernel/extra/hello/hello_core"
has "\"signer\":\"kmod-sysext secureboot test\""
has "\"trust\":\"trusted\",\"keyring\":\".machine\"}"
grep -q "KSX-STATUS   module signer: \"kmod-sysext secureboot test\" (serial [0-9A-F:]*), trusted by the kernel (.machine)" "$LOG" ||
    fail "status does not say that the kernel trusts hello's signer: $(grep 'KSX-STATUS   module' "$LOG" || echo none)"

# hello-tampered: refused, nothing of it merged.
has "kmod-sysext-activate: refused /var/lib/kmod-sysext/hello-tampered/hello-tampered_1.0.0_$kernel.raw: root hash mismatch: image or .verity changed"
lacks "KSX-RELEASE extension-release.hello-tampered"
grep -q "KSX-SYSEXT .*hello-tampered" "$LOG" && fail "hello-tampered was merged"
# With NVIDIA: its modules image and its shared userspace image as well.
[ "$(grep -c "^KSX-DMTABLE .* verity " "$LOG")" = $((${nvidia:+2} + 1)) ] ||
    fail "expected one dm-verity device for hello${nvidia:+ and two for nvidia-open}: $(grep KSX-DMTABLE "$LOG")"

# The other key: one line before the kernel refuses, naming the key and how to enrol it.
has "KSX-CHECK unloaded: 0"
has "KSX-OTHER kmod-sysext-activate: hello: the kernel enforces module signatures (Secure Boot, lockdown integrity) and does not trust the key that signed these modules, \"kmod-sysext other key\""
has "enrol its certificate as a Machine Owner Key"
has "KSX-OTHER kmod-sysext-activate: failed to load hello_core from /usr/lib/modules/$kernel/extra/hello/hello_core"
has "Key was rejected by service"
[ "$(grep -c "^KSX-OTHER .*does not trust the key" "$LOG")" = 1 ] || fail "the key was named more than once"
[ "$(grep -c "^KSX-OTHER .*Key was rejected" "$LOG")" = 1 ] || fail "more than one module was tried"
has "KSX-CHECK other-key load exit 1"
has "KSX-CHECK after other key: hello_core-missing"
# And the test key's modules again, through the modprobe hook.
has "KSX-MODPROBE kmod-sysext-activate: loaded hello from /usr/lib/modules/$kernel/extra/hello/hello"
has "KSX-CHECK after modprobe: hello-loaded"
has "KSX-CHECK done"
mok_import_check "$LOG" "$WORK/mok"
[ -z "$nvidia" ] || nvidia_check "$LOG" "$kernel" "$nvidia_image"
echo "secure boot: shim -> grub -> Debian's kernel $kernel, lockdown integrity, test key in .machine;" \
    "hello merged through dm-verity checked by the kernel (require_signatures), modules loaded;" \
    "hello-tampered refused; the other key's modules refused with one line naming the key;" \
    "mokutil queued the other key from enroll's files${nvidia:+; nvidia.ko accepted under lockdown (No NVIDIA GPU found)}"
echo "PASS"
