#!/bin/bash
# First boot as Ignition would make it: a Debian 12 guest whose node files all come from the
# config `kmod-sysext ignition` generated for a published, signed release. Every storage.files
# entry is fetched from the release served on 127.0.0.1, checked against its verification hash
# and written into the guest's root; every systemd.units entry is installed and enabled. The
# guest boots the 6.12 kernel under qemu and must verify, merge and load its image. The config
# has the prefetch timer; in the guest its service, started by hand, must fetch the image of
# the other installed kernel (6.1) from a second release, which the guest holds in a
# directory (the guest has no network; the service's URL is pointed there).
#   test_ignition_boot.sh ACTIVATE_BINARY KMOD_SYSEXT_BINARY SOURCE_DIR
# Exit status 77 (skipped) only when qemu cannot run at all.
set -euo pipefail

ACTIVATE=$(realpath "${1:?path of kmod-sysext-activate}")
export KSX=$(realpath "${2:?path of kmod-sysext}")
export SRC=$(realpath "${3:?source tree}")
# Debian 12: bookworm's kernel lines, in a bookworm developer container.
HELLO_MANIFEST=${SRC:?source tree}/manifests/hello-debian12.yaml
. "$SRC/tests/integration/lib.sh"
. "$SRC/tests/integration/boot/qemu.sh"
set -o pipefail

qemu_or_skip

guest=$("$SRC/tests/integration/boot/guest.sh")
k612=$(cd "$guest/boot" && ls vmlinuz-6.12.* | sed 's/^vmlinuz-//')
k61=$(cd "$guest/boot" && ls vmlinuz-6.1.* | sed 's/^vmlinuz-//')

# A signed release of the 6.12 image with the activator, served over HTTP on the loopback
# (bounded in time), and one with the images of both kernels for the prefetch.
hello_manifest_with_kernels "$WORK/hello.yaml" "{package: linux-headers-6.12-amd64}" \
    "{package: linux-headers-amd64}"
expect_status 0 "$KSX" keygen --out "$WORK/keys" --cn "kmod-sysext ignition boot" --algorithm ecdsa
expect_status 0 "$KSX" build -q "$WORK/hello.yaml" --output "$WORK/shard" \
    --sign-key "$WORK/keys/key.pem" --sign-cert "$WORK/keys/cert.pem"
for k in "$k612" "$k61"; do
    [ -f "$WORK/shard/hello_1.0.0_$k.raw" ] || fail "no image for the guest's kernel $k: $(ls "$WORK/shard")"
done
mkdir "$WORK/shard-612"
cp "$WORK/shard/hello_1.0.0_$k612".* "$WORK/shard-612/"
expect_status 0 "$KSX" publish --from "$WORK/shard-612" --to "$WORK/release" --activator "$ACTIVATE" \
    --cert "$WORK/keys/cert.pem"
expect_status 0 "$KSX" publish --from "$WORK/shard" --to "$WORK/both" --cert "$WORK/keys/cert.pem"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
timeout 300 python3 -m http.server "$port" --bind 127.0.0.1 --directory "$WORK/release" \
    >"$WORK/http.log" 2>&1 &
server=$!
expect_status 0 "$KSX" ignition "$WORK/release" --base-url "http://127.0.0.1:$port" \
    --cert "$WORK/keys/cert.pem" --prefetch-timer --output "$WORK/node.ign"
ignition-validate "$WORK/node.ign" || fail "ignition-validate rejects the config"
sleep 0.5

# Apply the config to a copy of the guest (hard links: the cached guest is never written).
root="$WORK/root"
guest_root "$root" "$guest"
python3 - "$WORK/node.ign" "$root" <<'PY' || fail "applying the Ignition config failed"
import hashlib, json, os, sys, urllib.parse, urllib.request
config, root = json.load(open(sys.argv[1])), sys.argv[2]
assert config["ignition"]["version"] == "3.3.0"
for d in config["storage"].get("directories", []):
    os.makedirs(root + d["path"], mode=d["mode"], exist_ok=True)
