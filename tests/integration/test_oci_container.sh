#!/bin/sh
# Builds the hello module for Debian's 6.1 kernel inside a developer container pulled from a
# registry: the cached default Debian developer container, packed as a two-layer OCI image
# (the second layer holds /usr/src and a whiteout), pushed with skopeo to docker-registry on
# 127.0.0.1 and named by `container: {oci: ...}`. The image must equal the one built in the
# default container byte for byte. Then: the cached root filesystem is reused, a stopped
# registry falls back to the tag's last image, and bad references exit as the CLI promises.
# Debian 12: bookworm's kernel lines, in a bookworm developer container.
HELLO_MANIFEST=${SRC:?source tree}/manifests/hello-debian12.yaml
. "$(dirname "$0")/lib.sh"

# 1. The default developer container (made by the first build that needs it) and its image.
hello_manifest_with_kernels "$WORK/debian.yaml" "{package: linux-headers-amd64}"
expect_status 0 "$KSX" build "$WORK/debian.yaml" --output "$WORK/out-debian"
key=$(sed -n 's/.* in debian bookworm (cache \([0-9a-f]*\)).*/\1/p' "$WORK/last.out" | head -n 1)
[ -n "$key" ] || { cat "$WORK/last.out"; fail "cannot tell which default container was used"; }
rootfs=${XDG_CACHE_HOME:-$HOME/.cache}/kmod-sysext/containers/debian-$key/rootfs
[ -d "$rootfs/usr/src" ] || fail "no default developer container at $rootfs"
debian_image=$(ls "$WORK/out-debian"/*.raw)

# 2. Two layers: everything but /usr/src, then /usr/src and a whiteout of /etc/issue.
mkdir -p "$WORK/layout/blobs/sha256" "$WORK/stage/etc"
tar -C "$rootfs" --numeric-owner --exclude=./usr/src -cf "$WORK/layer1.tar" .
: >"$WORK/stage/etc/.wh.issue"
tar -C "$rootfs" --numeric-owner -cf "$WORK/layer2.tar" ./usr/src
tar -C "$WORK/stage" --numeric-owner -rf "$WORK/layer2.tar" ./etc/.wh.issue
python3 - "$WORK" <<'PYTHON'
import gzip, hashlib, json, os, shutil, sys
work = sys.argv[1]
blobs = os.path.join(work, "layout/blobs/sha256")

def blob(data, media_type):
    digest = hashlib.sha256(data).hexdigest()
    with open(os.path.join(blobs, digest), "wb") as f:
        f.write(data)
    return {"mediaType": media_type, "digest": "sha256:" + digest, "size": len(data)}

layers, diff_ids = [], []
for name in ("layer1.tar", "layer2.tar"):
    plain, packed = os.path.join(work, name), os.path.join(work, name + ".gz")
    diff = hashlib.sha256()
    with open(plain, "rb") as src, gzip.open(packed, "wb", compresslevel=1) as dst:
        while chunk := src.read(1 << 20):
            diff.update(chunk)
            dst.write(chunk)
    os.unlink(plain)
    digest = hashlib.sha256()
    with open(packed, "rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    size = os.path.getsize(packed)
    os.rename(packed, os.path.join(blobs, digest.hexdigest()))
    layers.append({"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                   "digest": "sha256:" + digest.hexdigest(), "size": size})
    diff_ids.append("sha256:" + diff.hexdigest())
config = blob(json.dumps({"architecture": "amd64", "os": "linux",
                          "rootfs": {"type": "layers", "diff_ids": diff_ids},
                          "config": {}}).encode(), "application/vnd.oci.image.config.v1+json")
manifest = blob(json.dumps({"schemaVersion": 2,
                            "mediaType": "application/vnd.oci.image.manifest.v1+json",
                            "config": config, "layers": layers}).encode(),
                "application/vnd.oci.image.manifest.v1+json")
manifest["annotations"] = {"org.opencontainers.image.ref.name": "bookworm"}
with open(os.path.join(work, "layout/index.json"), "w") as f:
    json.dump({"schemaVersion": 2, "manifests": [manifest]}, f)
with open(os.path.join(work, "layout/oci-layout"), "w") as f:
    f.write('{"imageLayoutVersion": "1.0.0"}')
PYTHON

# 3. A registry on 127.0.0.1 with a port of its own, and the image pushed to it.
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat >"$WORK/registry.yml" <<YAML
version: 0.1
log:
  level: error
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $WORK/registry
http:
  addr: 127.0.0.1:$port
YAML
docker-registry serve "$WORK/registry.yml" >"$WORK/registry.log" 2>&1 &
registry_pid=$!
trap 'status=$?; kill $registry_pid 2>/dev/null || true; if [ $status -eq 0 ]; then rm -rf "$WORK"; else echo "files kept in $WORK"; fi' EXIT
for _ in $(seq 100); do
    curl -sf "http://127.0.0.1:$port/v2/" >/dev/null && break
    sleep 0.1
done
curl -sf "http://127.0.0.1:$port/v2/" >/dev/null || { cat "$WORK/registry.log"; fail "registry did not start"; }
image="127.0.0.1:$port/kmod-sysext/devcontainer:bookworm"
expect_status 0 skopeo --insecure-policy copy --quiet --dest-tls-verify=false \
    "oci:$WORK/layout:bookworm" "docker://$image"
rm -rf "$WORK/layout"

# 4. The hello manifest with the container from the registry; a cache of its own for the pull.
oci_manifest() {
    sed -e '/^container:/,/^source:/{/^source:/!d}' "$WORK/debian.yaml" |
        sed -e "s|^source:|container:\n  oci:\n    image: \"$1\"\n    insecure: true\nsource:|" >"$2"
}
oci_manifest "$image" "$WORK/oci.yaml"
grep -q '^  oci:' "$WORK/oci.yaml" || fail "could not write the oci manifest"
export XDG_CACHE_HOME="$WORK/cache"
expect_status 0 "$KSX" build "$WORK/oci.yaml" --output "$WORK/out-oci"
expect_output "in oci $image for linux/amd64 (sha256:"
expect_output "downloaded"
oci_image=$(ls "$WORK/out-oci"/*.raw)
[ "$(basename "$oci_image")" = "$(basename "$debian_image")" ] ||
    fail "the images are named differently: $oci_image, $debian_image"
kernel=$(basename "$oci_image" .raw)
kernel=${kernel#hello_1.0.0_}
case "$kernel" in 6.1.*-amd64) ;; *) fail "not Debian's 6.1 kernel: $kernel" ;; esac
unsquashfs -q -d "$WORK/x" "$oci_image" >/dev/null
for m in hello_core hello; do
    vermagic=$(modinfo -F vermagic "$WORK/x/usr/lib/modules/$kernel/extra/hello/$m.ko")
    [ "${vermagic%% *}" = "$kernel" ] || fail "$m has vermagic $vermagic, not $kernel"
done
cmp "$oci_image" "$debian_image" || fail "the image built in the pulled container differs"
pulled=$(ls -d "$WORK"/cache/kmod-sysext/containers/oci-*/rootfs)
[ -d "$pulled/usr/src/linux-headers-$kernel" ] || fail "the pulled rootfs lacks the headers"
[ ! -e "$pulled/etc/issue" ] || fail "the whiteout of /etc/issue was not applied"
[ -e "$rootfs/etc/issue" ] || fail "the default container lost /etc/issue"

