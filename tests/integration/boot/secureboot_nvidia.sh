# Shared by the Secure Boot test's NVIDIA run (sourced, after lib.sh): NVIDIA's open kernel
# modules, the product's manifests/nvidia-open.yaml built as the realworld suite builds it for
# Debian 12 (`--target debian-12 --kernel K`: 535.261.03), signed with the test key that is
# enrolled as a Machine Owner Key, in the Secure Boot guest's store beside hello. Without a GPU
# the driver's init prints NVIDIA's own "No NVIDIA GPU found" and ends with ENODEV: the kernel
# verified the module's signature first (lockdown refuses an untrusted one before its init).
#   nvidia_test_key DIR CN
#       DIR: the test key (key.pem, cert.pem) with common name CN, made once and kept under
#       ${XDG_CACHE_HOME:-~/.cache}/kmod-sysext-tests/secureboot-nvidia/key: the build cache
#       is keyed by the signing certificate, so with the same key a rerun's build is a copy
#   nvidia_build KERNEL KEYDIR OUT
#       builds manifests/nvidia-open.yaml for KERNEL into OUT, signed with KEYDIR's key, and
#       prints the image's path (build time and cache use on stderr)
#   nvidia_install ROOT IMAGE
#       IMAGE and its sidecars in ROOT's store with the shared userspace image beside it (the
#       manifest has `userspace: shared`), and ROOT/usr/local/lib/ksx-check.d/nvidia,
#       which prints KSX-NV lines: the kernel's NVIDIA messages and signature refusals
#   nvidia_check LOG KERNEL IMAGE
#       asserts on the serial LOG that the activator verified and merged the modules image and
#       its shared userspace image and tried to load nvidia.ko, that the kernel accepted it (NVIDIA's no-GPU message, ENODEV) and refused no
#       module's signature, and that the module's signer is trusted from .machine
NVIDIA_CN="kmod-sysext secureboot test"

nvidia_test_key() {
    local dir=$1 cn=$2 cache partial
    cache=${XDG_CACHE_HOME:-$HOME/.cache}/kmod-sysext-tests/secureboot-nvidia/key
    if [ ! -f "$cache/cert.pem" ]; then
        mkdir -p "$(dirname "$cache")"
        partial=$(mktemp -d "$cache.partial-XXXXXX")
        "$KSX" keygen --quiet --out "$partial/key" --cn "$cn" >/dev/null || fail "keygen failed"
        mv -T "$partial/key" "$cache" 2>/dev/null || [ -f "$cache/cert.pem" ] ||
            fail "cannot keep the test key in $cache"
        rm -rf "$partial"
    fi
    openssl x509 -in "$cache/cert.pem" -noout -subject | grep -qF "CN = $cn" ||
        fail "$cache/cert.pem is not the test key \"$cn\": remove $cache"
    mkdir -p "$dir"
    cp "$cache/key.pem" "$cache/cert.pem" "$dir/"
}

nvidia_build() {
    local kernel=$1 keydir=$2 out=$3 start image
    start=$(date +%s)
    # The build cache on (lib.sh turns it off for the tests): the first run compiles, a rerun
    # with the kept key copies that run's image set.
    KSX_BUILD_CACHE=on "$KSX" build "$SRC/manifests/nvidia-open.yaml" --target debian-12 --kernel "$kernel" \
        --output "$out" --jobs 1 --sign-key "$keydir/key.pem" --sign-cert "$keydir/cert.pem" \
        --json >"$out.json" 2>"$out.log" ||
        { tail -n 30 "$out.log" >&2; fail "building nvidia-open for $kernel failed"; }
    image=$(ls "$out"/nvidia-open_*_"$kernel.raw" 2>/dev/null | head -n 1)
    [ -n "$image" ] || fail "no nvidia-open image for $kernel in $out"
    echo "nvidia-open for $kernel: $(basename "$image") in $(($(date +%s) - start)) s" \
        "(build cache: $(grep -o '"build_cache": *"[a-z]*"' "$out.json" | head -n 1 | sed 's/.*"\([a-z]*\)"$/\1/'))" >&2
    echo "$image"
}

