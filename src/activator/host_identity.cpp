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

OsIdentity read_image_identity(const fs::path& image, const std::string& name) {
    // An extension-release is a few lines; anything large is not one.
    constexpr std::size_t max_size = 64 * 1024;
    auto text = read_squashfs_file(
        image, message("usr/lib/extension-release.d/extension-release.{}", {name}), max_size);
    if (!text) {
        throw_error("{}: no usr/lib/extension-release.d/extension-release.{}",
                    {image.native(), name});
    }
    return parse_os_release(*text);
}

} // namespace ksx::activator
