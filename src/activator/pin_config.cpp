#include "activator/pin_config.hpp"

#include "activator/key_value.hpp"
#include "util/error.hpp"
#include "util/file_io.hpp"

#include <cerrno>
#include <sys/stat.h>

namespace ksx::activator {

ExtensionConfig parse_extension_config(std::string_view text, const std::string& file_name,
                                       Log& log) {
    ExtensionConfig config;
    parse_key_values(text, file_name,
                     [&](std::string_view key, std::string_view value, const std::string& where) {
                         if (key != "VERSION") {
                             log.info(where + "ignoring unknown setting " + std::string(key));
                             return;
                         }
                         if (value.empty() || value.find_first_of("_/") != std::string_view::npos) {
                             throw InputError(where + "VERSION \"" + std::string(value) +
                                              "\" is not a version (non-empty, no '_' or '/')");
                         }
                         config.version = std::string(value);
                     });
    return config;
}

ExtensionConfig read_extension_config(const Context& context, const std::string& name, Log& log) {
    auto path = context.on_disk("/etc/kmod-sysext/" + name + ".conf");
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0 && errno == ENOENT) {
        return {};
    }
    return parse_extension_config(read_file(path), path.string(), log);
}

} // namespace ksx::activator