nvidia_install() {
    local root=$1 image=$2
    mkdir -p "$root/var/lib/kmod-sysext/nvidia-open"
    cp "${image%.raw}".* "$root/var/lib/kmod-sysext/nvidia-open/"
    ls "$(dirname "$image")"/nvidia-open-userspace_*.raw >/dev/null 2>&1 ||
        fail "no shared nvidia-open-userspace image beside $(basename "$image")"
    cp "$(dirname "$image")"/nvidia-open-userspace_* "$root/var/lib/kmod-sysext/nvidia-open/"
    install -D -m 0755 /dev/stdin "$root/usr/local/lib/ksx-check.d/nvidia" <<'SCRIPT'
#!/bin/sh
echo "KSX-NV module nvidia $(test -e /sys/module/nvidia && echo loaded || echo not-loaded)"
echo "KSX-NV tainted $(cat /proc/sys/kernel/tainted)"
dmesg | grep -iE 'nvidia|NVRM|Key was rejected|module verification|PKCS#7|unsigned module' |
    sed 's/^/KSX-NV-DMESG /'
SCRIPT
}

nvidia_check() {
    local log=$1 kernel=$2 image=$3 roothash ko
    roothash=$(head -c 64 "${image%.raw}.roothash")
    ko=/usr/lib/modules/$kernel/extra/nvidia-open/nvidia.ko
    grep -qF "kmod-sysext-activate: verified $(basename "$image"): signed by $NVIDIA_CN, root hash $roothash" "$log" ||
        fail "the activator did not verify $(basename "$image")"
    grep -q "^KSX-DMTABLE .* verity .* $roothash .*root_hash_sig_key_desc" "$log" ||
        fail "nvidia-open is not merged through dm-verity with the kernel's signature check"
    grep -q "^KSX-RELEASE extension-release.nvidia-open$" "$log" || fail "nvidia-open is not merged"
    grep -qF "kmod-sysext-activate: verified $(basename "$(ls "$(dirname "$image")"/nvidia-open-userspace_*.raw)"): signed by $NVIDIA_CN" "$log" ||
        fail "the activator did not verify the shared nvidia-open-userspace image"
    grep -q "^KSX-RELEASE extension-release.nvidia-open-userspace$" "$log" ||
        fail "the shared nvidia-open-userspace image is not merged"
    ! grep -qF "not linking nvidia-open-userspace" "$log" || fail "the shared image was not linked"
    # The kernel checked the signature and ran the driver's init: NVIDIA's own message, then
    # ENODEV, which the activator reports as the driver finding no device.
    grep -qF "KSX-NV-DMESG" "$log" || fail "the guest printed no NVIDIA kernel messages"
    grep -q "^KSX-NV-DMESG .*NVRM: No NVIDIA GPU found" "$log" ||
        fail "no \"No NVIDIA GPU found\" from the driver: $(grep '^KSX-NV-DMESG' "$log" | head -n 5)"
    grep -qF "kmod-sysext-activate: failed to load nvidia from $ko: No such device (the driver found no device it supports)" "$log" ||
        fail "the activator did not report nvidia.ko's ENODEV: $(grep -F nvidia.ko "$log" | head -n 3)"
    ! grep -qiE "^KSX-NV-DMESG .*(Key was rejected|module verification failed|unsigned module)" "$log" ||
        fail "the kernel refused or tainted on a module signature: $(grep -iE 'Key was rejected|verification failed|unsigned module' "$log" | head -n 3)"
    ! grep -qE "(Unknown symbol|disagrees about version|Invalid module format)" "$log" ||
        fail "the kernel refused nvidia.ko's symbols or version"
    grep -qF "KSX-NV module nvidia not-loaded" "$log" || fail "nvidia stayed loaded without a GPU"
    # The activator's view: the kernel enforces signatures and trusts nvidia-open's signer from
    # .machine (the MOK), so it tried the module rather than naming an untrusted key.
    python3 - "$log" "$NVIDIA_CN" <<'PY' || fail "the activator's status does not show nvidia-open's signer trusted from .machine"
import json, sys
for line in open(sys.argv[1], errors="replace"):
    if line.startswith("KSX-JSON {"):
        for extension in json.loads(line[len("KSX-JSON "):])["extensions"]:
            if extension["name"] == "nvidia-open":
                signer = extension.get("module_signer")
                print(f"nvidia-open module signer: {signer}")
                sys.exit(0 if signer and signer.get("signer") == sys.argv[2]
                         and signer.get("trust") == "trusted" and signer.get("keyring") == ".machine" else 1)
sys.exit(1)
PY
    # Besides nvidia's ENODEV, only the modules that need nvidia are left out, nothing else fails.
    ! grep -E "kmod-sysext-activate: (failed to load|not loading) " "$log" | grep -v "^KSX-OTHER" |
        grep -vqE "/extra/nvidia-open/nvidia(-uvm|-modeset|-drm)?\.ko" ||
        fail "a module other than NVIDIA's failed: $(grep -E 'kmod-sysext-activate: (failed to load|not loading)' "$log" | grep -v '^KSX-OTHER' | grep -v nvidia-open | head -n 3)"
}
