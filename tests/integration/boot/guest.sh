#!/bin/bash
# Prints the directory of a cached Debian 12 guest root filesystem, building it first if needed:
# minbase + systemd, udev, kmod and Debian's two kernel lines (6.1 and 6.12 from bookworm and
# bookworm-security), each with an initrd in /boot. The cache key is this recipe's hash, so
# editing the recipe builds a new guest; delete the cache directory to pick up newer kernels.
set -euo pipefail

mirror=${KSX_DEBIAN_MIRROR:-http://deb.debian.org/debian}
security=${KSX_DEBIAN_SECURITY_MIRROR:-http://deb.debian.org/debian-security}
packages=systemd-sysv,udev,kmod,initramfs-tools,linux-image-amd64,linux-image-6.12-amd64

recipe="guest 1|$mirror|$security|$packages"
key=$(printf '%s' "$recipe" | sha256sum | cut -c1-16)
cache=${XDG_CACHE_HOME:-$HOME/.cache}/kmod-sysext/guest/$key
if [ -d "$cache/rootfs" ]; then
    echo "$cache/rootfs"
    exit 0
fi

command -v mmdebstrap >/dev/null || { echo "guest: mmdebstrap is not installed" >&2; exit 1; }
[ "$(id -u)" = 0 ] || { echo "guest: building the guest needs root (mmdebstrap --mode=root)" >&2; exit 1; }
mkdir -p "$(dirname "$cache")"
partial=$(mktemp -d "$cache.partial-XXXXXX")
trap 'rm -rf "$partial"' EXIT
echo "guest: building a Debian 12 guest in $cache (a few minutes, once)" >&2
mmdebstrap --mode=root --variant=minbase --format=directory \
    --aptopt='APT::Install-Recommends "false"' \
    --include="$packages" \
    --customize-hook='ln -sf /dev/null "$1/etc/systemd/system/serial-getty@ttyS0.service"' \
    --customize-hook='echo "/dev/vda / ext4 rw,errors=remount-ro 0 1" >"$1/etc/fstab"' \
    --customize-hook='echo ksx-guest >"$1/etc/hostname"' \
    --customize-hook='rm -rf "$1"/var/lib/apt/lists/* "$1"/var/cache/apt/*' \
    bookworm "$partial/rootfs" \
    "deb $mirror bookworm main" "deb $security bookworm-security main" >&2
ls "$partial"/rootfs/boot/vmlinuz-* "$partial"/rootfs/boot/initrd.img-* >&2
mv "$partial" "$cache"
trap - EXIT
echo "$cache/rootfs"
