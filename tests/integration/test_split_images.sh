#!/bin/sh
# Split images (`userspace: shared`): manifests/hello-split.yaml built for Debian 13's current
# kernel, signed. Both images are read back with unsquashfs: the modules image holds no
# userspace file, the shared hello-userspace_1.0.0.raw holds the files and no modules; their
# extension-release files, `verify` and `inspect` on each; a rebuild from the build cache gives
# the same bytes; `publish` lists both (SHA256SUMS, index.json, sysupdate transfers, OSTree),
# Ignition provisions both, and systemd-sysupdate fetches the pair of one version from the
# served release, passing over a newer shared image that has no modules image for the kernel.
. "$(dirname "$0")/lib.sh"

json() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print($2)" "$1"; }

"$KSX" keygen --quiet --out "$WORK/keys" --cn "kmod-sysext split test" >/dev/null ||
    fail "keygen failed"
sign="--sign-key $WORK/keys/key.pem --sign-cert $WORK/keys/cert.pem"
cp -r "$SRC/manifests/hello" "$WORK/hello"
cp "$SRC/manifests/hello-split.yaml" "$WORK/hello-split.yaml"

# 1. The build: one modules image and one shared image, each with its three sidecars.
# shellcheck disable=SC2086
"$KSX" build --json "$WORK/hello-split.yaml" --output "$WORK/out" $sign >"$WORK/build.json" ||
    fail "build failed"
