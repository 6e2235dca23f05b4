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

# The same from the kmod-sysext-activator package, the way Debian installs one: the guest's own
# dpkg, in a chroot, runs the package's maintainer scripts (deb-systemd-helper enables the units).
# ROOT may be a hard-linked copy of a cached guest: dpkg's database and logs, which it rewrites
# or appends to in place, are copied first so the cache is never written.
#   install_activator_package ROOT DEB
install_activator_package() {
    local root=$1 deb=$2 dir
    for dir in var/lib/dpkg var/log; do
        rm -rf "${root:?}/$dir.copy"
        cp -a "$root/$dir" "$root/$dir.copy"
        rm -rf "${root:?}/$dir"
        mv "$root/$dir.copy" "$root/$dir"
    done
    cp "$deb" "$root/tmp/kmod-sysext-activator.deb"
    chroot "$root" dpkg -i /tmp/kmod-sysext-activator.deb
    rm "$root/tmp/kmod-sysext-activator.deb"
}
