#!/bin/bash
# Real drivers, end to end, per OS release: build the product's manifests/zfs.yaml,
# nvidia-open.yaml and nvidia.yaml as they are, each for its target of the release
# (`--target debian-12`: 6.1 and 6.12; `--target debian-13`: 6.12), signed, one build per
# kernel; check every module's vermagic and signer and every image with `kmod-sysext verify`,
# then boot each kernel under qemu (the cached guest of tests/integration/boot for the release's
# suite) as a node: the activator and its units installed, the images in its store, the
# certificate in /etc/verity.d. In the guest the activator must verify, link and (after
# systemd-sysext merged them with dm-verity) load the modules, and:
#   zfs:    spl and zfs load, `zpool create` on a file vdev works, `zfs list` shows the pool;
#   nvidia: the kernel accepts nvidia.ko (no symbol or vermagic errors; without a GPU the
#           driver's own "No NVIDIA GPU found" and ENODEV, which the activator reports),
#           nvidia-smi runs and reports that it found no device, and the driver's libraries
#           resolve by name from the loader's default path.
# Each build's time, each image's size and each boot's result and time are printed, and a
# summary table at the end (the rows of bench/RESULTS.md).
# Environment: KSX, ACTIVATE, SRC (as for every integration test);
# KSX_REALWORLD_RELEASES="debian-13 debian-12", KSX_REALWORLD="zfs nvidia-open nvidia" and
# KSX_REALWORLD_KERNELS="6.1 6.12" narrow the run (a kernel line a release does not have is
# left out for it); with --full it runs only when KSX_REALWORLD_FULL=1.
# KSX_REALWORLD_REUSE=DIR checks and boots the images (DIR/images) and key (DIR/key) of an
# earlier run's kept work directory instead of building them (building only those it lacks).
# Developer containers, downloaded packages and guests are cached under
# ${XDG_CACHE_HOME:-~/.cache}/kmod-sysext and reused by the next run.
set -euo pipefail
if [ "${1-}" = --full ] && [ "${KSX_REALWORLD_FULL-}" != 1 ]; then
    echo "SKIP: the full real-world suite runs with KSX_REALWORLD_FULL=1"
    exit 77
fi
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib.sh"
. "$HERE/../boot/activator.sh"
. "$HERE/../boot/qemu.sh"
set -o pipefail
ACTIVATE=${ACTIVATE:?path of kmod-sysext-activate}

releases=${KSX_REALWORLD_RELEASES:-debian-13 debian-12}
manifests=${KSX_REALWORLD:-zfs nvidia-open nvidia}

# Per OS release: the guest's Debian suite and the kernel lines it boots.
suite_of() {
    case $1 in
    debian-12) echo bookworm ;;
    debian-13) echo trixie ;;
    *) fail "unknown release $1 (debian-12 or debian-13)" ;;
    esac
}
lines_of() {
    local all want line out=""
    case $1 in debian-12) all="6.1 6.12" ;; *) all="6.12" ;; esac
    want=${KSX_REALWORLD_KERNELS:-$all}
    for line in $all; do
        case " $want " in *" $line "*) out="$out $line" ;; esac
    done
    echo "${out# }"
}
# The product's manifest of driver M; its targets are named after the OS releases
# (debian-12, debian-13), so RELEASE is the `--target` that builds for it.
manifest_of() { echo "$SRC/manifests/$1.yaml"; }
# The version zfs must have for RELEASE and KERNEL (2.1 supports kernels up to 6.2).
zfs_version_of() {
    case $1:$2 in
    debian-12:6.1.*) echo 2.1.11 ;;
    debian-12:*) echo 2.3.2 ;;
    *) echo 2.3.9 ;;
    esac
}