# 5. The next run reuses the root filesystem: the tag is asked for, nothing is downloaded.
expect_status 0 "$KSX" build "$WORK/oci.yaml" --output "$WORK/out-oci"
if grep -q "download" "$WORK/last.out"; then
    cat "$WORK/last.out"
    fail "the second run downloaded again"
fi

# 6. An unknown tag and a digest the registry does not have are bad input (exit 2).
oci_manifest "127.0.0.1:$port/kmod-sysext/devcontainer:nope" "$WORK/unknown.yaml"
expect_status 2 "$KSX" build "$WORK/unknown.yaml" --output "$WORK/out-bad"
expect_output "127.0.0.1:$port/kmod-sysext/devcontainer:nope: no such image in the registry (HTTP 404"
zeros=sha256:0000000000000000000000000000000000000000000000000000000000000000
oci_manifest "127.0.0.1:$port/kmod-sysext/devcontainer@$zeros" "$WORK/digest.yaml"
expect_status 2 "$KSX" build "$WORK/digest.yaml" --output "$WORK/out-bad"
expect_output "127.0.0.1:$port/kmod-sysext/devcontainer@$zeros: no such image in the registry"

# 7. Without the registry, the tag's last image is used, and the run says so.
kill $registry_pid
wait $registry_pid 2>/dev/null || true
expect_status 0 "$KSX" build "$WORK/oci.yaml" --output "$WORK/out-offline"
expect_output "registry 127.0.0.1:$port cannot be reached"
expect_output "using the cached image sha256:"
cmp "$WORK/out-offline/$(basename "$oci_image")" "$oci_image" || fail "the offline build differs"

# 8. Bad references: an unreachable registry without a cached image exits 1; a reference that
# is no reference exits 2 with the manifest's line and column.
oci_manifest "127.0.0.1:$port/kmod-sysext/other:v1" "$WORK/unreachable.yaml"
expect_status 1 "$KSX" build "$WORK/unreachable.yaml" --output "$WORK/out-bad"
expect_output "registry 127.0.0.1:$port cannot be reached"
oci_manifest "127.0.0.1:$port/Upper/case:v1" "$WORK/invalid.yaml"
expect_status 2 "$KSX" validate "$WORK/invalid.yaml"
expect_output "invalid.yaml:"
expect_output ": error: container.oci.image: \"127.0.0.1:$port/Upper/case:v1\" is not an image reference"
[ ! -e "$WORK/out-bad" ] || [ -z "$(ls -A "$WORK/out-bad")" ] || fail "a failed build left files"
echo "ok: hello for $kernel built in $image, equal to the default container's image"