for f in config["storage"]["files"]:
    source = f["contents"]["source"]
    if source.startswith("data:,"):
        data = urllib.parse.unquote_to_bytes(source[6:])
    else:
        data = urllib.request.urlopen(source, timeout=10).read()
        want = f["contents"]["verification"]["hash"]
        assert "sha256-" + hashlib.sha256(data).hexdigest() == want, source
    path = root + f["path"]
    os.makedirs(os.path.dirname(path), exist_ok=True)
    if os.path.lexists(path):
        os.unlink(path)  # never write through a hard link into the cached guest
    with open(path, "wb") as out:
        out.write(data)
    os.chmod(path, f["mode"])
for u in config["systemd"]["units"]:
    path = root + "/etc/systemd/system/" + u["name"]
    if os.path.lexists(path):
        os.unlink(path)
    with open(path, "w") as out:
        out.write(u["contents"])
    print(u["name"] if u.get("enabled") else "", file=open(sys.argv[2] + "/.enable", "a"))
PY
kill "$server" 2>/dev/null || true
# shellcheck disable=SC2046
systemctl --root="$root" enable $(cat "$root/.enable") >/dev/null 2>&1
rm -f "$root/.enable"
grep -q "ExecStart=/opt/bin/kmod-sysext-activate select" "$root/etc/systemd/system/kmod-sysext-select.service" ||
    fail "the select unit does not run /opt/bin/kmod-sysext-activate"
# The prefetch service's release, in the guest: the URL Ignition wrote points at the loopback
# of the host.
grep -qx "KMOD_SYSEXT_RELEASE_URL=http://127.0.0.1:$port" "$root/etc/kmod-sysext/prefetch.conf" ||
    fail "prefetch.conf: $(cat "$root/etc/kmod-sysext/prefetch.conf")"
echo "KMOD_SYSEXT_RELEASE_URL=/srv/kmod-sysext-release" >"$root/etc/kmod-sysext/prefetch.conf"
cp -r "$WORK/both" "$root/srv/kmod-sysext-release"
[ ! -e "$root/var/lib/kmod-sysext/hello/hello_1.0.0_$k61.raw" ] || fail "the 6.1 image is in the store already"

# A check unit printing what happened to the serial console, then power off.
install_check_unit "$root" "kmod-sysext Ignition boot check" <<'CHECK'
#!/bin/sh
. /usr/local/lib/ksx-check.sh
m "kernel $(uname -r)"
report_merge
report_units
echo "KSX-TIMER $(systemctl is-enabled kmod-sysext-prefetch.timer) $(systemctl is-active kmod-sysext-prefetch.timer)"
systemctl start kmod-sysext-prefetch.service
echo "KSX-PREFETCH $(systemctl show -p Result --value kmod-sysext-prefetch.service)"
journalctl -b --no-pager -u kmod-sysext-prefetch | sed 's/^/KSX-JOURNAL /'
ls /var/lib/kmod-sysext/hello | sed 's/^/KSX-STORE /'
finish
CHECK
guest_disk "$root" "$WORK/disk.img" 3G

start=$(now)
boot_guest "$guest" "$k612" "$WORK/disk.img" "$WORK/boot.log"
rm -f "$WORK/disk.img"
echo "boot: $(elapsed "$start") s"
LOG="$WORK/boot.log"
has "KSX-CHECK kernel $k612"
has "kmod-sysext-activate: verified hello_1.0.0_$k612.raw: signed by kmod-sysext ignition boot"
grep -q "KSX-SYSEXT /usr.* hello" "$LOG" || fail "systemd-sysext status does not show hello merged"
has "KSX-MODULE hello_core"
has "KSX-MODULE hello"
has "KSX-TIMER enabled active"
has "KSX-PREFETCH success"
has "kmod-sysext-activate: prefetched hello_1.0.0_$k61.raw for kernel $k61"
has "kmod-sysext-activate: hello_1.0.0_$k612.raw is already in the store"
for suffix in raw verity roothash roothash.p7s; do
    has "KSX-STORE hello_1.0.0_$k61.$suffix"
done
has "KSX-CHECK done"
echo "PASS: a node provisioned only from the generated Ignition config verified, merged and loaded hello, and its prefetch timer's service fetched the other kernel's image"