# image_of MANIFEST KERNEL: the image built for KERNEL (its version may differ per kernel).
image_of() {
    local found
    found=$(ls "$WORK/images/$1"_*_"$2.raw" 2>/dev/null | head -n 1)
    [ -n "$found" ] || fail "no $1 image for $2 in $WORK/images: $(ls "$WORK/images" | tr '\n' ' ')"
    echo "$found"
}
# shared_of IMAGE: the shared userspace image (userspace: shared) that a modules IMAGE
# "<name>_<version>_<kernel>.raw" needs, "<name>-userspace_<version>.raw"; nothing when the
# build put the userspace in every kernel's image.
shared_of() {
    local base version shared
    base=$(basename "$1" .raw)
    version=${base#*_}
    version=${version%%_*}
    shared="$WORK/images/${base%%_*}-userspace_$version.raw"
    if [ -e "$shared" ]; then echo "$shared"; fi
}
signer="kmod-sysext realworld test"
if [ -n "${KSX_REALWORLD_REUSE-}" ]; then
    cp -a "$KSX_REALWORLD_REUSE/key" "$KSX_REALWORLD_REUSE/images" "$WORK/"
else
    "$KSX" keygen --quiet --out "$WORK/key" --cn "$signer" >/dev/null || fail "keygen failed"
fi
summary=() # "release kernel driver build-seconds image-KiB" per image; boot results appended

# 1. The guests (cached, shared with the boot test) name the kernels to build for.
declare -A guest_of kernels_of
for r in $releases; do
    lines=$(lines_of "$r")
    [ -n "$lines" ] || continue
    guest_of[$r]=$("$HERE/../boot/guest.sh" "$(suite_of "$r")")
    kernels=""
    for line in $lines; do
        k=$(cd "${guest_of[$r]}/boot" && ls "vmlinuz-$line".[0-9]* 2>/dev/null | sed 's/^vmlinuz-//' | head -n1)
        [ -n "$k" ] || fail "the $r guest has no $line kernel"
        kernels="$kernels $k"
    done
    kernels_of[$r]=${kernels# }
    echo "$r guest: ${guest_of[$r]}; kernels: ${kernels_of[$r]}"
done

# 2. Build each manifest for each kernel, signed with a key made here; check every module's
#    vermagic and signer, and the image's verity tree and root hash signature (`verify`).
for r in $releases; do
    [ -n "${kernels_of[$r]-}" ] || continue
    for m in $manifests; do
        for k in ${kernels_of[$r]}; do
            start=$(now)
            seconds=reused
            # A reused directory's images are checked as they are; what it lacks is built.
            if [ -z "${KSX_REALWORLD_REUSE-}" ] || ! ls "$WORK/images/${m}"_*_"$k.raw" >/dev/null 2>&1; then
                "$KSX" build "$(manifest_of "$m")" --target "$r" --kernel "$k" --output "$WORK/images" --jobs 1 \
                    --sign-key "$WORK/key/key.pem" --sign-cert "$WORK/key/cert.pem" \
                    >"$WORK/build-$m-$k.log" 2>&1 ||
                    { tail -n 30 "$WORK/build-$m-$k.log"; fail "building $m for $r $k failed"; }
                seconds=$(elapsed "$start")
                echo "build $m for $r $k: $seconds s"
            fi
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
            # The OS identity of the release, so that its systemd merges the image.
            release=$WORK/x/usr/lib/extension-release.d/extension-release.$m
            grep -qx "VERSION_ID=${r#debian-}" "$release" || fail "extension-release of $image is not for $r"
            # Each zfs version builds the kernels it supports; the image is named after it.
            if [ "$m" = zfs ]; then
                want=$(zfs_version_of "$r" "$k")
                [ "$(basename "$image")" = "zfs_${want}_$k.raw" ] || fail "$image is not zfs $want"
                grep -q "^KMOD_SYSEXT_VERSION=$want$" "$release" ||
                    fail "extension-release of $image does not say version $want"
            fi
            size=$(du -k "$image" | cut -f1)
            summary+=("$r $k $m $seconds $size")
            echo "  $(basename "$image"): $count modules, vermagic $k, modules signed, verify passed, $size KiB"
        done
    done
done

# 3. Boot checks, unless qemu cannot run here.
qemu_or_skip "builds passed"

# The guest is a node: the activator and its units installed and enabled, the images and their
# sidecars in its store, the signing certificate in /etc/verity.d. At boot the activator
# verifies and links each image built for the running kernel, systemd-sysext merges them with
# dm-verity, and the activator loads their modules in modules.load order (in-kernel
# dependencies such as drm first). The check unit, after that, exercises the drivers and prints
# what happened to the serial console.
write_check() {
    install_check_unit "$1" "kmod-sysext real-world drivers check" ksx-realworld <<'CHECK'
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
# The verity devices' tables (with their root hashes), whatever systemd names the devices.
dmsetup table --target verity 2>&1 | sed 's/^/KSX-RW-DMTABLE /'
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
        /lib64/ld-linux-x86-64.so.2 --list "$program" 2>&1 | grep -iE 'not found|error while loading' |
            sed "s|^|KSX-RW-MISSING $program: |"
    done
    nvidia-persistenced --version 2>&1 | head -n 2 | sed 's/^/KSX-RW-PERSISTENCED /'
fi
dmesg | grep -iE 'nvidia|NVRM|zfs|spl|vermagic|Unknown symbol|disagrees' | sed 's/^/KSX-RW-DMESG /'
m done
systemctl poweroff --no-block
CHECK
}

# boot NAME GUEST KERNEL IMAGE...: GUEST with IMAGEs (and their sidecars) in its store, booted
# under TCG; its serial log is $WORK/NAME.log.
boot() {
    local name=$1 guest=$2 kernel=$3 start dir
    shift 3
    start=$(now)
    dir="$WORK/$name"
    mkdir -p "$dir"
    guest_root "$dir/root" "$guest"
    install_activator "$dir/root" "$ACTIVATE" "$SRC"
    write_check "$dir/root"
    install -D -m 0644 "$WORK/key/cert.pem" "$dir/root/etc/verity.d/kmod-sysext-realworld.crt"
    store_images "$dir/root" "$@"
    guest_disk "$dir/root" "$dir/disk.img" 4G
    QEMU_MEMORY=2048 boot_guest "$guest" "$kernel" "$dir/disk.img" "$WORK/$name.log"
    rm -f "$dir/disk.img"
    boot_seconds=$(elapsed "$start")
    echo "boot $name: $boot_seconds s"
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
        # systemd 252 and 257 name the device <roothash>-verity, 262 loopN-M-verity: look for
        # the root hash in the verity tables.
        grep -qE "^(KSX-RW-DMTABLE .* verity .* $roothash( |$)|KSX-RW dm $roothash-verity CRYPT-VERITY-)" "$LOG" ||
            fail "$k: no dm-verity device with root hash $roothash: $(grep -E 'KSX-RW( dm|-DMTABLE)' "$LOG" || echo none)"
        # A split build: its shared userspace image verified, linked and merged beside it.
        shared=$(shared_of "$image")
        if [ -n "$shared" ]; then
            roothash=$(head -c 64 "${shared%.raw}.roothash")
            has "kmod-sysext-activate: verified $(basename "$shared"): signed by $signer, root hash $roothash"
            grep -qE "^KSX-RW-SYSEXT (/usr)? .* $m-userspace[[:space:]]" "$LOG" || fail "$k: systemd-sysext did not merge $m-userspace"
        fi
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
        # nvidia-persistenced runs: every library it links (down to libtirpc's Kerberos and
        # libcom_err) is on the host or in the image.
        has "KSX-RW-PERSISTENCED nvidia-persistenced:  version"
        lacks "error while loading shared libraries"
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
results=()
for r in $releases; do
    [ -n "${kernels_of[$r]-}" ] || continue
    for k in ${kernels_of[$r]}; do
        n=0
        for group in "${groups[@]}"; do
            images=()
            for m in $group; do
                image=$(image_of "$m" "$k")
                images+=("$image")
                shared=$(shared_of "$image")
                if [ -n "$shared" ]; then images+=("$shared"); fi
            done
            n=$((n + 1))
            boot "boot-$k-$n" "${guest_of[$r]}" "$k" "${images[@]}"
            check_boot "$WORK/boot-$k-$n.log" "$k" "$group"
            for m in $group; do results+=("$k $m booted with $group in $boot_seconds s"); done
        done
    done
done

# The measurements, one row per OS release, kernel and driver (bench/RESULTS.md's table).
echo "| OS release | kernel | driver | build (s) | image (KiB) | boot |"
echo "|---|---|---|---|---|---|"
for row in "${summary[@]}"; do
    read -r r k m seconds size <<<"$row"
    result="not booted"
    for b in "${results[@]}"; do
        case "$b" in "$k $m "*) result="passed (${b#"$k $m booted with "})" ;; esac
    done
    echo "| $r | $k | $m | $seconds | $size | $result |"
done
echo "PASS"
