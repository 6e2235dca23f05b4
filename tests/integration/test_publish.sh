#!/bin/sh
# plan -> build --only per shard (separate processes) -> publish, against real images of
# manifests/hello for Debian's 6.1 and 6.12 kernels: incremental publish equals a single-run
# publish, republishing changes nothing, conflicts are refused, a killed publish leaves the
# release intact, SHA256SUMS.gpg verifies with gpg, the generated Ignition passes
# ignition-validate and its files, fetched from a local HTTP server, match their hashes; the
# OSTree repository is checked with the ostree CLI; the activator prefetches a kernel's images
# from the served release and verifies what Ignition put in its store.
# Debian 12: bookworm's kernel lines, in a bookworm developer container.
HELLO_MANIFEST=${SRC:?source tree}/manifests/hello-debian12.yaml
. "$(dirname "$0")/lib.sh"
ACTIVATE=${ACTIVATE:?path of kmod-sysext-activate}

json() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print($2)" "$1"; }

# same_in_store ROOT WHAT KERNEL...: the store under ROOT holds the image and sidecars of the
# signed release for each KERNEL, byte for byte.
same_in_store() {
    store_root=$1
    what=$2
    shift 2
    for k in "$@"; do
        for suffix in raw verity roothash roothash.p7s; do
            cmp "$store_root/var/lib/kmod-sysext/hello/hello_1.0.0_$k.$suffix" \
                "$WORK/signed/hello_1.0.0_$k.$suffix" || fail "$what: $k.$suffix differs"
        done
    done
}

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
# plan --resolve: each package: kernel's release in the developer container, the one its build
# found, in its entry and its cache key.
expect_status 0 "$KSX" plan -q "$WORK/hello.yaml" --resolve
cp "$WORK/last.out" "$WORK/plan-resolved.json"
releases=$(json "$WORK/plan-resolved.json" '" ".join(e["release"] for e in d["include"])')
[ "$releases" = "$k612 $k61" ] || fail "plan --resolve releases: $releases (built: $k612 $k61)"
[ "$(json "$WORK/plan.json" 'd["include"][0]["release"]')" = None ] || fail "release without --resolve"
for i in 0 1; do
    [ "$(json "$WORK/plan.json" "d['include'][$i]['cache_key']")" != \
        "$(json "$WORK/plan-resolved.json" "d['include'][$i]['cache_key']")" ] ||
        fail "the resolved release is not in cache key $i"
done
ACTIVATOR="$WORK/keys/cert.pem" # any file stands in for the binary here
URL=http://127.0.0.1:1/unused

# 2. Shard by shard (two processes) and both at once give the same release.
expect_status 0 "$KSX" publish --from "$S1" --to "$WORK/rel" --base-url "$URL" --cert "$WORK/keys/cert.pem"
expect_output "published $WORK/rel with 1 image(s)"
expect_status 0 "$KSX" publish --from "$S2" --to "$WORK/rel" --base-url "$URL" --cert "$WORK/keys/cert.pem"
expect_status 0 "$KSX" publish --from "$S2" --from "$S1" --to "$WORK/all" --base-url "$URL" \
    --cert "$WORK/keys/cert.pem"
for f in index.json SHA256SUMS "sysupdate.d/$k61/hello.transfer" "sysupdate.d/$k61/hello.conf" \
    "sysupdate.d/$k612/hello.roothash.p7s.transfer" "sysupdate.d/$k612/hello.roothash.p7s.conf"; do
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

# 5. Killed at any point, a publish leaves the previous release whole, and a kill must land
# while a new release is being staged at least once. Each attempt publishes a new large
# activator (on another file system, so it is copied), so every publish that completes
# changes the release: what a reader sees is then either all of the previous release or all
# of the new one. The kill delay is searched between "too early" (nothing staged yet) and
# "too late" (already swapped in).
big_dir=/dev/shm
[ -d "$big_dir" ] && [ -w "$big_dir" ] || big_dir=$WORK
big=$(mktemp "$big_dir/ksx-activator-XXXXXX")
fail() { # lib.sh's, also removing the big file outside $WORK
    rm -f "$big"
    echo "FAIL: $*" >&2
    exit 1
}
now_ms() { date +%s%3N; }
make_big() { # a different activator each time: every publish changes the release
    { echo "attempt $1"; head -c 400000000 /dev/zero; } >"$big"
}
# How long a whole publish of this size takes here.
make_big 0
started=$(now_ms)
"$KSX" publish --from "$S1" --from "$S2" --to "$WORK/rel" --base-url "$URL" \
    --cert "$WORK/keys/cert.pem" --activator "$big" >/dev/null 2>&1 ||
    fail "publish with a large activator failed"
