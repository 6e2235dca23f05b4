#!/bin/sh
# Signed hello images, then tampering: one byte flipped at 200 random offsets across the
# image, its .verity, .roothash and .roothash.p7s, and sidecars swapped in from another valid
# image. `verify` and the activator's `select` (on a node tree trusting the certificate) must
# accept the untouched image and refuse every changed one. Also checks
# that systemd-dissect finds the verity sidecars and that modules carry sign-file signatures.
# KSX_TAMPER_SEED picks other offsets; KSX_TAMPER_CASES another count.
# Debian 12, whose 6.1 kernel leaves modules uncompressed (.ko), as the checks below expect.
HELLO_MANIFEST=${SRC:?source tree}/manifests/hello-debian12.yaml
. "$(dirname "$0")/lib.sh"

seed=${KSX_TAMPER_SEED:-4242}
cases=${KSX_TAMPER_CASES:-200}

expect_status 0 "$KSX" keygen --out "$WORK/keys" --cn "kmod-sysext tamper test" --name tamper
expect_output "sha256 fingerprint: "
expect_status 0 "$KSX" keygen --out "$WORK/other" --algorithm ecdsa
expect_status 2 "$KSX" keygen --out "$WORK/keys"
expect_output "already exists (use --force to replace it)"
[ "$(stat -c %a "$WORK/keys/key.pem")" = 600 ] || fail "key.pem is not mode 600"

# Two builds: the image under test, and a second valid image (another version) whose
# sidecars are swapped in later.
hello_manifest_with_kernels "$WORK/hello.yaml" "{package: linux-headers-amd64}"
sed -e 's/^version: 1.0.0$/version: 1.0.1/' "$WORK/hello.yaml" >"$WORK/hello-next.yaml"
expect_status 0 "$KSX" build --quiet "$WORK/hello.yaml" --output "$WORK/out" \
    --sign-key "$WORK/keys/key.pem" --sign-cert "$WORK/keys/cert.pem"
cp "$WORK/keys/key.pem" "$WORK/loose-key.pem"
chmod 644 "$WORK/loose-key.pem"
expect_status 0 "$KSX" build "$WORK/hello-next.yaml" --output "$WORK/next" \
    --sign-key "$WORK/loose-key.pem" --sign-cert "$WORK/keys/cert.der"
expect_output "warning: signing key $WORK/loose-key.pem is readable by others (mode 0644)"
expect_output "verity root hash "

image=$(ls "$WORK"/out/hello_1.0.0_*.raw)
base=${image%.raw}
next=$(ls "$WORK"/next/hello_1.0.1_*.raw)
next=${next%.raw}
for f in "$base.verity" "$base.roothash" "$base.roothash.p7s"; do
    [ -s "$f" ] || fail "build did not write $f"
done
grep -qE '^[0-9a-f]{64}$' "$base.roothash" || fail "roothash is not hex: $(cat "$base.roothash")"

# The sidecars are what veritysetup and openssl agree with.
veritysetup verify "$image" "$base.verity" "$(cat "$base.roothash")" ||
    fail "veritysetup verify rejects the tree"
printf %s "$(cat "$base.roothash")" >"$WORK/roothash.txt"
openssl smime -verify -binary -inform DER -in "$base.roothash.p7s" -content "$WORK/roothash.txt" \
    -certfile "$WORK/keys/cert.pem" -nointern -noverify -out /dev/null 2>"$WORK/smime.err" ||
    fail "openssl smime rejects the root hash signature: $(cat "$WORK/smime.err")"

# verify: all good with the certificate; not without one or with another one.
expect_status 0 "$KSX" verify "$image" --cert "$WORK/keys/tamper.crt"
expect_output "ok   verity: "
expect_output "ok   signature: signed by CN=kmod-sysext tamper test"
expect_output "ok   module usr/lib/modules/"
expect_output "ok   extension-release: hello, kernel "
expect_output ": verified ("
expect_status 1 "$KSX" verify "$image"
expect_output "FAIL signature: signature present, signer not checked (no --cert given)"
expect_status 1 "$KSX" verify "$image" --cert "$WORK/other/cert.pem"
expect_status 2 "$KSX" verify "$WORK/out/missing.raw" --cert "$WORK/keys/cert.pem"
expect_status 0 "$KSX" verify --json "$next.raw" --cert "$WORK/keys/cert.der"
expect_output '"ok": true'

