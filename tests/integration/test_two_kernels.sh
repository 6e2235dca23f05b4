#!/bin/sh
# Two kernels in the manifest (Debian 12's 6.1 line and its 6.12 line, resolved at run time)
# give two images, built at the same time, each holding modules for its own kernel.
. "$(dirname "$0")/lib.sh"

hello_manifest_with_kernels "$WORK/hello.yaml" \
    "{package: linux-headers-amd64}" "{package: linux-headers-6.12-amd64}"
expect_status 0 "$KSX" build --json --jobs 2 "$WORK/hello.yaml" --output "$WORK/out"
expect_output '"kernel":'
[ "$(ls "$WORK/out" | wc -l)" = 2 ] || fail "expected two images: $(ls "$WORK/out")"
kernels=""
for image in "$WORK/out"/*.raw; do
    name=$(basename "$image")
    kernel=${name#hello_1.0.0_}
    kernel=${kernel%.raw}
    kernels="$kernels $kernel"
    rm -rf "$WORK/x"
    unsquashfs -q -d "$WORK/x" "$image" >/dev/null
    for m in hello_core hello; do
        vermagic=$(modinfo -F vermagic "$WORK/x/usr/lib/modules/$kernel/extra/hello/$m.ko")
        [ "${vermagic%% *}" = "$kernel" ] || fail "$name: $m has vermagic $vermagic"
    done
    grep -qx "KMOD_SYSEXT_KERNEL=$kernel" "$WORK/x/usr/lib/extension-release.d/extension-release.hello" ||
        fail "$name: extension-release names another kernel"
done
echo "kernels:$kernels"
case "$kernels" in
*" 6.1."*" 6.12."* | *" 6.12."*" 6.1."*) ;;
*) fail "expected a 6.1 and a 6.12 kernel, got$kernels" ;;
esac

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
