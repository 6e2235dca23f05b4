#include "activator/host_identity.hpp"

#include "activator/squashfs_file.hpp"
#include "util/error.hpp"
#include "util/file_io.hpp"

#include <sys/utsname.h>

namespace ksx::activator {

namespace fs = std::filesystem;

std::optional<OsIdentity> read_host_identity(const Context& context) {
    for (const char* file : {"/etc/os-release", "/usr/lib/os-release"}) {
        auto path = context.on_disk(file);
        std::error_code ec;
        if (!fs::exists(path, ec)) {
            continue;
        }
        auto identity = parse_os_release(read_file(path));
        struct utsname name {};
        if (::uname(&name) == 0) {
            identity.architecture = systemd_architecture(name.machine);
        }
        return identity;
    }
    return std::nullopt;
}

contract::ExtensionRelease read_image_release(const fs::path& image, const std::string& name) {
    // An extension-release is a few lines; anything large is not one.
    constexpr std::size_t max_size = 64 * 1024;
    auto path = contract::extension_release_path(name);
    auto text = read_squashfs_file(image, path, max_size);
    if (!text) {
        throw_error("{}: no {}", {image.native(), path});
    }
    return contract::parse_extension_release(*text);
}

OsIdentity read_image_identity(const fs::path& image, const std::string& name) {
    return read_image_release(image, name).os;
}

} // namespace ksx::activator