modules=$(cd "$WORK/out" && ls hello_1.0.0_*.raw)
kernel=${modules#hello_1.0.0_}
kernel=${kernel%.raw}
echo "kernel: $kernel"
shared=hello-userspace_1.0.0.raw
for suffix in raw verity roothash roothash.p7s; do
    for stem in "hello_1.0.0_$kernel" hello-userspace_1.0.0; do
        [ -f "$WORK/out/$stem.$suffix" ] || fail "no $stem.$suffix"
    done
done
[ "$(ls "$WORK/out" | wc -l)" = 8 ] || fail "expected 8 files, got: $(ls "$WORK/out")"
[ "$(json "$WORK/build.json" "[i['kernel'] for i in d['images'] if i.get('userspace')]")" = "[None]" ] ||
    fail "build --json does not list the shared image without a kernel"
[ "$(json "$WORK/build.json" "len(d['images'])")" = 2 ] || fail "build --json: not two images"

# 2. unsquashfs: what each image holds.
unsquashfs -l "$WORK/out/$modules" | sed 's|^squashfs-root||' >"$WORK/modules.list"
unsquashfs -l "$WORK/out/$shared" | sed 's|^squashfs-root||' >"$WORK/shared.list"
for path in /usr/lib/extension-release.d/extension-release.hello \
    /usr/lib/kmod-sysext/hello/modules.load /usr/lib/modprobe.d/kmod-sysext-hello.conf; do
    grep -qx "$path" "$WORK/modules.list" || fail "the modules image lacks $path"
done
grep -q "^/usr/lib/modules/$kernel/extra/hello/hello_core\.ko" "$WORK/modules.list" ||
    fail "the modules image lacks hello_core"
grep -q "^/usr/share" "$WORK/modules.list" && fail "the modules image holds userspace files"
grep -qx /usr/share/hello-sysext/hello.conf "$WORK/shared.list" || fail "the shared image lacks the file"
grep -qx /usr/lib/extension-release.d/extension-release.hello-userspace "$WORK/shared.list" ||
    fail "the shared image lacks its extension-release"
grep -q "^/usr/lib/modules" "$WORK/shared.list" && fail "the shared image holds modules"
grep -q "^/usr/lib/kmod-sysext\|^/usr/lib/modprobe.d" "$WORK/shared.list" &&
    fail "the shared image holds module metadata"
unsquashfs -q -d "$WORK/x" "$WORK/out/$shared" >/dev/null
cmp "$SRC/manifests/hello/hello.conf" "$WORK/x/usr/share/hello-sysext/hello.conf" ||
    fail "the shared file differs"
printf '%s\n' ID=debian VERSION_ID=13 ARCHITECTURE=x86-64 KMOD_SYSEXT_NAME=hello \
    KMOD_SYSEXT_VERSION=1.0.0 >"$WORK/shared.release"
cmp "$WORK/shared.release" "$WORK/x/usr/lib/extension-release.d/extension-release.hello-userspace" ||
    fail "the shared image's extension-release differs"
unsquashfs -q -d "$WORK/m" "$WORK/out/$modules" >/dev/null
printf '%s\n' ID=debian VERSION_ID=13 ARCHITECTURE=x86-64 KMOD_SYSEXT_NAME=hello \
    KMOD_SYSEXT_VERSION=1.0.0 "KMOD_SYSEXT_KERNEL=$kernel" KMOD_SYSEXT_USERSPACE=1.0.0 \
    >"$WORK/modules.release"
cmp "$WORK/modules.release" "$WORK/m/usr/lib/extension-release.d/extension-release.hello" ||
    fail "the modules image's extension-release differs"

# 3. verify and inspect, each image of the set.
for image in "$modules" "$shared"; do
    expect_status 0 "$KSX" verify "$WORK/out/$image" --cert "$WORK/keys/cert.pem"
done
expect_output "hello-userspace, shared userspace of version 1.0.0"
cp "$WORK/out/$shared" "$WORK/out/hello-userspace.raw" # systemd's own name: accepted as well
cp "$WORK/out/hello-userspace_1.0.0.verity" "$WORK/out/hello-userspace.verity"
cp "$WORK/out/hello-userspace_1.0.0.roothash" "$WORK/out/hello-userspace.roothash"
cp "$WORK/out/hello-userspace_1.0.0.roothash.p7s" "$WORK/out/hello-userspace.roothash.p7s"
expect_status 0 "$KSX" verify "$WORK/out/hello-userspace.raw" --cert "$WORK/keys/cert.pem"
rm "$WORK"/out/hello-userspace.*
# A shared image whose data was changed fails its verity check.
cp "$WORK/out/$shared" "$WORK/tampered.raw"
for suffix in verity roothash roothash.p7s; do
    cp "$WORK/out/hello-userspace_1.0.0.$suffix" "$WORK/tampered.$suffix"
done
printf 'X' | dd of="$WORK/tampered.raw" bs=1 seek=200 conv=notrunc 2>/dev/null
expect_status 1 "$KSX" verify "$WORK/tampered.raw" --cert "$WORK/keys/cert.pem"
"$KSX" inspect --json "$WORK/out/$shared" >"$WORK/inspect.json" || fail "inspect failed"
[ "$(json "$WORK/inspect.json" "d['extensions']['hello-userspace']['userspace']")" = True ] ||
    fail "inspect does not call the shared image userspace"
[ "$(json "$WORK/inspect.json" "d['extensions']['hello-userspace']['kernel']")" = None ] ||
    fail "inspect gives the shared image a kernel"
json "$WORK/inspect.json" "'\n'.join(e['path'] for e in d['entries'])" >"$WORK/inspect.paths"
grep -qx /usr/share/hello-sysext/hello.conf "$WORK/inspect.paths" ||
    fail "inspect does not list the shared image's file"
expect_status 0 "$KSX" inspect "$WORK/out/$modules"
expect_output "needs the shared userspace image hello-userspace_1.0.0.raw"

# 4. The build cache: a second build stores, a third is a hit for both images; every file of
# the set comes out byte for byte the same as the first build's.
# shellcheck disable=SC2086
expect_status 0 env KSX_BUILD_CACHE=on "$KSX" build "$WORK/hello-split.yaml" --output "$WORK/out2" $sign
# shellcheck disable=SC2086
KSX_BUILD_CACHE=on "$KSX" build --json "$WORK/hello-split.yaml" --output "$WORK/out3" $sign \
    >"$WORK/hit.json" || fail "the third build failed"
[ "$(json "$WORK/hit.json" "d['build_cache_hits']")" = 2 ] || fail "not both images were hits"
[ "$(json "$WORK/hit.json" "[(i.get('userspace', False), i['build_cache']) for i in d['images']]")" = \
    "[(False, 'hit'), (True, 'hit')]" ] || fail "the images' build_cache fields after a hit"
[ "$(json "$WORK/hit.json" "d['container_runs']")" = 0 ] || fail "a cache hit ran the container"
for path in "$WORK"/out/*; do
    file=${path##*/}
    cmp "$WORK/out/$file" "$WORK/out2/$file" || fail "$file differs between two builds"
    cmp "$WORK/out/$file" "$WORK/out3/$file" || fail "$file differs after a build cache hit"