duration=$(($(now_ms) - started))
echo "a publish with a 400 MB activator takes $duration ms"
[ "$duration" -ge 200 ] || fail "publish too fast ($duration ms) to be interrupted reliably"
staging_dirs() { ls -d "$WORK"/.rel.new-* 2>/dev/null || true; }
low=0
high=$duration
caught=0
attempt=0
while [ "$caught" -lt 2 ] && [ "$attempt" -lt 20 ]; do
    attempt=$((attempt + 1))
    cp "$WORK/rel/SHA256SUMS" "$WORK/sums.saved"
    cp "$WORK/rel/index.json" "$WORK/index.saved"
    make_big "$attempt"
    new_sha=$(sha256sum "$big" | cut -d' ' -f1)
    staged_before=$(staging_dirs)
    delay=$(((low + high) / 2))
    "$KSX" publish --from "$S1" --from "$S2" --to "$WORK/rel" --base-url "$URL" \
        --cert "$WORK/keys/cert.pem" --activator "$big" >/dev/null 2>&1 &
    pid=$! # kmod-sysext itself, not a subshell
    sleep "$(printf '%d.%03d' $((delay / 1000)) $((delay % 1000)))"
    kill -9 "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    # A staging directory of this attempt (those of earlier kills are removed by the next
    # publish once it holds the lock).
    staged=no
    for dir in $(staging_dirs); do
        case " $(echo $staged_before) " in *" $dir "*) ;; *) staged=yes ;; esac
    done
    if cmp -s "$WORK/sums.saved" "$WORK/rel/SHA256SUMS"; then
        cmp "$WORK/index.saved" "$WORK/rel/index.json" ||
            fail "kill at $delay ms: index.json changed, SHA256SUMS did not"
        if [ "$staged" = yes ]; then
            caught=$((caught + 1))
            outcome="killed while staging; the previous release is intact"
        else
            low=$delay # killed before staging began: later
            outcome="killed before staging began"
        fi
    else
        grep -q "^$new_sha  kmod-sysext-activate\$" "$WORK/rel/SHA256SUMS" ||
            fail "kill at $delay ms: SHA256SUMS is neither the previous nor the new one"
        high=$delay # the new release was already in: earlier
        outcome="the new release was complete before the kill"
    fi
    (cd "$WORK/rel" && sha256sum --quiet -c SHA256SUMS) ||
        fail "release inconsistent after a kill at $delay ms"
    echo "attempt $attempt: kill at $delay ms: $outcome"
    if [ $((high - low)) -lt 20 ]; then # converged without a catch: widen (timings vary)
        low=$((low > 150 ? low - 150 : 0))
        high=$((high + 150))
    fi
done
rm -f "$big"
echo "kills that landed mid-staging: $caught of $attempt"
[ "$caught" -ge 1 ] || fail "no kill landed while a release was being staged in $attempt attempts"
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
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
base="http://127.0.0.1:$port"
expect_status 0 "$KSX" publish --from "$S1" --from "$S2" --to "$WORK/signed" --gpg-key "$fpr" \
    --gpg-homedir "$GNUPGHOME" --activator "$ACTIVATOR" --base-url "$base"
gpg --batch --verify "$WORK/signed/SHA256SUMS.gpg" "$WORK/signed/SHA256SUMS" 2>"$WORK/gpg.out" ||
    { cat "$WORK/gpg.out"; fail "SHA256SUMS.gpg does not verify"; }

# 7. Ignition: validated, and every remote file fetched over HTTP matches its hash.
# Bounded: the server stops by itself even when a check below fails.
timeout 900 python3 -m http.server "$port" --bind 127.0.0.1 --directory "$WORK/signed" \
    >"$WORK/http.log" 2>&1 &
