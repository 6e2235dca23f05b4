# Shared by the qemu tests (sourced after ../lib.sh, which makes $WORK and `fail`): whether qemu
# runs here, a guest root turned into a disk, a boot of one of the cached guest's kernels, and
# the assertions on its serial log.
#   now / elapsed START       a time stamp; the seconds since START (one decimal)
#   qemu_or_skip [WHY]        exits 77 (skipped) with a SKIP line when qemu-system-x86_64 is not
#                             installed or cannot run here; WHY begins that line
#   require_tools TOOL...     fails naming the first TOOL that is not installed
#   choose_accel GUEST KERNEL sets QEMU_ACCEL: kvm only if it boots KERNEL quickly here (on
#                             nested machines it hangs), tcg otherwise
#   flip_middle_byte FILE ORIGINAL
#                             inverts the byte in the middle of FILE (a copy of ORIGINAL) and
#                             prints its offset; fails if FILE is then still ORIGINAL
#   guest_root ROOT GUEST     ROOT: a copy of the cached GUEST made of hard links (files are
#                             only ever added or replaced, so the cache is never written)
#   store_images ROOT IMAGE...
#                             each IMAGE (a path) with its sidecars in ROOT's store, under its
#                             extension's name (<name>_<version>_<kernel>.raw)
#   install_check_unit ROOT DESCRIPTION [NAME]
#                             the script on stdin as /usr/local/sbin/NAME (ksx-check), run once
#                             after multi-user.target and the activator's units with its output
#                             on the serial console, enabled; guest_check.sh beside it as
#                             /usr/local/lib/ksx-check.sh for it to source
#   guest_disk ROOT DISK SIZE an ext4 image of ROOT (SIZE as mkfs.ext4 takes it), ROOT removed
#   boot_guest GUEST KERNEL DISK LOG [ARG...]
#                             boots GUEST's KERNEL and initrd with DISK as /dev/vda (written to a
#                             snapshot only) and ARGs added to the kernel command line; serial
#                             console to LOG. QEMU_ACCEL (tcg) and QEMU_MEMORY (1024 MiB) choose
#                             the machine; KSX_BOOT_TIMEOUT (900 s) only stops a hung guest: on a
#                             machine shared by many jobs TCG boots take minutes
#   has TEXT / lacks TEXT     fails unless / if a line of $LOG holds TEXT

QEMU_SH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

qemu_or_skip() {
    local why=${1:+$1; } status=0
    command -v qemu-system-x86_64 >/dev/null ||
        { echo "SKIP: ${why}qemu-system-x86_64 is not installed"; exit 77; }
    # qemu runs if it is still running after a few seconds (timeout's status 124).
    timeout 5 qemu-system-x86_64 -accel tcg -machine none -display none -nodefaults -S \
        </dev/null >"$WORK/qemu-probe.log" 2>&1 || status=$?
    if [ "$status" != 124 ]; then
        echo "SKIP: ${why}qemu-system-x86_64 cannot run here: $(head -c 300 "$WORK/qemu-probe.log")"
        exit 77
    fi
}

require_tools() {
    local tool
    for tool in "$@"; do
        command -v "$tool" >/dev/null || fail "$tool is not installed (scripts/setup installs it)"
    done
}

choose_accel() {
    QEMU_ACCEL=tcg
    if [ -w /dev/kvm ] && timeout 20 qemu-system-x86_64 -accel kvm -m 256 -nographic -no-reboot \
        -kernel "$1/boot/vmlinuz-$2" -append "console=ttyS0 panic=-1" </dev/null 2>&1 |
        grep -q "Kernel panic"; then
        QEMU_ACCEL=kvm
    fi
    echo "accelerator: $QEMU_ACCEL"
}

flip_middle_byte() {
    local file=$1 original=$2 offset byte
    offset=$(($(stat -c %s "$file") / 2))
    byte=$(od -An -tu1 -j "$offset" -N1 "$file" | tr -d ' ')
    printf "\\$(printf '%03o' $((byte ^ 255)))" |
        dd of="$file" bs=1 seek="$offset" conv=notrunc status=none
    ! cmp -s "$file" "$original" || fail "the byte flip did not change $file"
    echo "$offset"
}

guest_root() {
    cp -al "$2" "$1"
}

store_images() {
    local root=$1 image extension
    shift
    for image in "$@"; do
        extension=$(basename "$image")
        extension=${extension%%_*}
        extension=${extension%-userspace} # a shared image sits beside its modules images
        mkdir -p "$root/var/lib/kmod-sysext/$extension"
        cp "${image%.raw}".* "$root/var/lib/kmod-sysext/$extension/"
    done
}

install_check_unit() {
    local root=$1 description=$2 name=${3:-ksx-check}
    install -D -m 0755 /dev/stdin "$root/usr/local/sbin/$name"
    install -D -m 0644 "$QEMU_SH_DIR/guest_check.sh" "$root/usr/local/lib/ksx-check.sh"
    rm -f "$root/etc/systemd/system/$name.service" # never write through a hard link
    cat >"$root/etc/systemd/system/$name.service" <<UNIT
[Unit]
Description=$description
After=multi-user.target kmod-sysext-load.service

[Service]
Type=oneshot
ExecStart=/usr/local/sbin/$name
StandardOutput=tty
StandardError=tty
TTYPath=/dev/ttyS0

[Install]
WantedBy=multi-user.target
UNIT
    systemctl --root="$root" enable "$name.service" >/dev/null 2>&1
}

guest_disk() {
    mkfs.ext4 -q -F -d "$1" "$2" "$3" >/dev/null
    rm -rf "$1"
}

boot_guest() {
    local guest=$1 kernel=$2 disk=$3 log=$4
    shift 4
    # no_timer_check: on a busy host TCG runs the guest so slowly that the kernel's timer
    # interrupt check fails ("IO-APIC + timer doesn't work!") and it panics at once.
    timeout "${KSX_BOOT_TIMEOUT:-900}" qemu-system-x86_64 -accel "${QEMU_ACCEL:-tcg}" \
        -m "${QEMU_MEMORY:-1024}" -nographic -no-reboot \
        -kernel "$guest/boot/vmlinuz-$kernel" -initrd "$guest/boot/initrd.img-$kernel" \
        -append "root=/dev/vda rw console=ttyS0 panic=-1 loglevel=4 no_timer_check${*:+ $*}" \
        -drive "file=$disk,if=virtio,format=raw" -snapshot \
        </dev/null >"$log" 2>&1 || echo "qemu exited with $? (see $log)"
}

# boot_root NAME ROOT START: the guest tree ROOT as a 3 GiB disk, booted with $guest's $kernel;
# the serial log ends up in $WORK/NAME.log. Prints the boot's time and the step's (since START).
boot_root() {
    local name=$1 root=$2 start=$3 boot_start
    guest_disk "$root" "$WORK/$name/disk.img" 3G
    boot_start=$(now)
    boot_guest "$guest" "$kernel" "$WORK/$name/disk.img" "$WORK/$name.log"
    rm -f "$WORK/$name/disk.img"
    echo "boot $name: $(elapsed "$boot_start") s boot, $(elapsed "$start") s in all"
}

LOG=""
has() { grep -qF -- "$1" "$LOG" || fail "$(basename "$LOG"): no line with: $1"; }
lacks() { ! grep -qF -- "$1" "$LOG" || fail "$(basename "$LOG"): unexpected line with: $1"; }