done
# Another shared file (outside the module source tree) makes the shared image again; the
# modules image is still a hit, its set byte for byte the first build's.
mkdir "$WORK/changed"
cp -r "$WORK/hello" "$WORK/changed/"
printf 'greeting=changed\n' >"$WORK/changed/changed.conf"
sed 's|source: hello/hello.conf|source: changed.conf|' "$WORK/hello-split.yaml" \
    >"$WORK/changed/hello-split.yaml"
grep -q "source: changed.conf" "$WORK/changed/hello-split.yaml" || fail "the manifest was not changed"
# shellcheck disable=SC2086
KSX_BUILD_CACHE=on "$KSX" build --json "$WORK/changed/hello-split.yaml" --output "$WORK/out4" \
    $sign >"$WORK/changed.json" || fail "the build with a changed shared file failed"
[ "$(json "$WORK/changed.json" "[(i.get('userspace', False), i['build_cache']) for i in d['images']]")" = \
    "[(False, 'hit'), (True, 'miss')]" ] || fail "a changed shared file: not only the shared image made"
[ "$(json "$WORK/changed.json" "d['container_runs']")" = 0 ] || fail "a changed shared file ran the container"
for suffix in raw verity roothash roothash.p7s; do
    cmp "$WORK/out/hello_1.0.0_$kernel.$suffix" "$WORK/out4/hello_1.0.0_$kernel.$suffix" ||
        fail "the modules image's .$suffix changed with a shared file"
done
cmp -s "$WORK/out/$shared" "$WORK/out4/$shared" && fail "the shared image did not change"
unsquashfs -q -d "$WORK/x4" "$WORK/out4/$shared" >/dev/null
grep -qx greeting=changed "$WORK/x4/usr/share/hello-sysext/hello.conf" ||
    fail "the shared image does not hold the changed file"

# 5. publish: SHA256SUMS, index.json and sysupdate transfers of both images; OSTree.
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
base="http://127.0.0.1:$port"
expect_status 0 "$KSX" publish --from "$WORK/out" --to "$WORK/rel" --base-url "$base" \
    --cert "$WORK/keys/cert.pem"
for path in "$WORK"/out/*; do
    file=${path##*/}
    grep -q "  $file\$" "$WORK/rel/SHA256SUMS" || fail "SHA256SUMS lacks $file"
done
(cd "$WORK/rel" && sha256sum --quiet -c SHA256SUMS) || fail "SHA256SUMS does not check"
index="$WORK/rel/index.json"
[ "$(json "$index" "[(i['file'], i['kernel'], i.get('userspace'), i['modules']) for i in d['images'] if i['name'] == 'hello' and i['kernel'] is None]")" = \
    "[('$shared', None, True, [])]" ] || fail "index.json: the shared image entry"
[ "$(json "$index" "[i.get('userspace_version') for i in d['images'] if i['kernel'] == '$kernel']")" = "['1.0.0']" ] ||
    fail "index.json: the modules image lacks userspace_version"
[ "$(json "$index" "[len(i['sidecars']) for i in d['images']]")" = "[3, 3]" ] ||
    fail "index.json: sidecars"
defs="$WORK/rel/sysupdate.d/$kernel"
for stem in hello hello.verity hello.roothash hello.roothash.p7s hello-userspace \
    hello-userspace.verity hello-userspace.roothash hello-userspace.roothash.p7s; do
    [ -f "$defs/$stem.transfer" ] || fail "no sysupdate transfer $stem.transfer"
    cmp "$defs/$stem.conf" "$defs/$stem.transfer" || fail "$stem: .conf and .transfer differ"
done
grep -qx "MatchPattern=hello-userspace_@v.raw" "$defs/hello-userspace.transfer" ||
    fail "the shared image's transfer pattern"