# Modules carry a sign-file signature: modinfo reads the signer from it.
kernel=${image##*_}
kernel=${kernel%.raw}
unsquashfs -q -d "$WORK/tree" "$image" >/dev/null
modinfo "$WORK/tree/usr/lib/modules/$kernel/extra/hello/hello.ko" >"$WORK/modinfo"
grep -q '^signer: *kmod-sysext tamper test$' "$WORK/modinfo" ||
    fail "modinfo shows no signer: $(cat "$WORK/modinfo")"
grep -q '^sig_hashalgo: *sha256$' "$WORK/modinfo" || fail "module hash is not sha256"

# inspect: the root hash and the signer of its signature (issuer and serial number: the
# signature carries no certificate; --cert names the matching one), and each module's signer as
# modinfo shows it.
serial=$(openssl x509 -in "$WORK/keys/cert.pem" -noout -serial | sed 's/^serial=//; s/../&:/g; s/:$//')
sig_key=$(modinfo -F sig_key "$WORK/tree/usr/lib/modules/$kernel/extra/hello/hello.ko")
[ "$sig_key" = "$serial" ] || fail "modinfo's sig_key $sig_key is not the certificate's serial $serial"
expect_status 0 "$KSX" inspect "$image"
expect_output "  root hash: $(cat "$base.roothash")"
expect_output "  signature: signer kmod-sysext tamper test, issuer CN=kmod-sysext tamper test, serial $serial, sha256"
expect_output "  /usr/lib/modules/$kernel/extra/hello/hello.ko: signer kmod-sysext tamper test, sig_key $sig_key, sig_hashalgo sha256"
grep -q "certificate" "$WORK/last.out" && fail "inspect names a certificate without --cert"
expect_status 0 "$KSX" inspect "$image" --cert "$WORK/other/cert.pem" --cert "$WORK/keys/cert.der"
expect_output "  certificate: CN=kmod-sysext tamper test"
expect_output "/extra/hello/hello_core.ko: signer kmod-sysext tamper test, sig_key $sig_key, sig_hashalgo sha256, certificate CN=kmod-sysext tamper test"
expect_status 0 "$KSX" inspect --json "$image" --cert "$WORK/keys/cert.pem"
expect_output "\"root_hash\": \"$(cat "$base.roothash")\""
expect_output "\"serial\": \"$serial\""
expect_output "\"sig_key\": \"$sig_key\""
expect_output "\"sig_hashalgo\": \"sha256\""
expect_output "\"certificate\": \"CN=kmod-sysext tamper test\""
expect_status 2 "$KSX" inspect "$image" --cert "$WORK/missing.pem"

# systemd-dissect finds the sidecars next to NAME.raw.
mkdir "$WORK/ext"
ln -s "$image" "$WORK/ext/hello.raw"
for suffix in verity roothash roothash.p7s; do
    ln -s "$base.$suffix" "$WORK/ext/hello.$suffix"
done
if systemd-dissect --no-pager "$WORK/ext/hello.raw" >"$WORK/dissect" 2>&1; then
    # systemd 252 prints a partition table whose VERITY column reads "external".
    grep -qE '^ro +root +.* squashfs +.* external ' "$WORK/dissect" ||
        { cat "$WORK/dissect"; fail "systemd-dissect does not see the verity sidecars"; }
    echo "systemd-dissect: $(grep -E ' squashfs ' "$WORK/dissect" | tr -s ' ')"
else
    cat "$WORK/dissect" >&2
    fail "systemd-dissect failed on the signed image"
fi
expect_status 0 "$KSX" verify "$WORK/ext/hello.raw" --cert "$WORK/keys/cert.pem"

# Keys from the manifest's signing section (one pair per use), sha512, modules compressed.
{
    cat "$WORK/hello.yaml"
    echo "  module_compression: xz"
    echo "signing:"
    echo "  modules: {key: $WORK/keys/key.pem, cert: $WORK/keys/cert.pem, hash: sha512}"
    echo "  image: {key: $WORK/other/key.pem, cert: $WORK/other/cert.pem}"
} >"$WORK/hello-manifest-keys.yaml"
tail -n 4 "$WORK/hello.yaml" | grep -q '^image:$' || fail "hello.yaml no longer ends with image:"
expect_status 0 "$KSX" build --quiet "$WORK/hello-manifest-keys.yaml" --output "$WORK/xz"
xz_image=$(ls "$WORK"/xz/hello_1.0.0_*.raw)
expect_status 0 "$KSX" verify "$xz_image" --cert "$WORK/keys/cert.pem" --cert "$WORK/other/cert.pem"
expect_output "ok   module usr/lib/modules/$kernel/extra/hello/hello.ko.xz: signed by CN=kmod-sysext tamper test"
expect_status 1 "$KSX" verify "$xz_image" --cert "$WORK/other/cert.pem"
expect_output "FAIL module usr/lib/modules/$kernel/extra/hello/hello_core.ko.xz: signer is none of the given certificates"
unsquashfs -q -d "$WORK/xz-tree" "$xz_image" >/dev/null
grep -q "/extra/hello/hello_core.ko.xz	" "$WORK/xz-tree/usr/lib/kmod-sysext/hello/modules.load" ||
    fail "modules.load does not name the .ko.xz files"
xz --list --robot "$WORK/xz-tree/usr/lib/modules/$kernel/extra/hello/hello.ko.xz" |
    grep -q 'CRC32' || fail "hello.ko.xz is not xz with --check=crc32"
modinfo "$WORK/xz-tree/usr/lib/modules/$kernel/extra/hello/hello.ko.xz" >"$WORK/modinfo"
grep -q '^sig_hashalgo: *sha512$' "$WORK/modinfo" || fail "module hash is not sha512"
# Modules and image by different keys: inspect tells them apart, through the .ko.xz.
expect_status 0 "$KSX" inspect "$xz_image" --cert "$WORK/other/cert.pem"
expect_output "  certificate: CN=kmod-sysext signing key"
expect_output "/extra/hello/hello.ko.xz: signer kmod-sysext tamper test, sig_key $sig_key, sig_hashalgo sha512"
grep -q "hello.ko.xz: .*, certificate" "$WORK/last.out" &&
    fail "inspect names the image's certificate as a module signer"

# Tampering, on copies in a node's store (the certificate in its /etc/verity.d), so that each
# case is checked by `verify` and by the activator's `select` as a node runs it; each case
# changes one byte and puts it back afterwards.
node="$WORK/node"
mkdir -p "$node/var/lib/kmod-sysext/hello" "$node/etc/verity.d"
cp "$WORK/keys/tamper.crt" "$node/etc/verity.d/"
t="$node/var/lib/kmod-sysext/hello/hello_1.0.0_$kernel"
cp "$image" "$t.raw"
for suffix in verity roothash roothash.p7s; do
    cp "$base.$suffix" "$t.$suffix"
done
expect_status 0 "$KSX" verify --quiet "$t.raw" --cert "$WORK/keys/cert.pem"
# select_refuses: the activator's select on the node refuses the image (logs why, links
# nothing) and still exits 0, as a boot must go on.
select_refuses() {
    rm -rf "$node/run"
    "$ACTIVATE" --root="$node" --kernel="$kernel" select >"$WORK/select.out" 2>&1 || return 1
    [ ! -e "$node/run/extensions/hello.raw" ] && [ ! -L "$node/run/extensions/hello.raw" ] &&
        grep -q "refused " "$WORK/select.out"
}
select_refuses && fail "the activator refuses the untouched signed image: $(cat "$WORK/select.out")"
[ -L "$node/run/extensions/hello.raw" ] || fail "the activator did not link the untouched image"

byte_at() {
    od -An -tu1 -j "$2" -N1 "$1" | tr -d ' \n'
}
put_byte() {
    # shellcheck disable=SC2059
    printf "\\$(printf %03o "$3")" | dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}

rejected=0
accepted=0
activator_refused=0
activator_accepted=0
size_raw=$(stat -c %s "$t.raw")
size_verity=$(stat -c %s "$t.verity")
size_roothash=$(stat -c %s "$t.roothash")
size_p7s=$(stat -c %s "$t.roothash.p7s")
awk -v seed="$seed" -v n="$cases" -v a="$size_raw" -v b="$size_verity" -v c="$size_roothash" \
    -v d="$size_p7s" 'BEGIN {
        srand(seed)
        split("raw verity roothash roothash.p7s", names, " ")
        split(a " " b " " c " " d, sizes, " ")
        for (i = 0; i < n; i++) {
            k = i % 4 + 1
            printf "%s %d %d\n", names[k], int(rand() * sizes[k]), 1 + int(rand() * 255)
        }
    }' >"$WORK/cases"
