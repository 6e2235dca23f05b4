#!/bin/sh
# plan -> build --only per shard (separate processes) -> publish, against real images of
# manifests/hello for Debian's 6.1 and 6.12 kernels: incremental publish equals a single-run
# publish, republishing changes nothing, conflicts are refused, a killed publish leaves the
# release intact, SHA256SUMS.gpg verifies with gpg, the generated Ignition passes
# ignition-validate and its files, fetched from a local HTTP server, match their hashes; the
# OSTree repository is checked with the ostree CLI; the activator prefetches a kernel's images
# from the served release and verifies what Ignition put in its store.
. "$(dirname "$0")/lib.sh"
ACTIVATE=${ACTIVATE:?path of kmod-sysext-activate}

json() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print($2)" "$1"; }

# 1. The matrix, and one build per entry.
hello_manifest_with_kernels "$WORK/hello.yaml" \
    "{package: linux-headers-amd64}" "{package: linux-headers-6.12-amd64}"
expect_status 0 "$KSX" plan "$WORK/hello.yaml"
cp "$WORK/last.out" "$WORK/plan.json"
entries=$(json "$WORK/plan.json" '" ".join(e["entry"] for e in d["include"])')
[ "$entries" = "package-linux-headers-6.12-amd64 package-linux-headers-amd64" ] ||
    fail "plan entries: $entries"
expect_status 0 "$KSX" plan "$WORK/hello.yaml" --format github
expect_output 'matrix={"include":[{"entry":"package-linux-headers-6.12-amd64"'
expect_status 2 "$KSX" build --only nope "$WORK/hello.yaml" --output "$WORK/nope"
expect_output "kmod-sysext: error: --only: no plan entry \"nope\" (entries: package-linux-headers-6.12-amd64, package-linux-headers-amd64)"

expect_status 0 "$KSX" keygen --out "$WORK/keys" --cn "kmod-sysext publish test" --algorithm ecdsa
for entry in $entries; do
    expect_status 0 "$KSX" build -q --only "$entry" "$WORK/hello.yaml" --output "$WORK/shard-$entry" \
        --sign-key "$WORK/keys/key.pem" --sign-cert "$WORK/keys/cert.pem"
    [ "$(ls "$WORK/shard-$entry"/*.raw | wc -l)" = 1 ] || fail "shard $entry: $(ls "$WORK/shard-$entry")"
