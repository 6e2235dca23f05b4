#!/bin/sh
# Two kernels in the manifest (Debian 12's 6.1 line and its 6.12 line, resolved at run time)
# give two images, built at the same time, each holding modules for its own kernel, compressed
# as that kernel compresses its own (its CONFIG_MODULE_COMPRESS_* in the developer container).
# Debian 12: bookworm's kernel lines, in a bookworm developer container.
HELLO_MANIFEST=${SRC:?source tree}/manifests/hello-debian12.yaml
. "$(dirname "$0")/lib.sh"

hello_manifest_with_kernels "$WORK/hello.yaml" \
    "{package: linux-headers-amd64}" "{package: linux-headers-6.12-amd64}"
expect_status 0 "$KSX" build --json --jobs 2 "$WORK/hello.yaml" --output "$WORK/out"
expect_output '"kernel":'
cp "$WORK/last.out" "$WORK/build.json"
[ "$(ls "$WORK/out" | wc -l)" = 2 ] || fail "expected two images: $(ls "$WORK/out")"

# The manifest leaves module_compression unset: each kernel's modules are compressed as that
# kernel's configuration in the container says. "KERNEL COMPRESSION CONFIG-FILE" per image.
python3 -c '
import json, sys
for image in json.load(open(sys.argv[1]))["images"]:
    choice = image["module_compression"]
    reason = choice["reason"]
    print(image["kernel"], choice["compression"], reason[reason.index(" in ") + 4:], reason)
' "$WORK/build.json" >"$WORK/compression"
cat "$WORK/compression"
suffix_of() {
    case "$1" in none) echo .ko ;; xz) echo .ko.xz ;; zstd) echo .ko.zst ;; *) fail "compression $1" ;; esac
}
while read -r kernel compression config reason; do
    # The decision agrees with the kernel's own configuration file that it names.
    [ -f "$config" ] || fail "$kernel: the reason names no configuration file: $reason"
    if grep -qx 'CONFIG_MODULE_COMPRESS_XZ=y' "$config"; then
        expected=xz
    elif grep -qx 'CONFIG_MODULE_COMPRESS_ZSTD=y' "$config"; then
        expected=zstd
    else
        expected=none
    fi
    [ "$compression" = "$expected" ] || fail "$kernel: modules compressed $compression, $config says $expected"
    # What Debian's kernels do today (bookworm 6.1: uncompressed; 6.12 from backports: xz).
    case "$kernel" in
    6.1.*) [ "$compression" = none ] || fail "$kernel: expected uncompressed modules, got $compression" ;;
    6.12.*) [ "$compression" = xz ] || fail "$kernel: expected xz modules, got $compression" ;;
    esac
    echo "$kernel: modules $compression ($reason)"
done <"$WORK/compression"

kernels=""
for image in "$WORK/out"/*.raw; do
    name=$(basename "$image")
    kernel=${name#hello_1.0.0_}
    kernel=${kernel%.raw}
    kernels="$kernels $kernel"
    ko=$(suffix_of "$(grep "^$kernel " "$WORK/compression" | cut -d' ' -f2)")
    rm -rf "$WORK/x"
    unsquashfs -q -d "$WORK/x" "$image" >/dev/null
    for m in hello_core hello; do
        [ -f "$WORK/x/usr/lib/modules/$kernel/extra/hello/$m$ko" ] ||
            fail "$name: no $m$ko: $(ls "$WORK/x/usr/lib/modules/$kernel/extra/hello")"
        vermagic=$(modinfo -F vermagic "$WORK/x/usr/lib/modules/$kernel/extra/hello/$m$ko")
        [ "${vermagic%% *}" = "$kernel" ] || fail "$name: $m has vermagic $vermagic"
    done
    grep -q "/extra/hello/hello_core$ko	" "$WORK/x/usr/lib/kmod-sysext/hello/modules.load" ||
        fail "$name: modules.load does not name hello_core$ko"
    grep -qx "KMOD_SYSEXT_KERNEL=$kernel" "$WORK/x/usr/lib/extension-release.d/extension-release.hello" ||
        fail "$name: extension-release names another kernel"
done
echo "kernels:$kernels"
case "$kernels" in
*" 6.1."*" 6.12."* | *" 6.12."*" 6.1."*) ;;
*) fail "expected a 6.1 and a 6.12 kernel, got$kernels" ;;
esac

# `module_compression: none` keeps the 6.12 kernel's modules uncompressed.
{
    cat "$WORK/hello.yaml"
    echo "  module_compression: none"
} >"$WORK/hello-none.yaml"
tail -n 4 "$WORK/hello.yaml" | grep -q '^image:$' || fail "hello.yaml no longer ends with image:"
expect_status 0 "$KSX" build "$WORK/hello-none.yaml" --output "$WORK/none" \
    --kernel package:linux-headers-6.12-amd64
expect_output "compression none (image.module_compression)"
rm -rf "$WORK/x"
unsquashfs -q -d "$WORK/x" "$WORK"/none/hello_1.0.0_6.12.*.raw >/dev/null
ls "$WORK"/x/usr/lib/modules/6.12.*/extra/hello/hello_core.ko >/dev/null ||
    fail "module_compression: none still compressed the 6.12 modules"
echo "module_compression: none: 6.12 modules left uncompressed"

# One kernel failing fails the run and names that kernel and its log, but the other kernel's
# image is still written complete (and the earlier image of the failing kernel is left alone).
before_6_12=$(ls "$WORK/out" | grep '_6\.12\.') || fail "no 6.12 image from the first build"
sum_6_12=$(sha256sum "$WORK/out/$before_6_12" | cut -d' ' -f1)
rm -f "$WORK/out"/*_6.1.*.raw
sed -e 's|^    - make -C|    - case "$KERNEL_RELEASE" in 6.12.*) echo "refusing $KERNEL_RELEASE" >\&2; exit 3;; esac; make -C|' \
    "$WORK/hello.yaml" >"$WORK/half.yaml"
grep -q 'refusing' "$WORK/half.yaml" || fail "could not make the half-failing manifest"
expect_status 1 "$KSX" build --jobs 2 "$WORK/half.yaml" --output "$WORK/out"
expect_output "kernel 6.12."
expect_output "build.log"
ls "$WORK/out" | grep -q '_6\.1\.' || fail "the 6.1 image was not written although its build passed"
[ "$(sha256sum "$WORK/out/$before_6_12" | cut -d' ' -f1)" = "$sum_6_12" ] ||
    fail "the failing kernel's earlier image changed"
unsquashfs -l "$WORK/out"/*_6.1.*.raw >/dev/null || fail "the 6.1 image does not read back"
echo "one failing kernel: other image written, failure named"

# Reproducible: building the same manifest again (one kernel at a time now) gives the same
# bytes for both images, module BTF included (pahole without -j, KBUILD_BUILD_TIMESTAMP set),
# and the build log says why.
for round in 1 2 3; do
    expect_status 0 "$KSX" build --jobs 1 "$WORK/hello.yaml" --output "$WORK/again-$round"
    for image in "$WORK"/again-1/*.raw; do
        cmp -s "$image" "$WORK/again-$round/$(basename "$image")" ||
            fail "round $round: $(basename "$image") differs from round 1"
    done
done
[ "$(ls "$WORK"/again-1/*.raw | wc -l)" = 2 ] || fail "expected two images: $(ls "$WORK/again-1")"
echo "three rebuilds of both kernels gave the same bytes"
