#!/bin/sh
# Builds manifests/hello.yaml (Debian 13) in the real default developer container against
# Debian's current kernel headers and checks the image from every side: libsquashfs (inspect),
# unsquashfs, systemd-dissect, modinfo; then builds it again and compares the bytes.
. "$(dirname "$0")/lib.sh"

expect_status 0 "$KSX" validate "$SRC/manifests/hello.yaml"
expect_output "ok: hello 1.0.0, 1 kernel(s), 2 module(s)"

expect_status 0 "$KSX" build "$SRC/manifests/hello.yaml" --output "$WORK/out1"
images=$(ls "$WORK/out1")
[ "$(echo "$images" | wc -l)" = 1 ] || fail "expected one image, got: $images"
image="$WORK/out1/$images"
case "$images" in
hello_1.0.0_*.raw) ;;
*) fail "unexpected image name $images" ;;
esac
kernel=${images#hello_1.0.0_}
kernel=${kernel%.raw}
echo "kernel: $kernel"
case "$kernel" in
[0-9]*.*-amd64) ;;
*) fail "resolved kernel release looks wrong: $kernel" ;;
esac

# unsquashfs -l: every expected path, and no modules.* index anywhere. The modules are
# compressed as the kernel compresses its own (Debian 13's 6.12: xz).
unsquashfs -l "$image" >"$WORK/list"
ko=$(sed -n 's|^squashfs-root/usr/lib/modules/.*/extra/hello/hello_core\(\.ko[.a-z]*\)$|\1|p' "$WORK/list")
case "$ko" in
.ko | .ko.xz | .ko.zst) echo "modules: $ko" ;;
*) fail "no hello_core.ko, .ko.xz or .ko.zst in the image" ;;
esac
for path in \
    usr/lib/extension-release.d/extension-release.hello \
    "usr/lib/modules/$kernel/extra/hello/hello_core$ko" \
    "usr/lib/modules/$kernel/extra/hello/hello$ko" \
    usr/lib/kmod-sysext/hello/modules.load \
    usr/lib/kmod-sysext/hello/modprobe-hook \
    usr/lib/modprobe.d/kmod-sysext-hello.conf \
    usr/share/hello-sysext/hello.conf; do
    grep -qx "squashfs-root/$path" "$WORK/list" || fail "image lacks $path"
done
if grep -E '/modules\.[a-z.]+$' "$WORK/list" | grep -v 'modules.load$'; then
    fail "image ships a modules.* index"
fi
unsquashfs -lln "$image" | awk 'NR>3 && $2 != "0/0" { print; bad=1 } END { exit bad }' ||
    fail "an inode is not owned by 0/0"

# unsquashfs -d: file contents.
unsquashfs -q -d "$WORK/x" "$image" >/dev/null
cat >"$WORK/release.expected" <<EXPECTED
ID=debian
VERSION_ID=13
ARCHITECTURE=x86-64
KMOD_SYSEXT_NAME=hello
KMOD_SYSEXT_VERSION=1.0.0
KMOD_SYSEXT_KERNEL=$kernel
EXPECTED
cmp "$WORK/release.expected" "$WORK/x/usr/lib/extension-release.d/extension-release.hello" ||
    fail "extension-release differs"
cmp "$SRC/manifests/hello/hello.conf" "$WORK/x/usr/share/hello-sysext/hello.conf" ||
    fail "extra file differs"
for m in hello_core hello; do
    file="$WORK/x/usr/lib/modules/$kernel/extra/hello/$m$ko"
    vermagic=$(modinfo -F vermagic "$file")
    [ "${vermagic%% *}" = "$kernel" ] || fail "$m vermagic '$vermagic' is not for $kernel"
    case "$ko" in
    .ko.xz) xz -dc "$file" >"$WORK/$m.ko" ;;
    .ko.zst) zstd -q -dc "$file" >"$WORK/$m.ko" ;;
    *) cp "$file" "$WORK/$m.ko" ;;
    esac
    if readelf -S "$WORK/$m.ko" | grep -q '\.debug_info'; then
        fail "$m$ko still has debug info"
    fi
done
[ "$(modinfo -F depends "$WORK/x/usr/lib/modules/$kernel/extra/hello/hello$ko")" = hello_core ] ||
    fail "hello does not depend on hello_core"
printf '%s\n' "# kmod-sysext load order, format 1" "# extension hello 1.0.0" "# kernel $kernel" \
    "hello_core	/usr/lib/modules/$kernel/extra/hello/hello_core$ko	-	boot	greeting=\"hello from kmod-sysext\"" \
    "hello	/usr/lib/modules/$kernel/extra/hello/hello$ko	hello_core	boot	" >"$WORK/load.expected"
cmp "$WORK/load.expected" "$WORK/x/usr/lib/kmod-sysext/hello/modules.load" || {
    diff "$WORK/load.expected" "$WORK/x/usr/lib/kmod-sysext/hello/modules.load"
    fail "modules.load differs"
}
grep -qx "install hello /usr/lib/kmod-sysext/hello/modprobe-hook hello \$CMDLINE_OPTS" \
    "$WORK/x/usr/lib/modprobe.d/kmod-sysext-hello.conf" || fail "modprobe.d hook line missing"
[ -x "$WORK/x/usr/lib/kmod-sysext/hello/modprobe-hook" ] || fail "modprobe-hook not executable"

# libsquashfs, through inspect.
expect_status 0 "$KSX" inspect "$image"
expect_output "KMOD_SYSEXT_KERNEL=$kernel"
expect_output "hello_core (boot) /usr/lib/modules/$kernel/extra/hello/hello_core$ko"
expect_output "verity: no .verity, .roothash or .roothash.p7s next to the image"
expect_output "  /usr/lib/modules/$kernel/extra/hello/hello_core$ko: unsigned"
expect_status 0 "$KSX" inspect --json "$image"
expect_output "\"compression\": \"zstd\""
expect_output "\"verity\": null"
expect_output "\"signed\": false"

# systemd's own reader, under the name the activator links it as (/run/extensions/hello.raw):
# systemd-sysext only merges an image whose extension-release.NAME matches its file name.
mkdir "$WORK/extensions"
ln -s "$image" "$WORK/extensions/hello.raw"
expect_status 0 systemd-dissect --no-pager "$WORK/extensions/hello.raw"
expect_output "✓ extension for system"

# Same inputs, same bytes.
expect_status 0 "$KSX" build --quiet "$SRC/manifests/hello.yaml" --output "$WORK/out2"
sum1=$(sha256sum <"$image")
sum2=$(sha256sum <"$WORK/out2/$images")
[ "$sum1" = "$sum2" ] || fail "two builds differ: $sum1 vs $sum2"
ls -A "$WORK/out1" "$WORK/out2" | grep -q '\.tmp' && fail "temp files left behind"
echo "image: $(stat -c %s "$image") bytes, sha256 ${sum1%% *}"
