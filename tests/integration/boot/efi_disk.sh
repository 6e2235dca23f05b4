# Shared by the Secure Boot tests (sourced): a UEFI Secure Boot machine out of Debian's own
# signed parts, made without root mounts or human steps.
#   virt_fw_vars             prints the path of `virt-fw-vars` (Debian 13's python3-virt-firmware,
#                            fetched once with apt into the cache and unpacked; it is pure Python
#                            and runs with Debian 12's python3)
#   mok_vars OUT CERT.pem    OUT: a copy of OVMF's variable store with Microsoft's keys and
#                            Secure Boot on, with CERT added to shim's MokList, as
#                            `mokutil --import` and MokManager would leave it
#   efi_disk OUT ROOT KERNEL INITRD CMDLINE
#                            OUT: a GPT disk, partition 1 an EFI system partition holding shim
#                            (EFI/BOOT/BOOTX64.EFI, Debian's Microsoft-signed one), Debian's
#                            signed grub beside it, KERNEL and INITRD, and a grub.cfg booting
#                            them with CMDLINE; partition 2 ext4 made from the directory ROOT
#                            (/dev/vda2 on virtio)
#   secureboot_qemu VARS DISK LOG
#                            boots DISK with OVMF's Secure Boot code and VARS (written by the
#                            guest), serial console to LOG
# Needs: ovmf, shim-signed, grub-efi-amd64-signed, mtools, dosfstools, fdisk (sfdisk), e2fsprogs,
# python3-cryptography, python3-pefile, python3-importlib-resources.

OVMF_CODE=/usr/share/OVMF/OVMF_CODE_4M.secboot.fd
OVMF_MS_VARS=/usr/share/OVMF/OVMF_VARS_4M.ms.fd
SHIM=/usr/lib/shim/shimx64.efi.signed
GRUB=/usr/lib/grub/x86_64-efi-signed/grubx64.efi.signed
# The owner GUID of our MokList entry (any GUID will do; shim keeps it with the certificate).
MOK_OWNER=605dab50-e046-4300-abb6-3dd810dd8b23

virt_fw_vars() {
    local cache=${XDG_CACHE_HOME:-$HOME/.cache}/kmod-sysext/virt-firmware
    if [ ! -x "$cache/virt-fw-vars" ]; then
        local partial
        partial=$(mktemp -d "${cache}.partial-XXXXXX")
        mkdir -p "$partial/lists/partial" "$partial/cache/archives/partial" "$partial/deb"
        echo "deb ${KSX_DEBIAN_MIRROR:-http://deb.debian.org/debian} trixie main" \
            >"$partial/sources.list"
        local apt=(-q -o "Dir::Etc::SourceList=$partial/sources.list" -o Dir::Etc::SourceParts=/dev/null
            -o "Dir::State::Lists=$partial/lists" -o "Dir::Cache=$partial/cache"
            -o APT::Sandbox::User=root)
        apt-get "${apt[@]}" update >"$partial/apt.log" 2>&1 &&
            (cd "$partial/deb" && apt-get "${apt[@]}" download python3-virt-firmware) \
                >>"$partial/apt.log" 2>&1 ||
            { cat "$partial/apt.log" >&2; rm -rf "$partial"; echo "cannot fetch python3-virt-firmware" >&2; return 1; }
        dpkg-deb -x "$partial"/deb/python3-virt-firmware_*.deb "$partial/pkg"
        cat >"$partial/virt-fw-vars" <<EOF
#!/bin/sh
PYTHONPATH="$cache/pkg/usr/lib/python3/dist-packages" exec /usr/bin/python3 "$cache/pkg/usr/bin/virt-fw-vars" "\$@"
EOF
        chmod +x "$partial/virt-fw-vars"
        rm -rf "$partial/lists" "$partial/cache"
        rm -rf "$cache"
        mv "$partial" "$cache"
    fi
    echo "$cache/virt-fw-vars"
}

mok_vars() {
    local out=$1 cert=$2 tool
    tool=$(virt_fw_vars)
    "$tool" -i "$OVMF_MS_VARS" --secure-boot --add-mok "$MOK_OWNER" "$cert" -o "$out" \
        >"$out.log" 2>&1 || { cat "$out.log" >&2; return 1; }
}

efi_disk() {
    local out=$1 root=$2 kernel=$3 initrd=$4 cmdline=$5
    local esp="$out.esp" ext4="$out.root" esp_mib=128 root_mib=3072
    rm -f "$esp"
    mkfs.vfat -C -n ESP "$esp" $((esp_mib * 1024)) >/dev/null
    mmd -i "$esp" ::/EFI ::/EFI/BOOT ::/EFI/debian
    mcopy -i "$esp" "$SHIM" ::/EFI/BOOT/BOOTX64.EFI
    mcopy -i "$esp" "$GRUB" ::/EFI/BOOT/grubx64.efi
    mcopy -i "$esp" "$kernel" ::/vmlinuz
    mcopy -i "$esp" "$initrd" ::/initrd.img
    printf 'set timeout=0\nlinux /vmlinuz %s\ninitrd /initrd.img\nboot\n' "$cmdline" >"$out.cfg"
    mcopy -i "$esp" "$out.cfg" ::/EFI/debian/grub.cfg
    mcopy -i "$esp" "$out.cfg" ::/EFI/BOOT/grub.cfg
    mkfs.ext4 -q -F -d "$root" "$ext4" ${root_mib}M >/dev/null
    # 1 MiB for the GPT, the ESP, the root file system, 1 MiB for the backup GPT.
    truncate -s $(((1 + esp_mib + root_mib + 1) * 1024 * 1024)) "$out"
    printf 'label: gpt\nstart=2048, size=%s, type=uefi\nstart=%s, size=%s, type=linux\n' \
        $((esp_mib * 2048)) $(((1 + esp_mib) * 2048)) $((root_mib * 2048)) |
        sfdisk -q "$out" >/dev/null
    # sfdisk may exit 0 having written nothing usable: read the table back.
    [ "$(sfdisk -J "$out" | grep -c '"node"')" = 2 ] || { sfdisk -d "$out" >&2; return 1; }
    dd if="$esp" of="$out" bs=1M seek=1 conv=notrunc,sparse status=none
    dd if="$ext4" of="$out" bs=1M seek=$((1 + esp_mib)) conv=notrunc,sparse status=none
    rm -f "$esp" "$ext4" "$out.cfg"
}

secureboot_qemu() {
    local vars=$1 disk=$2 log=$3
    # Secure Boot's code needs SMM (q35) so that only the firmware writes its variables.
    timeout "${KSX_BOOT_TIMEOUT:-900}" qemu-system-x86_64 -accel tcg -machine q35,smm=on \
        -global driver=cfi.pflash01,property=secure,value=on \
        -drive "if=pflash,format=raw,unit=0,file=$OVMF_CODE,readonly=on" \
        -drive "if=pflash,format=raw,unit=1,file=$vars" \
        -m 1024 -nographic -no-reboot -nic none \
        -drive "file=$disk,if=virtio,format=raw" </dev/null >"$log" 2>&1
}