counts=""
while read -r suffix offset mask; do
    file="$t.$suffix"
    old=$(byte_at "$file" "$offset")
    put_byte "$file" "$offset" $((old ^ mask))
    set +e
    "$KSX" verify --quiet "$t.raw" --cert "$WORK/keys/cert.pem" >"$WORK/last.out" 2>&1
    status=$?
    set -e
    refused=no
    select_refuses && refused=yes
    put_byte "$file" "$offset" "$old"
    if [ "$status" = 1 ]; then
        rejected=$((rejected + 1))
        counts="$counts $suffix"
    else
        accepted=$((accepted + 1))
        echo "NOT rejected (status $status): $suffix offset $offset xor $mask" >&2
        cat "$WORK/last.out" >&2
    fi
    if [ "$refused" = yes ]; then
        activator_refused=$((activator_refused + 1))
    else
        activator_accepted=$((activator_accepted + 1))
        echo "NOT refused by the activator: $suffix offset $offset xor $mask" >&2
        cat "$WORK/select.out" >&2
    fi
done <"$WORK/cases"

# Sidecars of another valid image: its signature alone, its root hash and signature, all three.
swaps=0
for set in "roothash.p7s" "roothash roothash.p7s" "verity roothash roothash.p7s"; do
    for suffix in $set; do
        cp "$next.$suffix" "$t.$suffix"
    done
    set +e
    "$KSX" verify --quiet "$t.raw" --cert "$WORK/keys/cert.pem" >"$WORK/last.out" 2>&1
    status=$?
    set -e
    refused=no
    select_refuses && refused=yes
    for suffix in $set; do
        cp "$base.$suffix" "$t.$suffix"
    done
    if [ "$status" = 1 ]; then
        rejected=$((rejected + 1))
        swaps=$((swaps + 1))
    else
        accepted=$((accepted + 1))
        echo "NOT rejected (status $status): swapped $set" >&2
    fi
    if [ "$refused" = yes ]; then
        activator_refused=$((activator_refused + 1))
    else
        activator_accepted=$((activator_accepted + 1))
        echo "NOT refused by the activator: swapped $set" >&2
    fi
done
expect_status 0 "$KSX" verify --quiet "$t.raw" --cert "$WORK/keys/cert.pem"

for suffix in raw verity roothash roothash.p7s; do
    n=$(echo "$counts" | tr ' ' '\n' | grep -cx "$suffix" || true)
    echo "tamper: .$suffix: $n flipped bytes rejected"
done
echo "tamper: $swaps swapped sidecar sets rejected"
echo "tamper: seed $seed: $rejected rejected, $accepted accepted of $((cases + 3)) cases"
echo "tamper: activator select: $activator_refused refused, $activator_accepted linked of $((cases + 3)) cases"
[ "$accepted" = 0 ] || fail "$accepted tampered cases were accepted by verify"
[ "$activator_accepted" = 0 ] || fail "$activator_accepted tampered cases were linked by the activator"
select_refuses && fail "the activator refuses the restored image: $(cat "$WORK/select.out")"
[ -L "$node/run/extensions/hello.raw" ] || fail "the activator did not link the restored image"
