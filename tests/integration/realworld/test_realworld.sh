#!/bin/bash
# Real drivers, end to end: build the zfs, nvidia-open and nvidia manifests for Debian 12's
# 6.1 and 6.12 kernels, signed, check every module's vermagic and signer and every image with
# `kmod-sysext verify`, then boot each kernel under qemu (the cached guest of
# tests/integration/boot) as a node: the activator and its units installed, the images in its
# store, the certificate in /etc/verity.d. In the guest the activator must verify, link and
# (after systemd-sysext merged them with dm-verity) load the modules, and:
#   zfs:    spl and zfs load, `zpool create` on a file vdev works, `zfs list` shows the pool;
#   nvidia: the kernel accepts nvidia.ko (no symbol or vermagic errors; without a GPU the
#           driver's own "No NVIDIA GPU found" and ENODEV, which the activator reports),
#           nvidia-smi runs and reports that it found no device, and the driver's libraries
#           resolve by name from the loader's default path.
# Build and boot times are printed. Environment: KSX, ACTIVATE, SRC (as for every integration
# test); KSX_REALWORLD="zfs nvidia-open nvidia", KSX_REALWORLD_KERNELS="6.1 6.12" narrow the
# run; with --full it runs only when KSX_REALWORLD_FULL=1 (about 40 minutes on two cores).
# KSX_REALWORLD_REUSE=DIR checks and boots the images (DIR/images) and key (DIR/key) of an
# earlier run's kept work directory instead of building them.
set -euo pipefail
if [ "${1-}" = --full ] && [ "${KSX_REALWORLD_FULL-}" != 1 ]; then
    echo "SKIP: the full real-world suite runs with KSX_REALWORLD_FULL=1"
    exit 77
fi
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib.sh"
. "$HERE/../boot/activator.sh"
set -o pipefail
ACTIVATE=${ACTIVATE:?path of kmod-sysext-activate}

manifests=${KSX_REALWORLD:-zfs nvidia-open nvidia}
lines=${KSX_REALWORLD_KERNELS:-6.1 6.12}
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

# 1. The guest (cached, shared with the boot test) names the kernels to build for.
guest=$("$HERE/../boot/guest.sh")
kernels=""
for line in $lines; do
    k=$(cd "$guest/boot" && ls "vmlinuz-$line".[0-9]* 2>/dev/null | sed 's/^vmlinuz-//' | head -n1)
    [ -n "$k" ] || fail "the guest has no $line kernel"
    kernels="$kernels $k"
done
echo "guest: $guest; kernels:$kernels"

# 2. Build each manifest for those kernels, signed with a key made here; check every module's
#    vermagic and signer, and the image's verity tree and root hash signature (`verify`).
# image_of MANIFEST KERNEL: the image built for KERNEL (its version may differ per kernel).
image_of() {
    local found
    found=$(ls "$WORK/images/$1"_*_"$2.raw" 2>/dev/null | head -n 1)
    [ -n "$found" ] || fail "no $1 image for $2 in $WORK/images: $(ls "$WORK/images" | tr '\n' ' ')"
    echo "$found"
}
signer="kmod-sysext realworld test"
if [ -n "${KSX_REALWORLD_REUSE-}" ]; then
    cp -a "$KSX_REALWORLD_REUSE/key" "$KSX_REALWORLD_REUSE/images" "$WORK/"
else
    "$KSX" keygen --quiet --out "$WORK/key" --cn "$signer" >/dev/null || fail "keygen failed"
