#!/bin/bash
# Real drivers, end to end: build the zfs, nvidia-open and nvidia manifests for Debian 12's
# 6.1 and 6.12 kernels, check every module's vermagic, then boot each kernel under qemu (the
# cached guest of tests/integration/boot) with the images merged by systemd-sysext and their
# modules loaded in the images' modules.load order, and check in the guest:
#   zfs:    spl and zfs load, `zpool create` on a file vdev works, `zfs list` shows the pool;
#   nvidia: the kernel accepts nvidia.ko (no symbol or vermagic errors; without a GPU the
#           driver's own "No NVIDIA GPU found" message), and nvidia-smi runs and reports that
#           it found no device.
# Build and boot times are printed. Environment: KSX, SRC (as for every integration test);
# KSX_REALWORLD="zfs nvidia-open nvidia", KSX_REALWORLD_KERNELS="6.1 6.12" narrow the run;
# with --full it runs only when KSX_REALWORLD_FULL=1 (it takes about an hour on two cores).
# KSX_REALWORLD_IMAGES=DIR checks and boots images built before instead of building them.
set -euo pipefail
if [ "${1-}" = --full ] && [ "${KSX_REALWORLD_FULL-}" != 1 ]; then
    echo "SKIP: the full real-world suite runs with KSX_REALWORLD_FULL=1"
    exit 77
