#!/bin/sh
# `kmod-sysext enroll`: from a keygen certificate, the DER file (byte for byte keygen's), a
# one-time password and its SHA-512 crypt hash (checked with `openssl passwd -6`), both mode
# 0600, and Ignition/Butane configs that queue `mokutil --import` on first boot (ignition-validate,
# the DER read back from its data URL); the same through `kmod-sysext ignition --enroll-mok`;
# bad input exits 2 naming the file, and nothing is replaced without --force.
. "$(dirname "$0")/lib.sh"

json() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print($2)" "$1"; }

expect_status 0 "$KSX" keygen --out "$WORK/keys" --cn "enroll test"
expect_status 0 "$KSX" enroll --cert "$WORK/keys/cert.pem" --out "$WORK/mok" --name fleet
expect_output "mokutil --import fleet.der --hash-file fleet.hash"
expect_output "MokManager"
cmp "$WORK/mok/fleet.der" "$WORK/keys/cert.der" || fail "fleet.der is not the certificate's DER"
for f in fleet.hash password; do
    [ "$(stat -c %a "$WORK/mok/$f")" = 600 ] || fail "$f is not mode 0600"
done
password=$(cat "$WORK/mok/password")
expect_output "one-time password: $password"
[ "${#password}" = 12 ] || fail "the password is not 12 characters: $password"
hash=$(cat "$WORK/mok/fleet.hash")
salt=$(echo "$hash" | cut -d'$' -f3)
[ "$(openssl passwd -6 -salt "$salt" "$password")" = "$hash" ] ||
    fail "fleet.hash is not the SHA-512 crypt hash of the password"

# The first-boot configs.
ignition-validate "$WORK/mok/enroll.ign" || fail "ignition-validate rejects enroll.ign"
sha1=$(openssl x509 -in "$WORK/keys/cert.pem" -noout -fingerprint -sha1 | cut -d= -f2 | tr 'A-F' 'a-f')
unit=$(json "$WORK/mok/enroll.ign" "d['systemd']['units'][0]['contents']")
echo "$unit" | grep -qF "mokutil --import /etc/kmod-sysext/mok/fleet.der --hash-file /etc/kmod-sysext/mok/fleet.hash" ||
    fail "the unit does not import the certificate: $unit"
echo "$unit" | grep -qF "grep -qi \"$sha1\"" || fail "the unit does not skip an enrolled key ($sha1): $unit"
[ "$(json "$WORK/mok/enroll.ign" "d['systemd']['units'][0]['name']")" = kmod-sysext-mok-import.service ] ||
    fail "unexpected unit name"
python3 - "$WORK/mok/enroll.ign" "$WORK/keys/cert.der" "$hash" <<'PY' || fail "the Ignition files do not hold the DER and the hash"
import json, sys, urllib.parse
files = {f["path"]: f for f in json.load(open(sys.argv[1]))["storage"]["files"]}
der = files["/etc/kmod-sysext/mok/fleet.der"]["contents"]["source"]
assert der.startswith("data:,")
assert urllib.parse.unquote_to_bytes(der[6:]) == open(sys.argv[2], "rb").read()
hashed = files["/etc/kmod-sysext/mok/fleet.hash"]
assert urllib.parse.unquote(hashed["contents"]["source"][6:]) == sys.argv[3]
assert hashed["mode"] == 0o600
PY
grep -q "^variant: flatcar" "$WORK/mok/enroll.bu" || fail "enroll.bu is not a Flatcar Butane config"
grep -qF "mokutil --import /etc/kmod-sysext/mok/fleet.der" "$WORK/mok/enroll.bu" || fail "enroll.bu lacks the import"

# Through `kmod-sysext ignition`, next to the images of a manifest.
hello_manifest_with_kernels "$WORK/hello.yaml" "{release: 6.1.0-28-amd64}"
expect_status 0 "$KSX" ignition "$WORK/hello.yaml" --base-url http://example.com/r \
    --enroll-mok "$WORK/mok" --output "$WORK/node.ign"
ignition-validate "$WORK/node.ign" || fail "ignition-validate rejects the node config"
json "$WORK/node.ign" "[u['name'] for u in d['systemd']['units']]" | grep -q kmod-sysext-mok-import.service ||
    fail "ignition --enroll-mok has no import unit"
json "$WORK/node.ign" "[f['path'] for f in d['storage']['files']]" | grep -q /etc/kmod-sysext/mok/fleet.der ||
    fail "ignition --enroll-mok has no certificate"

# A chosen password, and the refusals.
printf 'chosen-pass\n' >"$WORK/pw"
expect_status 2 "$KSX" enroll --cert "$WORK/keys/cert.pem" --out "$WORK/mok" --name fleet
expect_output "fleet.der already exists"
expect_status 0 "$KSX" enroll --cert "$WORK/keys/cert.pem" --out "$WORK/mok" --name fleet \
    --password-file "$WORK/pw" --force
[ "$(cat "$WORK/mok/password")" = chosen-pass ] || fail "--password-file was not used"
printf 'two\nlines\n' >"$WORK/pw2"
expect_status 2 "$KSX" enroll --cert "$WORK/keys/cert.pem" --out "$WORK/mok2" --password-file "$WORK/pw2"
expect_output "$WORK/pw2: the password must be one line"
[ ! -e "$WORK/mok2/kmod-sysext.der" ] || fail "a refused enroll wrote files"
expect_status 2 "$KSX" enroll --cert "$WORK/nothing.pem" --out "$WORK/mok3"
expect_output "$WORK/nothing.pem"
mkdir "$WORK/empty"
expect_status 2 "$KSX" ignition "$WORK/hello.yaml" --base-url http://example.com/r --enroll-mok "$WORK/empty"
expect_output "$WORK/empty: expected one <name>.der"
echo "PASS"
