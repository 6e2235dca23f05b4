#include "util/os_release.hpp"

#include "util/key_value.hpp"
#include "util/message.hpp"

#include <array>
#include <utility>

namespace ksx {

OsIdentity parse_os_release(std::string_view text) {
    OsIdentity out;
    for_each_key_value(text, [&](std::string_view key, std::string_view value, int) {
        if (key == "ID") {
            out.id = value;
        } else if (key == "VERSION_ID") {
            out.version_id = value;
        } else if (key == "SYSEXT_LEVEL") {
            out.sysext_level = value;
        } else if (key == "ARCHITECTURE") {
            out.architecture = value;
        }
    });
    return out;
}

std::string systemd_architecture(std::string_view machine) {
    static constexpr std::array<std::pair<std::string_view, std::string_view>, 13> names{{
        {"x86_64", "x86-64"},
        {"i386", "x86"},
        {"i486", "x86"},
        {"i586", "x86"},
        {"i686", "x86"},
        {"aarch64", "arm64"},
        {"armv7l", "arm"},
        {"armv6l", "arm"},
        {"ppc64le", "ppc64-le"},
        {"s390x", "s390x"},
        {"riscv64", "riscv64"},
        {"loongarch64", "loongarch64"},
        {"arm64", "arm64"},
    }};
    for (const auto& [uname, name] : names) {
        if (machine == uname) {
            return std::string(name);
        }
    }
    return "";
}

std::string extension_mismatch(const OsIdentity& host, const OsIdentity& extension) {
    if (!extension.architecture.empty() && extension.architecture != "_any" &&
        extension.architecture != host.architecture) {
        return message(
            "built for architecture {}, the host is {}",
            {extension.architecture, (host.architecture.empty() ? "unknown" : host.architecture)});
    }
    if (extension.id.empty()) {
        return "its extension-release has no ID";
    }
    if (extension.id == "_any") {
        return "";
    }
    if (extension.id != host.id) {
        return message("built for ID={}, the host is ID={}", {extension.id, host.id});
    }
    if (host.version_id.empty() && host.sysext_level.empty()) {
        return ""; // a rolling release: no version to compare
    }
    if (!host.sysext_level.empty() && !extension.sysext_level.empty()) {
        return host.sysext_level == extension.sysext_level
                   ? ""
                   : message("built for SYSEXT_LEVEL={}, the host has {}",
                             {extension.sysext_level, host.sysext_level});
    }
    if (!host.version_id.empty() && extension.version_id != host.version_id) {
        return extension.version_id.empty()
                   ? message("its extension-release has no VERSION_ID, the host has {}",
                             {host.version_id})
                   : message("built for VERSION_ID={}, the host has {}",
                             {extension.version_id, host.version_id});
    }
    return "";
}

std::string describe(const OsIdentity& identity) {
    std::string out;
    auto add = [&out](const char* key, const std::string& value) {
        if (!value.empty()) {
            out += message("{}{}={}", {(out.empty() ? "" : " "), key, value});
        }
    };
    add("ID", identity.id);
    add("VERSION_ID", identity.version_id);
    add("SYSEXT_LEVEL", identity.sysext_level);
    add("ARCHITECTURE", identity.architecture);
    return out;
}

} // namespace ksx