server=$!
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
# A release without the activator: refused, unless the node's OS image carries it.
expect_status 2 "$KSX" ignition "$WORK/all" --base-url "$base" --cert "$WORK/keys/cert.pem"
expect_output "kmod-sysext: error: $WORK/all/index.json: the release carries no activator"
expect_output "publish the release with --activator FILE, or pass --no-activator"
expect_status 0 "$KSX" ignition "$WORK/all" --base-url "$base" --cert "$WORK/keys/cert.pem" \
    --no-activator --output "$WORK/os-activator.ign"
ignition-validate "$WORK/os-activator.ign" || fail "ignition-validate rejects the --no-activator config"
if grep -q '"path": "/opt/bin/kmod-sysext-activate"' "$WORK/os-activator.ign"; then
    fail "--no-activator still fetches the activator"
fi
# Signed images, but no certificate for the node: a warning that it will not enforce them.
expect_status 0 "$KSX" ignition "$WORK/signed" --base-url "$base" -q --output "$WORK/nocert.ign"
expect_output "kmod-sysext: warning: the images of $WORK/signed are signed, but no --cert was given"
expect_status 0 "$KSX" ignition "$WORK/signed" --base-url "$base" --cert "$WORK/keys/cert.pem" \
    --output "$WORK/cert.ign"
grep -q warning "$WORK/last.out" && fail "a warning with --cert given"
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
same_in_store "$WORK/root" "store filled by Ignition" "$k61" "$k612"
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
same_in_store "$WORK/node" "prefetch" "$k61"
expect_status 0 "$ACTIVATE" --root "$WORK/node" --kernel "$k61" prefetch --from "$base"
expect_output "hello_1.0.0_$k61.raw is already in the store"
expect_status 0 "$ACTIVATE" --root "$WORK/node" --kernel 1.2.3-none prefetch --from "$base"
expect_output "no image for kernel 1.2.3-none in $base"
expect_status 0 "$ACTIVATE" --root "$WORK/node" --kernel "$k61" select
expect_output "verified hello_1.0.0_$k61.raw"

# 7c. The prefetch timer: its service's command, taken from the generated config with the
# release URL of its environment file, run on a node that boots $k61 and where an OS update
# has installed $k612 next to it (an unpacked kernel: /usr/lib/modules/<release>/kernel/).
expect_status 0 "$KSX" ignition "$WORK/signed" --base-url "$base" --cert "$WORK/keys/cert.pem" \
    --prefetch-timer --output "$WORK/timer.ign"
ignition-validate "$WORK/timer.ign" || fail "ignition-validate rejects the config with the timer"
python3 - "$WORK/timer.ign" >"$WORK/timer.cmd" <<'PY' || fail "no prefetch command in the config"
import json, sys, urllib.parse
config = json.load(open(sys.argv[1]))
files = {f["path"]: f["contents"]["source"] for f in config["storage"]["files"]}
conf = urllib.parse.unquote(files["/etc/kmod-sysext/prefetch.conf"][len("data:,"):])
env = dict(line.split("=", 1) for line in conf.splitlines())
units = {u["name"]: u for u in config["systemd"]["units"]}
assert units["kmod-sysext-prefetch.timer"]["enabled"] is True
service = units["kmod-sysext-prefetch.service"]["contents"].splitlines()
assert "EnvironmentFile=/etc/kmod-sysext/prefetch.conf" in service
command = next(l[len("ExecStart="):] for l in service if l.startswith("ExecStart="))
for name, value in env.items():
    command = command.replace("${" + name + "}", value)
print(command)
PY
set -- $(cat "$WORK/timer.cmd")
[ "$1" = /opt/bin/kmod-sysext-activate ] || fail "prefetch service runs $1"
shift
[ "$*" = "prefetch --all-kernels --from $base" ] || fail "prefetch service command: $*"
mkdir -p "$WORK/later/usr/lib/modules/$k612/kernel/drivers" "$WORK/later/usr/lib/modules/5.10.0-1-amd64/updates"
expect_status 0 "$ACTIVATE" "$@" --root "$WORK/later" --kernel "$k61"
expect_output "prefetched hello_1.0.0_$k61.raw for kernel $k61"
expect_output "prefetched hello_1.0.0_$k612.raw for kernel $k612"
grep -q "5.10.0-1-amd64" "$WORK/last.out" && fail "a removed kernel's leftover directory counted"
same_in_store "$WORK/later" "the timer's prefetch" "$k61" "$k612"
expect_status 0 "$ACTIVATE" "$@" --root "$WORK/later" --kernel "$k61"
expect_output "hello_1.0.0_$k612.raw is already in the store"

