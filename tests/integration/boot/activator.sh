# Shared by the qemu tests (sourced): puts the activator and its units on a guest root, the way
# a node is provisioned: the binary, the units from sysext/*.service.in with its path, enabled.
#   install_activator ROOT ACTIVATE_BINARY SOURCE_DIR
install_activator() {
    local root=$1 binary=$2 source=$3 unit
    install -D -m 0755 "$binary" "$root/usr/local/bin/kmod-sysext-activate"
    for unit in kmod-sysext-select.service kmod-sysext-load.service; do
        sed 's|@CMAKE_INSTALL_FULL_BINDIR@|/usr/local/bin|g' "$source/sysext/$unit.in" \
            >"$root/etc/systemd/system/$unit"
    done
    systemctl --root="$root" enable kmod-sysext-select.service kmod-sysext-load.service \
        >/dev/null 2>&1
}