fi
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib.sh"
set -o pipefail

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
version_of() { sed -n 's/^version: //p' "$SRC/manifests/$1.yaml"; }
signer="kmod-sysext realworld test"
"$KSX" keygen --quiet --out "$WORK/key" --cn "$signer" >/dev/null || fail "keygen failed"
for m in $manifests; do
    args=()
    for k in $kernels; do args+=(--kernel "$k"); done
    start=$(now)
    if [ -n "${KSX_REALWORLD_IMAGES-}" ]; then
        # Images built before (by hand, with the same manifests): check and boot them.
        mkdir -p "$WORK/images"
        for k in $kernels; do
            cp "$KSX_REALWORLD_IMAGES/${m}_$(version_of "$m")_$k.raw" "$WORK/images/" ||
                fail "KSX_REALWORLD_IMAGES has no $m image for $k"
        done
    else
        "$KSX" build "$SRC/manifests/$m.yaml" --output "$WORK/images" --jobs 1 "${args[@]}" \
            --sign-key "$WORK/key/key.pem" --sign-cert "$WORK/key/cert.pem" \
            >"$WORK/build-$m.log" 2>&1 || { tail -n 30 "$WORK/build-$m.log"; fail "building $m failed"; }
        echo "build $m: $(elapsed "$start") s"
    fi
    for k in $kernels; do
        image="$WORK/images/${m}_$(version_of "$m")_$k.raw"
        [ -f "$image" ] || fail "no image $image"
        rm -rf "$WORK/x"
        unsquashfs -q -n -d "$WORK/x" "$image" >/dev/null
        count=0
        for ko in "$WORK/x/usr/lib/modules/$k/extra/$m"/*.ko*; do
            magic=$(modinfo -F vermagic "$ko")
            [ "${magic%% *}" = "$k" ] || fail "$ko has vermagic '$magic', not $k"
            if [ -z "${KSX_REALWORLD_IMAGES-}" ]; then
                [ "$(modinfo -F signer "$ko")" = "$signer" ] || fail "$ko is not signed by the test key"
            fi
            count=$((count + 1))
        done
        [ "$count" -gt 0 ] || fail "$image holds no modules"
        checks="vermagic $k"
        if [ -z "${KSX_REALWORLD_IMAGES-}" ]; then
            "$KSX" verify "$image" --cert "$WORK/key/cert.pem" >"$WORK/verify.log" 2>&1 ||
                { cat "$WORK/verify.log"; fail "verify refused $image"; }
            checks="$checks, modules signed, verify passed"
        fi
        echo "  $m $k: $count modules, $checks, $(du -k "$image" | cut -f1) KiB"
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

# The guest's check: merge the images (links named after their extension-release files), load
# every module by path in modules.load order with its options, then exercise the drivers.
write_check() {
    install -D -m 0755 /dev/stdin "$1/usr/local/sbin/ksx-realworld" <<'CHECK'
#!/bin/bash
m() { echo "KSX-RW $*"; }
m "kernel $(uname -r)"
mkdir -p /run/extensions
for image in /var/lib/ksx-realworld/*.raw; do
    name=$(basename "$image"); name=${name%%_*}
    ln -sf "$image" "/run/extensions/$name.raw"
done
systemd-sysext refresh >/dev/null 2>&1
systemd-sysext status 2>&1 | sed 's/^/KSX-RW-SYSEXT /'
# As the activator does: a dependency the image does not ship is an in-kernel module, loaded by
# name first (nvidia.ko needs drm on 6.12).
for order in /usr/lib/kmod-sysext/*/modules.load; do
    shipped=" $(grep -v '^#' "$order" | cut -f1 | tr '\n' ' ') "
    grep -v '^#' "$order" | while IFS=$'\t' read -r name path depends when options; do
        for dep in ${depends//,/ }; do
            [ "$dep" = - ] || [[ $shipped == *" $dep "* ]] || modprobe "$dep" || m "modprobe $dep failed"
        done
        # shellcheck disable=SC2086
        if out=$(insmod "$path" $options 2>&1); then m "insmod $name ok"; else m "insmod $name failed: $out"; fi
    done
done
if [ -e /sys/module/zfs ]; then
    truncate -s 256M /var/tmp/vdev0
    zpool create -f ksxpool /var/tmp/vdev0 2>&1 | sed 's/^/KSX-RW-ZPOOL /'
    zfs create ksxpool/data 2>&1 | sed 's/^/KSX-RW-ZFS /'
    zfs list -H -o name 2>&1 | sed 's/^/KSX-RW-ZFSLIST /'
fi
if [ -x /usr/bin/nvidia-smi ]; then
    nvidia-smi 2>&1 | sed 's/^/KSX-RW-SMI /'
    m "nvidia-smi exit ${PIPESTATUS[0]}"
fi
dmesg | grep -iE 'nvidia|NVRM|zfs|spl|vermagic|Unknown symbol|disagrees' | sed 's/^/KSX-RW-DMESG /'
m done
systemctl poweroff --no-block
CHECK
    cat >"$1/etc/systemd/system/ksx-realworld.service" <<'UNIT'
[Unit]
Description=kmod-sysext real-world drivers check
After=multi-user.target

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

# boot NAME KERNEL IMAGE...: the guest with IMAGEs in /var/lib/ksx-realworld, booted under TCG;
# its serial log is $WORK/NAME.log.
boot() {
    local name=$1 kernel=$2 start dir
    shift 2
    start=$(now)
    dir="$WORK/$name"
    mkdir -p "$dir"
    cp -al "$guest" "$dir/root" # hard links: the cached guest is never written
    write_check "$dir/root"
    mkdir -p "$dir/root/var/lib/ksx-realworld"
    cp "$@" "$dir/root/var/lib/ksx-realworld/"
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

LOG=""
has() { grep -qF -- "$1" "$LOG" || fail "$(basename "$LOG"): no line with: $1"; }
lacks() { ! grep -qF -- "$1" "$LOG" || fail "$(basename "$LOG"): unexpected line with: $1"; }

# check_boot LOG KERNEL MANIFESTS: the assertions for what that boot had merged.
check_boot() {
    local k=$2 group=" $3 "
    LOG=$1
    has "KSX-RW kernel $k"
    # nvidia-uvm, -modeset and -drm need nvidia's symbols, so without a GPU (nvidia.ko ends
    # with ENODEV) they fail with "Unknown symbol"; the modules loaded first must not.
    for first in nvidia spl zfs; do
        lacks "] $first: Unknown symbol"
    done
    lacks "disagrees about version"
    lacks "Invalid module format"
    lacks "exec format error"
    case "$group" in *" zfs "*)
        has "KSX-RW insmod spl ok"
        has "KSX-RW insmod zfs ok"
        has "KSX-RW-ZFSLIST ksxpool"
        has "KSX-RW-ZFSLIST ksxpool/data"
        echo "  $k: zfs loaded, zpool on a file vdev, zfs list shows ksxpool/data" ;;
    esac
    case "$group" in *" nvidia"*)
        # Without a GPU the driver's init ends with ENODEV after its own message: proof that
        # the kernel accepted the module (symbols resolved, vermagic right).
        grep -qE "KSX-RW insmod nvidia (ok|failed: .*No such device)" "$LOG" ||
            fail "$k: nvidia.ko was not accepted: $(grep 'KSX-RW insmod nvidia ' "$LOG")"
        has "No NVIDIA GPU found"
        grep -qiE "KSX-RW-SMI .*(No devices were found|couldn't communicate with the NVIDIA driver)" "$LOG" ||
            fail "$k: nvidia-smi did not report that there is no device"
        echo "  $k: nvidia.ko accepted (No NVIDIA GPU found), nvidia-smi reports no device" ;;
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
        for m in $group; do images+=("$WORK/images/${m}_$(version_of "$m")_$k.raw"); done
        n=$((n + 1))
        boot "boot-$k-$n" "$k" "${images[@]}"
        check_boot "$WORK/boot-$k-$n.log" "$k" "$group"
    done
done
echo "PASS"