# 7d. systemd-sysupdate (systemd >= 251) with the release's transfer files, against the served
# release, into a temporary root: the host's, else the one of Debian's bookworm-backports.
find_sysupdate
defs="$WORK/signed/sysupdate.d/$k612"
cmp "$defs/hello.conf" "$defs/hello.transfer" || fail "*.conf and *.transfer differ"
grep -qx "Verify=yes" "$defs/hello.conf" || fail "a signed release's transfers do not verify"
mkdir -p "$WORK/su/var/lib/kmod-sysext/hello" # Ignition makes the store directory
if $SYSUPDATE --definitions="$defs" --root="$WORK/su" list >"$WORK/last.out" 2>&1; then
    cat "$WORK/last.out"
    fail "systemd-sysupdate took SHA256SUMS without the signer's key"
fi
# With the signer's key as /etc/systemd/import-pubring.gpg, in a mount namespace of its own.
mkdir "$WORK/etc-systemd"
gpg --export "$fpr" >"$WORK/etc-systemd/import-pubring.gpg"
with_pubring() {
    unshare --mount sh -c 'mount --bind "$0" /etc/systemd && exec "$@"' "$WORK/etc-systemd" "$@"
}
expect_status 0 with_pubring $SYSUPDATE --definitions="$defs" --root="$WORK/su" list
expect_output "1.0.0"
expect_output "candidate"
expect_status 0 with_pubring $SYSUPDATE --definitions="$defs" --root="$WORK/su" update
expect_output "Successfully installed update '1.0.0'"
same_in_store "$WORK/su" "systemd-sysupdate" "$k612"
[ "$(ls "$WORK/su/var/lib/kmod-sysext/hello" | wc -l)" = 4 ] || fail "sysupdate fetched another kernel's files"
mkdir -p "$WORK/su/etc/verity.d"
cp "$WORK/keys/cert.pem" "$WORK/su/etc/verity.d/hello.crt"
expect_status 0 "$ACTIVATE" --root "$WORK/su" --kernel "$k612" select
expect_output "verified hello_1.0.0_$k612.raw"
# An unsigned release: Verify=no, and systemd-sysupdate fetches it without a key.
expect_status 0 "$KSX" publish --from "$S1" --to "$WORK/signed/plain" --base-url "$base/plain"
grep -qx "Verify=no" "$WORK/signed/plain/sysupdate.d/$k61/hello.conf" || fail "Verify=no missing"
mkdir -p "$WORK/su2/var/lib/kmod-sysext/hello"
expect_status 0 $SYSUPDATE --definitions="$WORK/signed/plain/sysupdate.d/$k61" --root="$WORK/su2" update
cmp "$WORK/su2/var/lib/kmod-sysext/hello/hello_1.0.0_$k61.raw" "$S1/hello_1.0.0_$k61.raw" ||
    fail "sysupdate from the unsigned release"
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
# Published again with the key, the unsigned commits are signed (and stay the same commits).
before2=$(ostree --repo="$WORK/repo2" rev-parse "$ref61")
expect_status 0 "$KSX" publish --from "$S1" --from "$S2" --ostree "$WORK/repo2" --gpg-key "$fpr" \
    --gpg-homedir "$GNUPGHOME"
[ "$(ostree --repo="$WORK/repo2" rev-parse "$ref61")" = "$before2" ] || fail "re-signing made a new commit"
ostree --repo="$WORK/unsigned" pull origin "$ref61" || fail "the commits signed later do not verify"
expect_status 0 "$KSX" publish --from "$S1" --from "$S2" --ostree "$WORK/repo2" --gpg-key "$fpr" \
    --gpg-homedir "$GNUPGHOME"
ostree --repo="$WORK/repo2" show "$ref61" >"$WORK/show" 2>&1
grep -q "Found 1 signature" "$WORK/show" || { cat "$WORK/show"; fail "not exactly one signature"; }
# Two different images of one name: refused, and no repository is made.
expect_status 2 "$KSX" publish --from "$S1" --from "$WORK/bad" --ostree "$WORK/repo-bad"
expect_output "kmod-sysext: error: conflicting hello_1.0.0_$k61.raw: $S1/hello_1.0.0_$k61.raw (sha256"
[ ! -e "$WORK/repo-bad" ] || fail "a refused --ostree publish made a repository"
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