done
S1="$WORK/shard-package-linux-headers-amd64"
S2="$WORK/shard-package-linux-headers-6.12-amd64"
k61=$(basename "$S1"/*.raw .raw); k61=${k61#hello_1.0.0_}
k612=$(basename "$S2"/*.raw .raw); k612=${k612#hello_1.0.0_}
ACTIVATOR="$WORK/keys/cert.pem" # any file stands in for the binary here
URL=http://127.0.0.1:1/unused

# 2. Shard by shard (two processes) and both at once give the same release.
expect_status 0 "$KSX" publish --from "$S1" --to "$WORK/rel" --base-url "$URL" --cert "$WORK/keys/cert.pem"
expect_output "published $WORK/rel with 1 image(s)"
expect_status 0 "$KSX" publish --from "$S2" --to "$WORK/rel" --base-url "$URL" --cert "$WORK/keys/cert.pem"
expect_status 0 "$KSX" publish --from "$S2" --from "$S1" --to "$WORK/all" --base-url "$URL" \
    --cert "$WORK/keys/cert.pem"
for f in index.json SHA256SUMS "sysupdate.d/$k61/hello.transfer" "sysupdate.d/$k612/hello.roothash.p7s.transfer"; do
    cmp "$WORK/rel/$f" "$WORK/all/$f" || fail "$f differs between incremental and single-run publish"
done
(cd "$WORK/rel" && sha256sum --quiet -c SHA256SUMS) || fail "SHA256SUMS does not check"
[ "$(json "$WORK/rel/index.json" 'd["images"][1]["signer"]')" = "CN=kmod-sysext publish test" ] ||
    fail "signer missing from index.json"
[ "$(json "$WORK/rel/index.json" 'd["images"][0]["root_hash"]')" = "$(cat "$S1/hello_1.0.0_$k61.roothash")" ] ||
    fail "root hash in index.json differs from the sidecar"

# 3. Publishing the same shards again changes nothing.
before=$(ls -i "$WORK/rel/index.json")
expect_status 0 "$KSX" publish --from "$S1" --from "$S2" --to "$WORK/rel" --base-url "$URL" \
    --cert "$WORK/keys/cert.pem"
expect_output "unchanged: $WORK/rel with 2 image(s)"
[ "$(ls -i "$WORK/rel/index.json")" = "$before" ] || fail "index.json was rewritten"

# 4. A conflicting shard is refused and the release stays as it was.
mkdir "$WORK/bad"
cp "$S1"/* "$WORK/bad/"
printf x >>"$WORK/bad/hello_1.0.0_$k61.raw"
cp "$WORK/rel/index.json" "$WORK/index.saved"
expect_status 2 "$KSX" publish --from "$WORK/bad" --to "$WORK/rel" --cert "$WORK/keys/cert.pem"
expect_output "kmod-sysext: error: conflicting hello_1.0.0_$k61.raw: $WORK/rel/hello_1.0.0_$k61.raw (sha256"
cmp "$WORK/index.saved" "$WORK/rel/index.json" || fail "a refused publish changed index.json"

# 5. Killed at any point, a publish leaves the previous release whole. A large activator on
# another file system makes the publish slow enough to be caught mid-way.
big_dir=/dev/shm
[ -d "$big_dir" ] && [ -w "$big_dir" ] || big_dir=$WORK
big=$(mktemp "$big_dir/ksx-activator-XXXXXX")
fail() { # lib.sh's, also removing the big file outside $WORK
    rm -f "$big"
    echo "FAIL: $*" >&2
    exit 1
}
head -c 400000000 /dev/zero >"$big"
cp "$WORK/rel/SHA256SUMS" "$WORK/sums.saved"
caught=0
for delay in 0.3 0.6 0.9 1.2 1.5 1.8; do
    "$KSX" publish --from "$S1" --from "$S2" --to "$WORK/rel" --base-url "$URL" \
        --cert "$WORK/keys/cert.pem" --activator "$big" >/dev/null 2>&1 &
    pid=$!
    sleep "$delay"
    kill -9 "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    if ls -d "$WORK"/.rel.new-* >/dev/null 2>&1; then
        caught=$((caught + 1)) # killed while staging; the next publish removes what it left
    fi
    if cmp -s "$WORK/sums.saved" "$WORK/rel/SHA256SUMS"; then
        cmp "$WORK/index.saved" "$WORK/rel/index.json" || fail "half-published index after kill at $delay s"
    else
        echo "publish finished before the kill at $delay s"
        grep -q "  kmod-sysext-activate$" "$WORK/rel/SHA256SUMS" || fail "new SHA256SUMS without the activator"
    fi
    (cd "$WORK/rel" && sha256sum --quiet -c SHA256SUMS) || fail "release inconsistent after kill at $delay s"
done
rm -f "$big"
echo "kills during staging: $caught of 6"
expect_status 0 "$KSX" publish --from "$S1" --to "$WORK/rel"
if ls -d "$WORK"/.rel.new-* >/dev/null 2>&1; then
    fail "a publish left staging directories of killed runs behind"
fi

# 6. SHA256SUMS.gpg, detached, verifies with gpg.
export GNUPGHOME="$WORK/gnupg"
mkdir -m 700 "$GNUPGHOME"
gpg --batch --passphrase '' --quick-gen-key "kmod-sysext test <test@example.org>" ed25519 sign never \
    >/dev/null 2>&1 || fail "gpg could not make a key"
fpr=$(gpg --list-secret-keys --with-colons | awk -F: '/^fpr/ { print $10; exit }')
expect_status 0 "$KSX" publish --from "$S1" --from "$S2" --to "$WORK/signed" --gpg-key "$fpr" \
    --gpg-homedir "$GNUPGHOME" --activator "$ACTIVATOR"
gpg --batch --verify "$WORK/signed/SHA256SUMS.gpg" "$WORK/signed/SHA256SUMS" 2>"$WORK/gpg.out" ||
    { cat "$WORK/gpg.out"; fail "SHA256SUMS.gpg does not verify"; }

# 7. Ignition: validated, and every remote file fetched over HTTP matches its hash.
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
# Bounded: the server stops by itself even when a check below fails.
timeout 300 python3 -m http.server "$port" --bind 127.0.0.1 --directory "$WORK/signed" \
    >"$WORK/http.log" 2>&1 &
server=$!
base="http://127.0.0.1:$port"
for variant in flatcar fcos; do
    expect_status 0 "$KSX" ignition "$WORK/signed" --base-url "$base" --cert "$WORK/keys/cert.pem" \
        --variant "$variant" --format butane --output "$WORK/node-$variant.bu"
    grep -qx "variant: $variant" "$WORK/node-$variant.bu" || fail "butane variant $variant"
done
expect_status 0 "$KSX" ignition "$WORK/signed" --base-url "$base/" --cert "$WORK/keys/cert.pem" \
    --output "$WORK/node.ign"
ignition-validate "$WORK/node.ign" || fail "ignition-validate rejects the generated config"
expect_status 0 "$KSX" ignition "$WORK/hello.yaml" --base-url "$base" --output "$WORK/manifest.ign"
expect_output "kmod-sysext: note: kernel package:linux-headers-amd64 is resolved only when built"
ignition-validate "$WORK/manifest.ign" || fail "ignition-validate rejects the manifest's config"
sleep 0.5
python3 - "$WORK/node.ign" "$WORK/root" <<'PY' || fail "applying the Ignition files failed"
import hashlib, json, os, sys, urllib.parse, urllib.request
config, root = json.load(open(sys.argv[1])), sys.argv[2]
for f in config["storage"]["files"]:
    source = f["contents"]["source"]
    if source.startswith("data:,"):
        data = urllib.parse.unquote_to_bytes(source[6:])
    else:
        data = urllib.request.urlopen(source, timeout=10).read()
        want = f["contents"]["verification"]["hash"]
        got = "sha256-" + hashlib.sha256(data).hexdigest()
        assert got == want, f"{source}: {got} != {want}"
    path = root + f["path"]
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as out:
        out.write(data)
    os.chmod(path, f["mode"])
PY
for k in "$k61" "$k612"; do
    for suffix in raw verity roothash roothash.p7s; do
        cmp "$WORK/root/var/lib/kmod-sysext/hello/hello_1.0.0_$k.$suffix" \
            "$WORK/signed/hello_1.0.0_$k.$suffix" || fail "store file $k.$suffix"
    done
done
cmp "$WORK/root/etc/verity.d/hello.crt" "$WORK/keys/cert.pem" || fail "verity certificate differs"
# The activator takes the store Ignition filled: it verifies the signed image and links it.
expect_status 0 "$ACTIVATE" --root "$WORK/root" --kernel "$k612" select
expect_output "verified hello_1.0.0_$k612.raw: signed by kmod-sysext publish test"
[ -L "$WORK/root/run/extensions/hello.raw" ] || fail "select linked nothing"

# 7b. Before a reboot into another kernel: prefetch its images from the served release.
mkdir -p "$WORK/node/etc/verity.d"
cp "$WORK/keys/cert.pem" "$WORK/node/etc/verity.d/hello.crt"
expect_status 0 "$ACTIVATE" --root "$WORK/node" --kernel "$k61" prefetch --from "$base"
expect_output "prefetched hello_1.0.0_$k61.raw for kernel $k61"
for suffix in raw verity roothash roothash.p7s; do
    cmp "$WORK/node/var/lib/kmod-sysext/hello/hello_1.0.0_$k61.$suffix" \
        "$WORK/signed/hello_1.0.0_$k61.$suffix" || fail "prefetched $suffix differs"
done
expect_status 0 "$ACTIVATE" --root "$WORK/node" --kernel "$k61" prefetch --from "$base"
expect_output "hello_1.0.0_$k61.raw is already in the store"
expect_status 0 "$ACTIVATE" --root "$WORK/node" --kernel 1.2.3-none prefetch --from "$base"
expect_output "no image for kernel 1.2.3-none in $base"
expect_status 0 "$ACTIVATE" --root "$WORK/node" --kernel "$k61" select
expect_output "verified hello_1.0.0_$k61.raw"
kill "$server" 2>/dev/null || true

# 8. OSTree: commits per kernel, signed, reproducible, verifiable, equal to the images.
ref61="kmod-sysext/hello/x86-64/$k61"
ref612="kmod-sysext/hello/x86-64/$(echo "$k612" | tr + _)"
expect_status 0 "$KSX" publish --from "$S1" --from "$S2" --ostree "$WORK/repo" --gpg-key "$fpr" \
    --gpg-homedir "$GNUPGHOME"
expect_status 0 "$KSX" publish --from "$S2" --from "$S1" --ostree "$WORK/repo2"
[ "$(ostree --repo="$WORK/repo" rev-parse "$ref61")" = "$(ostree --repo="$WORK/repo2" rev-parse "$ref61")" ] ||
    fail "the same image gave two commit checksums"
grep -qx "mode=archive-z2" "$WORK/repo/config" || fail "not an archive-mode repository"
ostree --repo="$WORK/repo" log "$ref612" >"$WORK/log" && grep -q "hello 1.0.0 for $k612" "$WORK/log" ||
    fail "ostree log"
[ "$(ostree --repo="$WORK/repo" show --print-metadata-key=kmod-sysext.kernel "$ref612")" = "'$k612'" ] ||
    fail "ostree show metadata"
gpg --armor --export "$fpr" >"$WORK/pub.asc" 2>/dev/null
ostree --repo="$WORK/pulled" init --mode=archive
ostree --repo="$WORK/pulled" remote add --gpg-import="$WORK/pub.asc" --set=gpg-verify-summary=true \
    origin "file://$WORK/repo"
ostree --repo="$WORK/pulled" pull origin "$ref61" || fail "pulling with signature checks failed"
ostree --repo="$WORK/unsigned" init --mode=archive
ostree --repo="$WORK/unsigned" remote add --gpg-import="$WORK/pub.asc" origin "file://$WORK/repo2"
if ostree --repo="$WORK/unsigned" pull origin "$ref61" >/dev/null 2>&1; then
    fail "an unsigned commit passed signature checks"
fi
ostree --repo="$WORK/local" init --mode=archive
ostree --repo="$WORK/local" pull-local "$WORK/repo" "$ref61" "$ref612" || fail "pull-local"
ostree --repo="$WORK/local" checkout --user-mode "$ref612" "$WORK/co"
unsquashfs -q -d "$WORK/x" "$S2/hello_1.0.0_$k612.raw" >/dev/null
diff -r "$WORK/co" "$WORK/x" || fail "checkout differs from the image's contents"
# hello.conf is the same in both kernels' trees: one object.
c1=$(ostree --repo="$WORK/repo" ls -C "$ref61" /usr/share/hello-sysext/hello.conf | awk '{print $5}')
c2=$(ostree --repo="$WORK/repo" ls -C "$ref612" /usr/share/hello-sysext/hello.conf | awk '{print $5}')
[ -n "$c1" ] && [ "$c1" = "$c2" ] || fail "shared file stored twice ($c1, $c2)"
echo "ok: plan, build --only, publish, gpg, ignition, ostree"