fi
for m in $manifests; do
    args=()
    for k in $kernels; do args+=(--kernel "$k"); done
    start=$(now)
    if [ -z "${KSX_REALWORLD_REUSE-}" ]; then
        "$KSX" build "$SRC/manifests/$m.yaml" --output "$WORK/images" --jobs 1 "${args[@]}" \
            --sign-key "$WORK/key/key.pem" --sign-cert "$WORK/key/cert.pem" \
            >"$WORK/build-$m.log" 2>&1 || { tail -n 30 "$WORK/build-$m.log"; fail "building $m failed"; }
        echo "build $m: $(elapsed "$start") s"
    fi
    for k in $kernels; do
        image=$(image_of "$m" "$k")
        rm -rf "$WORK/x"
        unsquashfs -q -n -d "$WORK/x" "$image" >/dev/null
        count=0
        for ko in "$WORK/x/usr/lib/modules/$k/extra/$m"/*.ko*; do
            magic=$(modinfo -F vermagic "$ko")
            [ "${magic%% *}" = "$k" ] || fail "$ko has vermagic '$magic', not $k"
            [ "$(modinfo -F signer "$ko")" = "$signer" ] || fail "$ko is not signed by the test key"
            count=$((count + 1))
        done
        [ "$count" -gt 0 ] || fail "$image holds no modules"
        "$KSX" verify "$image" --cert "$WORK/key/cert.pem" >"$WORK/verify.log" 2>&1 ||
            { cat "$WORK/verify.log"; fail "verify refused $image"; }
        # zfs 2.1 builds the 6.1 image, 2.3 the 6.12 one; each is named after what it holds.
        if [ "$m" = zfs ]; then
            want=2.3.2
            case $k in 6.1.*) want=2.1.11 ;; esac
            [ "$(basename "$image")" = "zfs_${want}_$k.raw" ] || fail "$image is not zfs $want"
            grep -q "^KMOD_SYSEXT_VERSION=$want$" "$WORK/x/usr/lib/extension-release.d/extension-release.zfs" ||
                fail "extension-release of $image does not say version $want"
        fi
        echo "  $(basename "$image"): $count modules, vermagic $k, modules signed, verify passed, $(du -k "$image" | cut -f1) KiB"
    done
done

# 3. Boot checks, unless qemu cannot run here.
status=0
timeout 5 qemu-system-x86_64 -accel tcg -machine none -display none -nodefaults -S \
    </dev/null >"$WORK/qemu-probe.log" 2>&1 || status=$?
if [ "$status" != 124 ]; then
    echo "SKIP: builds passed; qemu-system-x86_64 cannot run here: $(head -c 300 "$WORK/qemu-probe.log")"
    exit 77
fi

# The guest is a node: the activator and its units installed and enabled, the images and their
# sidecars in its store, the signing certificate in /etc/verity.d. At boot the activator
# verifies and links each image built for the running kernel, systemd-sysext merges them with
# dm-verity, and the activator loads their modules in modules.load order (in-kernel
# dependencies such as drm first). The check unit, after that, exercises the drivers and prints
# what happened to the serial console.
write_check() {
    install -D -m 0755 /dev/stdin "$1/usr/local/sbin/ksx-realworld" <<'CHECK'
#!/bin/bash
m() { echo "KSX-RW $*"; }
m "kernel $(uname -r)"
systemd-sysext status 2>&1 | sed 's/^/KSX-RW-SYSEXT /'
kmod-sysext-activate status --json 2>&1 | sed 's/^/KSX-RW-JSON /'
journalctl -b -o cat --no-pager -u kmod-sysext-select -u kmod-sysext-load | sed 's/^/KSX-RW-JOURNAL /'
for u in kmod-sysext-select kmod-sysext-load; do
    m "unit $u $(systemctl show --value -p Result "$u.service")"
done
for d in /sys/block/dm-*/dm; do [ -e "$d/uuid" ] && m "dm $(cat "$d/name") $(cat "$d/uuid")"; done
for mod in spl zfs nvidia nvidia_uvm nvidia_modeset nvidia_drm; do
    [ -e "/sys/module/$mod" ] && m "module $mod loaded"
done
if [ -e /sys/module/zfs ]; then
    truncate -s 256M /var/tmp/vdev0
    zpool create -f ksxpool /var/tmp/vdev0 2>&1 | sed 's/^/KSX-RW-ZPOOL /'
    zfs create ksxpool/data 2>&1 | sed 's/^/KSX-RW-ZFS /'
    zfs list -H -o name 2>&1 | sed 's/^/KSX-RW-ZFSLIST /'
