# Shared by the Secure Boot test (sourced, after lib.sh): `kmod-sysext enroll`'s files handed to
# Debian's mokutil in the guest, the way an operator queues a Machine Owner Key on a node, and
# what mokutil left in the firmware's variables checked against them.
#   mok_import_prepare ROOT CERT.pem DIR
#       runs `kmod-sysext enroll --cert CERT.pem --out DIR`, copies its DER and hash file to
#       ROOT/root/mok and installs ROOT/usr/local/lib/ksx-check.d/mok-import, which runs
#       `mokutil --import kmod-sysext.der --hash-file kmod-sysext.hash` there and prints
#       KSX-MOK lines: mokutil's output and exit status, `mokutil --list-new`, and the MokNew
#       and MokAuth variables (efivarfs, base64). CERT must not be enrolled already (mokutil
#       skips a key that is).
#   mok_import_check LOG DIR
#       asserts on LOG (the serial log) that mokutil queued DIR's certificate with DIR's
#       password: mok_request.py checks MokNew and MokAuth byte by byte.
MOK_IMPORT_HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

mok_import_prepare() {
    local root=$1 cert=$2 dir=$3
    "$KSX" enroll --cert "$cert" --out "$dir" >"$dir.log" 2>&1 ||
        { cat "$dir.log"; fail "kmod-sysext enroll failed"; }
    install -D -m 0644 "$dir/kmod-sysext.der" "$root/root/mok/kmod-sysext.der"
    install -D -m 0600 "$dir/kmod-sysext.hash" "$root/root/mok/kmod-sysext.hash"
    install -D -m 0755 /dev/stdin "$root/usr/local/lib/ksx-check.d/mok-import" <<'SCRIPT'
#!/bin/sh
# Queues the enrolment as the operator would, from enroll's files, and shows what was queued.
cd /root/mok || exit 1
mokutil --import kmod-sysext.der --hash-file kmod-sysext.hash >/tmp/mokutil.log 2>&1
status=$?
sed 's/^/KSX-MOK-IMPORT /' /tmp/mokutil.log
echo "KSX-MOK import exit $status"
mokutil --list-new 2>&1 | sed 's/^/KSX-MOK-NEW /'
shim=605dab50-e046-4300-abb6-3dd810dd8b23
for name in MokNew MokAuth; do
    file=/sys/firmware/efi/efivars/$name-$shim
    if [ -e "$file" ]; then
        echo "KSX-MOK $name $(base64 -w0 "$file")"
    else
        echo "KSX-MOK $name missing"
    fi
done
SCRIPT
}

mok_import_check() {
    local log=$1 dir=$2 fingerprint
    grep -qF "KSX-MOK import exit 0" "$log" ||
        fail "mokutil --import failed: $(grep -E '^KSX-MOK(-IMPORT)? ' "$log" | head -n 5)"
    # mokutil's own reading of MokNew names the certificate by its SHA-1 fingerprint.
    fingerprint=$(openssl x509 -inform der -in "$dir/kmod-sysext.der" -noout -fingerprint -sha1 |
        sed 's/^.*=//' | tr 'A-F' 'a-f')
    grep -qi "^KSX-MOK-NEW .*$fingerprint" "$log" ||
        fail "mokutil --list-new does not show $fingerprint: $(grep '^KSX-MOK-NEW' "$log" | head -n 5)"
    python3 "$MOK_IMPORT_HERE/mok_request.py" "$log" "$dir/kmod-sysext.der" \
        "$dir/kmod-sysext.hash" "$dir/password" || fail "mokutil's request does not match enroll's files"
}
