#!/bin/bash
# Prints the directory of a cached Debian guest root filesystem, building it first if needed:
# minbase + systemd, udev, kmod, dmsetup, libcryptsetup (systemd-sysext's dm-verity) and the
# suite's kernel, each kernel with an initrd in /boot.
#   guest.sh [SUITE]     bookworm (the default), trixie or forky
# bookworm gets Debian 12's two kernel lines (6.1 and 6.12 from bookworm-security) and mokutil
# (boot.secureboot queues a MOK enrolment with it); trixie and forky their linux-image-amd64.
# The apt sources are those of kmod-sysext's developer container for the same suite (the suite, -updates, -security), so both see the same kernel. forky's
# Release file on Debian's mirror is often past its Valid-Until date: its guest is made with
# Acquire::Check-Valid-Until=false, as the tests' forky container is.
# The cache key is this recipe's hash, so editing the recipe builds a new guest; delete the
# cache directory to pick up newer kernels.
set -euo pipefail

suite=${1:-bookworm}
mirror=${KSX_DEBIAN_MIRROR:-http://deb.debian.org/debian}
security=${KSX_DEBIAN_SECURITY_MIRROR:-http://deb.debian.org/debian-security}
packages=systemd-sysv,udev,kmod,initramfs-tools,dmsetup,libcryptsetup12,linux-image-amd64
aptopts=()
case $suite in
bookworm) packages=$packages,linux-image-6.12-amd64,mokutil ;;
trixie) ;;
forky) aptopts=(--aptopt='Acquire::Check-Valid-Until "false"') ;;
*) echo "guest: unknown suite $suite (bookworm, trixie or forky)" >&2; exit 2 ;;
esac
sources=("deb $mirror $suite main" "deb $mirror $suite-updates main"
         "deb $security $suite-security main")

recipe="guest 2|$suite|${sources[*]}|$packages|${aptopts[*]}"
key=$(printf '%s' "$recipe" | sha256sum | cut -c1-16)
cache=${XDG_CACHE_HOME:-$HOME/.cache}/kmod-sysext/guest/$suite-$key
if [ -d "$cache/rootfs" ]; then
    echo "$cache/rootfs"
    exit 0
fi

command -v mmdebstrap >/dev/null || { echo "guest: mmdebstrap is not installed" >&2; exit 1; }
[ "$(id -u)" = 0 ] || { echo "guest: building the guest needs root (mmdebstrap --mode=root)" >&2; exit 1; }
mkdir -p "$(dirname "$cache")"
partial=$(mktemp -d "$cache.partial-XXXXXX")
trap 'rm -rf "$partial"' EXIT
echo "guest: building a Debian $suite guest in $cache (a few minutes, once)" >&2
mmdebstrap --mode=root --variant=minbase --format=directory \
    --aptopt='APT::Install-Recommends "false"' "${aptopts[@]}" \
    --include="$packages" \
    --customize-hook='ln -sf /dev/null "$1/etc/systemd/system/serial-getty@ttyS0.service"' \
    --customize-hook='echo "/dev/vda / ext4 rw,errors=remount-ro 0 1" >"$1/etc/fstab"' \
    --customize-hook='echo ksx-guest >"$1/etc/hostname"' \
    --customize-hook='rm -rf "$1"/var/lib/apt/lists/* "$1"/var/cache/apt/*' \
    "$suite" "$partial/rootfs" "${sources[@]}" >&2
ls "$partial"/rootfs/boot/vmlinuz-* "$partial"/rootfs/boot/initrd.img-* >&2
mv "$partial" "$cache"
trap - EXIT
echo "$cache/rootfs"
