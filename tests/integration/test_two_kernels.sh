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
