# Sourced by the check scripts in the guests (POSIX sh; install_check_unit of qemu.sh puts it at
# /usr/local/lib/ksx-check.sh): what the boot did, as KSX-* lines on the serial console.
#   m TEXT...          a KSX-CHECK line
#   report_merge       systemd-sysext's status, the hello modules in the kernel, the merged
#                      extension-release files, `kmod-sysext-activate status --json`
#   report_units       each activator unit's state, result and main process start and exit
#                      (monotonic µs), and their journal with systemd-sysext's
#   check_modprobe     with hello loaded: unloads it and loads it again through modprobe (the
#                      activator's hook)
#   finish             the last line, then power off

m() { echo "KSX-CHECK $*"; }

report_merge() {
    systemd-sysext status 2>&1 | sed 's/^/KSX-SYSEXT /'
    ls /sys/module | grep hello | sed 's/^/KSX-MODULE /'
    ls /usr/lib/extension-release.d | sed 's/^/KSX-RELEASE /'
    kmod-sysext-activate status --json 2>&1 | sed 's/^/KSX-JSON /'
}

report_units() {
    for u in kmod-sysext-select kmod-sysext-load; do
        m "unit $u $(unit_property "$u" ActiveState) $(unit_property "$u" Result)" \
            "start=$(unit_property "$u" ExecMainStartTimestampMonotonic)" \
            "exit=$(unit_property "$u" ExecMainExitTimestampMonotonic)"
    done
    journalctl -b -o short-monotonic --no-pager -u kmod-sysext-select -u systemd-sysext \
        -u kmod-sysext-load | sed 's/^/KSX-JOURNAL /'
}
unit_property() { systemctl show --value -p "$2" "$1.service"; }

check_modprobe() {
    [ -e /sys/module/hello ] || return 0
    modprobe -r hello && m "removed hello: $(test -e /sys/module/hello && echo present || echo gone)"
    modprobe hello 2>&1 | sed 's/^/KSX-MODPROBE /'
    m "after modprobe: $(test -e /sys/module/hello && echo hello-loaded || echo hello-missing)"
}

finish() {
    m "done"
    systemctl poweroff --no-block
}
