#!/bin/sh
# image.format: ddi: the hello modules as a signed GPT disk image (usr, usr-verity,
# usr-verity-sig), read by util-linux, systemd-dissect, veritysetup and openssl, accepted by
# `verify` and `inspect`, and refused by `verify` after one byte is flipped at any of 60 random
# offsets across the disk (tables, usr data, hash tree, signature partition).
# KSX_TAMPER_SEED picks other offsets.
# Debian 12, whose 6.1 kernel leaves modules uncompressed (.ko), as the checks below expect.
HELLO_MANIFEST=${SRC:?source tree}/manifests/hello-debian12.yaml
. "$(dirname "$0")/lib.sh"

seed=${KSX_TAMPER_SEED:-4242}

expect_status 0 "$KSX" keygen --out "$WORK/keys" --cn "kmod-sysext ddi test" --name ddi
hello_manifest_with_kernels "$WORK/hello.yaml" "{package: linux-headers-amd64}"
tail -n 4 "$WORK/hello.yaml" | grep -q '^image:$' || fail "hello.yaml no longer ends with image:"
{
    cat "$WORK/hello.yaml"
    echo "  format: ddi"
} >"$WORK/ddi.yaml"

# No image key: refused before anything is built.
expect_status 2 "$KSX" build "$WORK/ddi.yaml" --output "$WORK/nokey"
expect_output "image.format: ddi needs an image key"
[ ! -e "$WORK/nokey" ] || [ -z "$(ls -A "$WORK/nokey")" ] || fail "something was written without a key"

expect_status 0 "$KSX" build "$WORK/ddi.yaml" --output "$WORK/out" \
    --sign-key "$WORK/keys/key.pem" --sign-cert "$WORK/keys/cert.pem"
