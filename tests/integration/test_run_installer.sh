#!/bin/sh
# A `url:` source that is a makeself `.run` installer (the way NVIDIA ships its drivers): served
# over HTTP, verified by sha256, extracted by running the installer itself inside the developer
# container, then built like any other tree. The installer is made here with Debian's makeself.
# Debian 12, whose 6.1 kernel leaves modules uncompressed (.ko), as the checks below expect.
HELLO_MANIFEST=${SRC:?source tree}/manifests/hello-debian12.yaml
. "$(dirname "$0")/lib.sh"

mkdir -p "$WORK/payload/hello-src" "$WORK/www"
cp "$SRC"/manifests/hello/* "$WORK/payload/hello-src/"
makeself --quiet --nox11 "$WORK/payload" "$WORK/www/hello-installer.run" "hello sources" true \
    >/dev/null
sha=$(sha256sum "$WORK/www/hello-installer.run" | cut -d' ' -f1)

port=$((20000 + $$ % 20000))
# Bounded by timeout: a failing check exits without stopping it.
(cd "$WORK/www" && exec timeout 600 python3 -m http.server --bind 127.0.0.1 "$port") \
    >"$WORK/http.log" 2>&1 &
sleep 1

hello_manifest_with_kernels "$WORK/hello.yaml" "{package: linux-headers-amd64}"
sed -e "s|^  path: hello\$|  url: http://127.0.0.1:$port/hello-installer.run\\
  sha256: $sha\\
  subdir: hello-src|" "$WORK/hello.yaml" >"$WORK/run.yaml"
grep -q "hello-installer.run" "$WORK/run.yaml" || fail "could not write the manifest"

expect_status 0 "$KSX" build "$WORK/run.yaml" --output "$WORK/out"
image=$(ls "$WORK/out"/hello_1.0.0_*.raw)
kernel=$(basename "$image" .raw)
kernel=${kernel#hello_1.0.0_}
unsquashfs -q -d "$WORK/x" "$image" >/dev/null
for m in hello_core hello; do
    vermagic=$(modinfo -F vermagic "$WORK/x/usr/lib/modules/$kernel/extra/hello/$m.ko")
    [ "${vermagic%% *}" = "$kernel" ] || fail "$m has vermagic $vermagic"
done
echo "installer source: built hello for $kernel"

# A file that is neither an archive nor an installer is refused by name.
printf '#!/bin/sh\necho hi\n' >"$WORK/www/plain.sh"
plain=$(sha256sum "$WORK/www/plain.sh" | cut -d' ' -f1)
sed -e "s|hello-installer.run|plain.sh|; s|$sha|$plain|" "$WORK/run.yaml" >"$WORK/plain.yaml"
expect_status 2 "$KSX" build "$WORK/plain.yaml" --output "$WORK/out2"
expect_output "is neither an archive kmod-sysext can unpack (tar, zip, .deb, .rpm) nor a makeself .run installer"
echo "plain script refused"