grep -qx "MatchPattern=hello-userspace_@v.roothash.p7s" "$defs/hello-userspace.roothash.p7s.transfer" ||
    fail "the shared image's signature transfer pattern"
grep -qx "Path=/var/lib/kmod-sysext/hello" "$defs/hello-userspace.transfer" ||
    fail "the shared image does not go to the extension's store directory"
command -v ostree >/dev/null || fail "the ostree CLI is missing"
expect_status 0 "$KSX" publish --from "$WORK/out" --ostree "$WORK/repo"
ostree --repo="$WORK/repo" refs >"$WORK/refs"
grep -qx "kmod-sysext/hello-userspace/x86-64/debian-13" "$WORK/refs" || fail "no OSTree ref for the shared image"
grep -qx "kmod-sysext/hello/x86-64/$(echo "$kernel" | tr + _)" "$WORK/refs" || fail "no OSTree ref for the modules"
[ "$(ostree --repo="$WORK/repo" show --print-metadata-key=kmod-sysext.userspace kmod-sysext/hello-userspace/x86-64/debian-13)" = true ] ||
    fail "OSTree metadata of the shared image"
ostree --repo="$WORK/repo" checkout kmod-sysext/hello-userspace/x86-64/debian-13 "$WORK/co"
cmp "$SRC/manifests/hello/hello.conf" "$WORK/co/usr/share/hello-sysext/hello.conf" ||
    fail "the OSTree commit of the shared image"

# 6. Ignition from the release puts both images and their sidecars in the store.
expect_status 0 "$KSX" ignition "$WORK/rel" --base-url "$base" --cert "$WORK/keys/cert.pem" --no-activator \
    --output "$WORK/node.ign"
json "$WORK/node.ign" "'\n'.join(f['path'] for f in d['storage']['files'])" >"$WORK/node.paths"
for path in "$WORK"/out/*; do
    file=${path##*/}
    grep -qx "/var/lib/kmod-sysext/hello/$file" "$WORK/node.paths" ||
        fail "Ignition does not provision $file"
done

# 7. systemd-sysupdate with the kernel's transfers, from the served release, into a temporary
# root. The release also holds a newer shared image (2.0.0) without a modules image for this
# kernel: sysupdate installs only a version every transfer has, so it fetches the 1.0.0 pair.
sed 's/^version: 1.0.0$/version: 2.0.0/' "$WORK/hello-split.yaml" >"$WORK/hello-split-2.yaml"
# shellcheck disable=SC2086
expect_status 0 "$KSX" build "$WORK/hello-split-2.yaml" --output "$WORK/out-2" $sign
rm "$WORK/out-2/hello_2.0.0_$kernel".*
expect_status 0 "$KSX" publish --from "$WORK/out" --from "$WORK/out-2" --to "$WORK/served" \
    --base-url "$base"
grep -q "  hello-userspace_2.0.0.raw\$" "$WORK/served/SHA256SUMS" || fail "the 2.0.0 shared image is not published"
find_sysupdate
timeout 900 python3 -m http.server "$port" --bind 127.0.0.1 --directory "$WORK/served" \
    >"$WORK/http.log" 2>&1 &
server=$!
python3 - "$port" <<'PY' || fail "the HTTP server did not start"
import socket, sys, time
for _ in range(300):
    try:
        socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=1).close()
        sys.exit(0)
    except OSError:
        time.sleep(0.1)
sys.exit(1)
PY
mkdir -p "$WORK/su/var/lib/kmod-sysext/hello"
# shellcheck disable=SC2086 # a command and its arguments
expect_status 0 $SYSUPDATE --definitions="$WORK/served/sysupdate.d/$kernel" --root="$WORK/su" update
kill "$server" 2>/dev/null || true
for path in "$WORK"/out/*; do
    file=${path##*/}
    cmp "$WORK/su/var/lib/kmod-sysext/hello/$file" "$WORK/out/$file" || fail "sysupdate: $file"
done
[ "$(ls "$WORK/su/var/lib/kmod-sysext/hello" | wc -l)" = 8 ] ||
    fail "sysupdate fetched other files: $(ls "$WORK/su/var/lib/kmod-sysext/hello")"
echo "PASS"