image=$(ls "$WORK"/out/hello_1.0.0_*.raw)
[ "$(ls "$WORK/out" | wc -l)" = 1 ] || fail "expected the disk image alone: $(ls "$WORK/out")"
kernel=${image##*_}
kernel=${kernel%.raw}

# util-linux: a GPT with the three partitions of the x86-64 usr types, UUIDs = root hash halves.
blkid -p -o export "$image" | grep -qx 'PTTYPE=gpt' || fail "blkid finds no GPT"
partx --show --noheadings -o START,SECTORS,TYPE,UUID,NAME "$image" >"$WORK/partx"
cat "$WORK/partx"
# shellcheck disable=SC2046 # one partx line, split into its fields
set -- $(sed -n 1p "$WORK/partx")
usr_start=$1 usr_sectors=$2 usr_uuid=$4
[ "$3 $5" = "8484680c-9521-48c6-9c11-b0720656f69e usr-x86-64" ] || fail "partition 1 is not usr"
# shellcheck disable=SC2046 # one partx line, split into its fields
set -- $(sed -n 2p "$WORK/partx")
verity_start=$1 verity_sectors=$2 verity_uuid=$4
[ "$3 $5" = "77ff5f63-e7b6-4633-acf4-1565b864c0e6 usr-x86-64-verity" ] || fail "partition 2 is not usr-verity"
# shellcheck disable=SC2046 # one partx line, split into its fields
set -- $(sed -n 3p "$WORK/partx")
sig_start=$1 sig_sectors=$2
[ "$3 $5" = "e7bb33fb-06cf-4e81-8273-e543b413e2e2 usr-x86-64-verity-sig" ] || fail "partition 3 is not usr-verity-sig"

dd if="$image" of="$WORK/usr" bs=512 skip="$usr_start" count="$usr_sectors" status=none
dd if="$image" of="$WORK/usr-verity" bs=512 skip="$verity_start" count="$verity_sectors" status=none
dd if="$image" of="$WORK/sig" bs=512 skip="$sig_start" count="$sig_sectors" status=none
tr -d '\000' <"$WORK/sig" >"$WORK/sig.json"
python3 - "$WORK/sig.json" "$WORK" <<'PY'
import base64, json, sys
d = json.load(open(sys.argv[1]))
open(sys.argv[2] + "/roothash", "w").write(d["rootHash"])
open(sys.argv[2] + "/fingerprint", "w").write(d["certificateFingerprint"])
open(sys.argv[2] + "/sig.p7s", "wb").write(base64.b64decode(d["signature"]))
PY
roothash=$(cat "$WORK/roothash")
[ "$(echo "$usr_uuid$verity_uuid" | tr -d -)" = "$roothash" ] ||
    fail "partition UUIDs $usr_uuid $verity_uuid are not the root hash $roothash"
veritysetup verify "$WORK/usr" "$WORK/usr-verity" "$roothash" || fail "veritysetup rejects the tree"
openssl smime -verify -binary -inform DER -in "$WORK/sig.p7s" -content "$WORK/roothash" \
    -certfile "$WORK/keys/cert.pem" -nointern -noverify -out /dev/null 2>"$WORK/smime.err" ||
    fail "openssl smime rejects the root hash signature: $(cat "$WORK/smime.err")"
[ "$(cat "$WORK/fingerprint")" = "$(openssl x509 -in "$WORK/keys/cert.pem" -outform DER | sha256sum | cut -c1-64)" ] ||
    fail "certificateFingerprint is not the certificate's"
unsquashfs -l "$WORK/usr" | grep -q "squashfs-root/lib/modules/$kernel/extra/hello/hello.ko" ||
    fail "the usr partition does not hold the /usr tree"

# systemd-dissect, under the name systemd-sysext would merge it as.
mkdir "$WORK/ext"
ln -s "$image" "$WORK/ext/hello.raw"
expect_status 0 systemd-dissect --no-pager "$WORK/ext/hello.raw"
cat "$WORK/last.out"
expect_output "✓ extension for system"
grep -qE '^ro +usr +[0-9a-f-]+ +usr-x86-64 +squashfs +x86-64 ' "$WORK/last.out" ||
    fail "systemd-dissect finds no usr squashfs"
grep -qE '^ro +usr-verity +[0-9a-f-]+ +usr-x86-64-verity +DM_verity_hash ' "$WORK/last.out" ||
    fail "systemd-dissect finds no usr-verity partition"
grep -qE '^ro +usr-verity-sig +[0-9a-f-]+ +usr-x86-64-verity-sig +verity_hash_signature ' "$WORK/last.out" ||
    fail "systemd-dissect finds no usr-verity-sig partition"

# verify and inspect.
expect_status 0 "$KSX" verify "$image" --cert "$WORK/keys/ddi.crt"
expect_output "ok   partitions: GPT with usr, usr-verity and usr-verity-sig (x86-64)"
expect_output "ok   verity: "
expect_output "ok   roothash: $roothash"
expect_output "ok   signature: signed by CN=kmod-sysext ddi test"
expect_output "ok   extension-release: hello, kernel $kernel"
expect_output "ok   module usr/lib/modules/$kernel/extra/hello/hello.ko: signed by CN=kmod-sysext ddi test"
expect_status 1 "$KSX" verify "$image"
expect_output "FAIL signature: signature present, signer not checked (no --cert given)"
expect_status 0 "$KSX" inspect "$image" --cert "$WORK/keys/cert.pem"
expect_output "verity (ddi):"
expect_output "  root hash: $roothash"
expect_output "  certificate: CN=kmod-sysext ddi test"
expect_output "hello_core (boot) /usr/lib/modules/$kernel/extra/hello/hello_core.ko"
expect_output "  /usr/lib/modules/$kernel/extra/hello/hello.ko: signer kmod-sysext ddi test"

# The same inputs give the same disk image.
expect_status 0 "$KSX" build --quiet "$WORK/ddi.yaml" --output "$WORK/again" \
    --sign-key "$WORK/keys/key.pem" --sign-cert "$WORK/keys/cert.pem"
cmp -s "$image" "$WORK/again/$(basename "$image")" || fail "two builds of the disk image differ"

# Tampering: one byte flipped at 60 random offsets, each put back afterwards.
size=$(stat -c %s "$image")
mkdir "$WORK/t"
t="$WORK/t/$(basename "$image")"
cp "$image" "$t"
# The untouched copy passes: each rejection below is the flipped byte's.
expect_status 0 "$KSX" verify --quiet "$t" --cert "$WORK/keys/cert.pem"
awk -v seed="$seed" -v size="$size" -v a="$usr_start" -v b="$verity_start" -v c="$sig_start" \
    -v d="$((sig_start + sig_sectors))" \
    'BEGIN {
        srand(seed)
        # Tables, usr data, hash tree, signature partition, backup tables: 12 offsets each.
        split("0 " a * 512 " " b * 512 " " c * 512 " " size - 33 * 512, from, " ")
        split(a * 512 " " b * 512 " " c * 512 " " d * 512 " " size, to, " ")
        for (i = 0; i < 60; i++) {
            k = i % 5 + 1
            printf "%d %d\n", from[k] + int(rand() * (to[k] - from[k])), 1 + int(rand() * 255)
        }
    }' >"$WORK/cases"
rejected=0
while read -r offset mask; do
    old=$(od -An -tu1 -j "$offset" -N1 "$t" | tr -d ' \n')
    # shellcheck disable=SC2059
    printf "\\$(printf %03o $((old ^ mask)))" | dd of="$t" bs=1 seek="$offset" conv=notrunc status=none
    set +e
    "$KSX" verify --quiet "$t" --cert "$WORK/keys/cert.pem" >"$WORK/last.out" 2>&1
    status=$?
    set -e
    # shellcheck disable=SC2059
    printf "\\$(printf %03o "$old")" | dd of="$t" bs=1 seek="$offset" conv=notrunc status=none
    if [ "$status" = 1 ]; then
        rejected=$((rejected + 1))
        grep -m1 '^FAIL' "$WORK/last.out" | cut -d: -f1 >>"$WORK/failed-checks"
    else
        cat "$WORK/last.out" >&2
        fail "byte $offset xor $mask: verify exited with $status"
    fi
done <"$WORK/cases"
cmp -s "$image" "$t" || fail "the tampered copy was not restored"
expect_status 0 "$KSX" verify --quiet "$t" --cert "$WORK/keys/cert.pem"
echo "ddi: $(stat -c %s "$image") bytes, root hash $roothash; tamper: $rejected of 60 flipped bytes rejected, first failed check:"
sort "$WORK/failed-checks" | uniq -c