fi
if [ -e /usr/lib/kmod-sysext/nvidia-open ] || [ -e /usr/lib/kmod-sysext/nvidia ]; then
    nvidia-smi 2>&1 | sed 's/^/KSX-RW-SMI /'
    m "nvidia-smi exit ${PIPESTATUS[0]}"
    # The driver's libraries by name from the loader's default path (no alternatives, no
    # LD_LIBRARY_PATH), and every shipped program's libraries resolved.
    for lib in libcuda.so.1 libnvidia-ml.so.1 libnvidia-cfg.so.1; do
        if out=$(/lib64/ld-linux-x86-64.so.2 --preload "$lib" /bin/true 2>&1) && [ -z "$out" ]; then
            m "library $lib found"
        else
            m "library $lib NOT found: $out"
        fi
    done
    for program in /usr/bin/nvidia-smi /usr/bin/nvidia-persistenced /usr/bin/nvidia-modprobe; do
        /lib64/ld-linux-x86-64.so.2 --list "$program" 2>&1 | grep -i 'not found' |
            sed "s|^|KSX-RW-MISSING $program: |"
    done
    nvidia-persistenced --version 2>&1 | head -n 2 | sed 's/^/KSX-RW-PERSISTENCED /'
fi
dmesg | grep -iE 'nvidia|NVRM|zfs|spl|vermagic|Unknown symbol|disagrees' | sed 's/^/KSX-RW-DMESG /'
m done
systemctl poweroff --no-block
CHECK
    cat >"$1/etc/systemd/system/ksx-realworld.service" <<'UNIT'
[Unit]
Description=kmod-sysext real-world drivers check
After=multi-user.target kmod-sysext-load.service

[Service]
Type=oneshot
ExecStart=/usr/local/sbin/ksx-realworld
StandardOutput=tty
StandardError=tty
TTYPath=/dev/ttyS0

[Install]
WantedBy=multi-user.target
UNIT
    systemctl --root="$1" enable ksx-realworld.service >/dev/null 2>&1
}

# boot NAME KERNEL IMAGE...: the guest with IMAGEs (and their sidecars) in its store, booted
# under TCG; its serial log is $WORK/NAME.log.
boot() {
    local name=$1 kernel=$2 start dir image extension
    shift 2
    start=$(now)
    dir="$WORK/$name"
    mkdir -p "$dir"
    cp -al "$guest" "$dir/root" # hard links: the cached guest is never written
    install_activator "$dir/root" "$ACTIVATE" "$SRC"
    write_check "$dir/root"
    install -D -m 0644 "$WORK/key/cert.pem" "$dir/root/etc/verity.d/kmod-sysext-realworld.crt"
    for image in "$@"; do
        extension=$(basename "$image")
        extension=${extension%%_*}
        mkdir -p "$dir/root/var/lib/kmod-sysext/$extension"
        cp "${image%.raw}".* "$dir/root/var/lib/kmod-sysext/$extension/"
    done
    mkfs.ext4 -q -F -d "$dir/root" "$dir/disk.img" 4G >/dev/null
    rm -rf "$dir/root"
    timeout 900 qemu-system-x86_64 -accel tcg -m 2048 -nographic -no-reboot \
        -kernel "$guest/boot/vmlinuz-$kernel" -initrd "$guest/boot/initrd.img-$kernel" \
        -append "root=/dev/vda rw console=ttyS0 panic=-1 loglevel=4 no_timer_check" \
        -drive "file=$dir/disk.img,if=virtio,format=raw" -snapshot \
        </dev/null >"$WORK/$name.log" 2>&1 || echo "qemu exited with $? (see $WORK/$name.log)"
    rm -f "$dir/disk.img"
    echo "boot $name: $(elapsed "$start") s"
}

# merged_kernel EXTENSION LOG: the kernel of EXTENSION's merged image, from the activator's
# `status --json` in the guest's log.
merged_kernel() {
    python3 - "$1" "$2" <<'PY'
import json, sys
for line in open(sys.argv[2], errors="replace"):
    if line.startswith("KSX-RW-JSON {"):
        for extension in json.loads(line[len("KSX-RW-JSON "):])["extensions"]:
            if extension["name"] == sys.argv[1] and extension["merged"]:
                print(extension["merged"]["kernel"])
PY
}

LOG=""
has() { grep -qF -- "$1" "$LOG" || fail "$(basename "$LOG"): no line with: $1"; }
lacks() { ! grep -qF -- "$1" "$LOG" || fail "$(basename "$LOG"): unexpected line with: $1"; }

