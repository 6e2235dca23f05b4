#include "contract/extension_release.hpp"

#include "util/key_value.hpp"

namespace ksx::contract {

std::string extension_release_path(std::string_view sysext_name) {
    return "usr/lib/extension-release.d/extension-release." + std::string(sysext_name);
}

std::string format_extension_release(const ExtensionRelease& release) {
    std::string out = "ID=" + release.os.id + "\n";
    if (!release.os.sysext_level.empty()) {
        out += "SYSEXT_LEVEL=" + release.os.sysext_level + "\n";
    } else {
        out += "VERSION_ID=" + release.os.version_id + "\n";
    }
    out += "ARCHITECTURE=" + release.os.architecture + "\n";
    // Not read by systemd: lets the activator, `inspect` and people see what the image is for.
    out += "KMOD_SYSEXT_NAME=" + release.name + "\n";
    out += "KMOD_SYSEXT_VERSION=" + release.version + "\n";
    if (!release.kernel.empty()) {
        out += "KMOD_SYSEXT_KERNEL=" + release.kernel + "\n";
    }
    if (!release.userspace.empty()) {
        out += "KMOD_SYSEXT_USERSPACE=" + release.userspace + "\n";
    }
    return out;
}

ExtensionRelease parse_extension_release(std::string_view text) {
    ExtensionRelease release;
    release.os = parse_os_release(text);
    for_each_key_value(text, [&](std::string_view key, std::string_view value, int) {
        if (key == "KMOD_SYSEXT_NAME") {
            release.name = value;
        } else if (key == "KMOD_SYSEXT_VERSION") {
            release.version = value;
        } else if (key == "KMOD_SYSEXT_KERNEL") {
            release.kernel = value;
        } else if (key == "KMOD_SYSEXT_USERSPACE") {
            release.userspace = value;
        }
    });
    return release;
}

} // namespace ksx::contract
