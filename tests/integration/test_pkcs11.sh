#!/bin/sh
# Signing with a key held in a PKCS#11 token (SoftHSM, through p11-kit and OpenSSL's pkcs11
# engine): the same key imported into the token and used as a file must give byte-identical
# images, sidecars and module signatures (RSA PKCS#1 v1.5 is deterministic), `verify` accepts
# them, a wrong PIN or object is a clear error that never shows the PIN and writes no image.
# Debian 12: bookworm's kernel lines, in a bookworm developer container.
HELLO_MANIFEST=${SRC:?source tree}/manifests/hello-debian12.yaml
. "$(dirname "$0")/lib.sh"

command -v softhsm2-util >/dev/null || fail "softhsm2-util is missing (scripts/setup installs softhsm2)"
mkdir -p "$WORK/tokens"
printf 'directories.tokendir = %s/tokens\nobjectstore.backend = file\n' "$WORK" >"$WORK/softhsm2.conf"
export SOFTHSM2_CONF="$WORK/softhsm2.conf"
expect_status 0 softhsm2-util --init-token --free --label ksx-test --pin 4711 --so-pin 8642
expect_status 0 "$KSX" keygen --quiet --out "$WORK/keys" --cn "kmod-sysext pkcs11 test"
expect_status 0 softhsm2-util --import "$WORK/keys/key.pem" --token ksx-test --label module-key \
    --id 01 --pin 4711

# Two kernels: one image is signed while the next kernel's modules are, from two threads.
hello_manifest_with_kernels "$WORK/hello.yaml" "{package: linux-headers-amd64}" \
    "{package: linux-headers-6.12-amd64}"
expect_status 0 "$KSX" build --quiet "$WORK/hello.yaml" --output "$WORK/file" \
    --sign-key "$WORK/keys/key.pem" --sign-cert "$WORK/keys/cert.pem"

# The PIN in the URI, then from the environment.
uri="pkcs11:token=ksx-test;object=module-key;type=private"
expect_status 0 "$KSX" build "$WORK/hello.yaml" --output "$WORK/token" \
    --sign-key "$uri;pin-value=4711" --sign-cert "$WORK/keys/cert.pem"
! grep -q 4711 "$WORK/last.out" || fail "the PIN shows in the build's output"
KSX_PKCS11_PIN=4711 expect_status 0 "$KSX" build --quiet "$WORK/hello.yaml" \
    --output "$WORK/token-env" --sign-key "$uri" --sign-cert "$WORK/keys/cert.pem"

count=0
for f in "$WORK"/file/*; do
    name=$(basename "$f")
    cmp -s "$f" "$WORK/token/$name" || fail "$name differs between file key and token key"
    cmp -s "$f" "$WORK/token-env/$name" || fail "$name differs with the PIN from the environment"
    count=$((count + 1))
done
[ "$count" -ge 8 ] || fail "expected two images and their three sidecars each, found $count files"
for image in "$WORK"/token/hello_*.raw; do
    expect_status 0 "$KSX" verify "$image" --cert "$WORK/keys/cert.pem"
    expect_output "signed by CN=kmod-sysext pkcs11 test"
done

# The manifest's signing section takes the URI as written (not as a path).
sed -e '/^signing:/,$d' "$WORK/hello.yaml" >"$WORK/manifest-signing.yaml"
cat >>"$WORK/manifest-signing.yaml" <<YAML
signing:
  modules: {key: "$uri;pin-value=4711", cert: $WORK/keys/cert.pem}
  image: {key: "$uri;pin-value=4711", cert: $WORK/keys/cert.pem}
YAML
expect_status 0 "$KSX" build --quiet "$WORK/manifest-signing.yaml" --output "$WORK/manifest"
for image in "$WORK"/token/hello_*.raw; do
    cmp -s "$image" "$WORK/manifest/$(basename "$image")" || fail "the manifest's URI signed differently"
done

# Bad input: wrong PIN, missing object, a URI for the certificate.
expect_status 2 "$KSX" build "$WORK/hello.yaml" --output "$WORK/bad" \
    --sign-key "$uri;pin-value=0000" --sign-cert "$WORK/keys/cert.pem"
expect_output "signing key $uri;pin-value=(hidden): cannot load the private key from the PKCS#11 token"
! grep -q "pin-value=0000" "$WORK/last.out" || fail "the wrong PIN shows in the error"
[ ! -e "$WORK/bad" ] || [ -z "$(ls "$WORK/bad")" ] || fail "a failed build wrote $(ls "$WORK/bad")"
expect_status 2 "$KSX" build "$WORK/hello.yaml" --output "$WORK/bad" \
    --sign-key "pkcs11:token=ksx-test;object=no-such-key;pin-value=4711" --sign-cert "$WORK/keys/cert.pem"
expect_output "cannot load the private key from the PKCS#11 token"
sed -e "s|cert: $WORK/keys/cert.pem}|cert: \"$uri\"}|" "$WORK/manifest-signing.yaml" >"$WORK/cert-uri.yaml"
expect_status 2 "$KSX" build "$WORK/cert-uri.yaml" --output "$WORK/bad"
expect_output "cert-uri.yaml:"
expect_output "PKCS#11 URIs name keys only"
echo "PASS: token-held key signs byte-identically to the file key ($count files compared)"