# check_boot LOG KERNEL MANIFESTS: the assertions for what that boot had in its store.
check_boot() {
    local k=$2 group=" $3 " m image roothash
    LOG=$1
    has "KSX-RW kernel $k"
    # Every image verified by the activator, merged by systemd-sysext with dm-verity under its
    # signed root hash.
    for m in $3; do
        image=$(image_of "$m" "$k")
        roothash=$(head -c 64 "${image%.raw}.roothash")
        has "kmod-sysext-activate: verified $(basename "$image"): signed by $signer, root hash $roothash"
        # systemd-sysext status lists the /usr extensions one per line after the first.
        grep -qE "^KSX-RW-SYSEXT (/usr)? .* $m[[:space:]]" "$LOG" || fail "$k: systemd-sysext did not merge $m"
        merged_kernel "$m" "$LOG" | grep -qx "$k" || fail "$k: the activator's status does not show $m merged"
        has "KSX-RW dm $roothash-verity CRYPT-VERITY-"
    done
    has "KSX-RW unit kmod-sysext-select success"
    # nvidia-uvm, -modeset and -drm need nvidia's symbols, so without a GPU (nvidia.ko ends
    # with ENODEV) the activator does not load them; the modules loaded first must not fail.
    lacks "Unknown symbol"
    lacks "disagrees about version"
    lacks "Invalid module format"
    lacks "exec format error"
    case "$group" in *" zfs "*)
        has "kmod-sysext-activate: loaded spl from /usr/lib/modules/$k/extra/zfs/spl.ko"
        has "kmod-sysext-activate: loaded zfs from /usr/lib/modules/$k/extra/zfs/zfs.ko"
        has "KSX-RW module zfs loaded"
        has "KSX-RW-ZFSLIST ksxpool"
        has "KSX-RW-ZFSLIST ksxpool/data"
        echo "  $k: zfs verified, merged and loaded by the activator; zpool on a file vdev, zfs list shows ksxpool/data" ;;
    esac
    case "$group" in *" nvidia"*)
        # Without a GPU the driver's init ends with ENODEV after its own message: proof that
        # the kernel accepted the module (symbols resolved, vermagic right).
        # (fixed strings: a kernel release such as 6.12.118+deb12-amd64 is no regex)
        grep -qF -e "kmod-sysext-activate: failed to load nvidia from /usr/lib/modules/$k/extra/nvidia/nvidia.ko: No such device" \
            -e "kmod-sysext-activate: failed to load nvidia from /usr/lib/modules/$k/extra/nvidia-open/nvidia.ko: No such device" "$LOG" ||
            fail "$k: the activator did not report nvidia.ko's ENODEV: $(grep -F 'nvidia.ko' "$LOG" | head -n 3)"
        has "No NVIDIA GPU found"
        has "a dependency failed"
        grep -qiE "KSX-RW-SMI .*(No devices were found|couldn't communicate with the NVIDIA driver)" "$LOG" ||
            fail "$k: nvidia-smi did not report that there is no device"
        lacks "couldn't find libnvidia-ml"
        has "KSX-RW library libcuda.so.1 found"
        has "KSX-RW library libnvidia-ml.so.1 found"
        has "KSX-RW library libnvidia-cfg.so.1 found"
        lacks "KSX-RW-MISSING"
        has "KSX-RW-PERSISTENCED nvidia-persistenced"
        echo "  $k: nvidia verified and merged; nvidia.ko accepted (No NVIDIA GPU found, ENODEV reported by the activator), nvidia-smi reports no device, libraries resolve by name" ;;
    esac
    has "KSX-RW done"
}

# The two NVIDIA flavours cannot be merged together (same module names, same tools): the
# proprietary one boots on its own.
groups=()
first=""
for m in $manifests; do
    if [ "$m" = nvidia ]; then groups+=("nvidia"); else first="$first $m"; fi
done
[ -n "$first" ] && groups=("${first# }" "${groups[@]}")
for k in $kernels; do
    n=0
    for group in "${groups[@]}"; do
        images=()
        for m in $group; do images+=("$(image_of "$m" "$k")"); done
        n=$((n + 1))
        boot "boot-$k-$n" "$k" "${images[@]}"
        check_boot "$WORK/boot-$k-$n.log" "$k" "$group"
    done
done
echo "PASS"
