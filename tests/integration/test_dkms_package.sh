#!/bin/sh
# A -dkms package from Debian's archive named only by `apt:`: no subdir, no build, no modules.
# Its .deb unpacks to usr/src/<name>-<version>/ beside its docs; the build finds the dkms.conf
# there and runs it as DKMS 3 does (acpi-call-dkms: MAKE[0], CLEAN, BUILD_EXCLUSIVE_CONFIG),
# for the kernel of the default developer container. A package without any dkms.conf fails
# with an error saying where the dkms.conf was looked for.
. "$(dirname "$0")/lib.sh"

cat >"$WORK/acpi-call.yaml" <<'YAML'
apiVersion: kmod-sysext/v1
name: acpi-call
version: 1.2.2
target: {id: debian, version_id: "12", architecture: x86-64}
kernels:
  - package: linux-headers-amd64
source:
  apt: acpi-call-dkms
YAML
expect_status 0 "$KSX" build --keep-work "$WORK/acpi-call.yaml" --output "$WORK/out"
kept=$(sed -n 's/^work directory kept: //p' "$WORK/last.out")
[ -d "$kept" ] || fail "no work directory named: $(cat "$WORK/last.out")"
set -- "$WORK"/out/acpi-call_1.2.2_*.raw
[ -f "$1" ] && [ $# = 1 ] || fail "expected one image: $(ls "$WORK/out")"
image=$1
kernel=$(basename "$image" .raw)
kernel=${kernel#acpi-call_1.2.2_}
unsquashfs -q -d "$WORK/x" "$image" >/dev/null
modules=$(cd "$WORK/x/usr/lib/modules/$kernel/extra" && find . -name '*.ko*' | sort)
case "$modules" in
./acpi-call/acpi_call.ko | ./acpi-call/acpi_call.ko.xz | ./acpi-call/acpi_call.ko.zst) ;;
*) fail "the image holds other modules than acpi_call: $modules" ;;
esac
ko="$WORK/x/usr/lib/modules/$kernel/extra/$modules"
vermagic=$(modinfo -F vermagic "$ko")
[ "${vermagic%% *}" = "$kernel" ] || fail "acpi_call has vermagic $vermagic, not $kernel"
# Stripped as DKMS strips (STRIP[0] unset: yes): no debug sections left.
if [ "${ko%.ko}" != "$ko" ] && readelf -S "$ko" | grep -q '\.debug_info'; then
    fail "acpi_call.ko still has debug info"
fi
# The build log shows the tree found in usr/src/, the package's own MAKE[0] and its CLEAN run
# before it, in the build directory DKMS uses.
log="$kept/$kernel/build.log"
grep -q "^# source: tree at .*/usr/src/acpi-call-1.2.2$" "$log" || fail "tree not in usr/src: $log"
grep -q "^# dkms.conf: acpi-call 1.2.2, MAKE: make -C .* M=/var/lib/dkms/acpi-call/1.2.2/build$" \
    "$log" || fail "the log does not show acpi-call's MAKE[0]: $log"
sed -n 's/^\$ # \(PRE_BUILD\|CLEAN\|MAKE\|POST_BUILD\)$/\1/p' "$log" | tr '\n' ' ' >"$WORK/steps"
[ "$(cat "$WORK/steps")" = "CLEAN MAKE " ] || fail "steps run: $(cat "$WORK/steps"); see $log"
rm -rf "$kept"
echo "acpi-call-dkms by name: $(basename "$image"), acpi_call vermagic $vermagic"

# A package with no dkms.conf anywhere, and no build.commands: the error says where it looked.
sed -e 's/^name: acpi-call/name: no-dkms/' -e 's/apt: acpi-call-dkms/apt: hello/' \
    "$WORK/acpi-call.yaml" >"$WORK/hello.yaml"
expect_status 2 "$KSX" build "$WORK/hello.yaml" --output "$WORK/out-hello"
grep -qE "error: kernel [^:]*: source: no dkms.conf at usr/dkms.conf or usr/src/\*/dkms.conf in the unpacked hello_[^ ]*\.deb, and the manifest has no build.commands: set source.subdir to the directory that holds the package's dkms.conf, or add build.commands" "$WORK/last.out" ||
    fail "unexpected message: $(cat "$WORK/last.out")"
[ -z "$(ls -A "$WORK/out-hello" 2>/dev/null)" ] || fail "output written for a failed build"
echo "no dkms.conf: $(grep -o 'error: .*' "$WORK/last.out" | head -c 200)..."
echo "PASS"
