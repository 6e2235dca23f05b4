#include "contract/extension_release.hpp"

#include "util/key_value.hpp"
#include "util/message.hpp"

namespace ksx::contract {

std::string extension_release_path(std::string_view sysext_name) {
    return message("usr/lib/extension-release.d/extension-release.{}", {sysext_name});
}

std::string format_extension_release(const ExtensionRelease& release) {
    std::string out = message("ID={}\n", {release.os.id});
    if (!release.os.sysext_level.empty()) {
        out += message("SYSEXT_LEVEL={}\n", {release.os.sysext_level});
    } else {
        out += message("VERSION_ID={}\n", {release.os.version_id});
    }
    out += message("ARCHITECTURE={}\n", {release.os.architecture});
    // Not read by systemd: lets the activator, `inspect` and people see what the image is for.
    out += message("KMOD_SYSEXT_NAME={}\n", {release.name});
    out += message("KMOD_SYSEXT_VERSION={}\n", {release.version});
    if (!release.kernel.empty()) {
        out += message("KMOD_SYSEXT_KERNEL={}\n", {release.kernel});
    }
    if (!release.userspace.empty()) {
        out += message("KMOD_SYSEXT_USERSPACE={}\n", {release.userspace});
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
