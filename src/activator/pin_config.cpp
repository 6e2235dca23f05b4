#include "activator/pin_config.hpp"

#include "activator/image_name.hpp"
#include "activator/root_files.hpp"
#include "util/error.hpp"
#include "util/key_value.hpp"

#include <cerrno>

namespace ksx::activator {

ExtensionConfig parse_extension_config(std::string_view text, const std::string& file_name,
                                       Log& log) {
    ExtensionConfig config;
    parse_key_values(
        text, file_name,
        [&](std::string_view key, std::string_view value, const std::string& where) {
            if (key != "VERSION") {
                log.info("{}ignoring unknown setting {}", {where, key});
                return;
            }
            if (!is_image_version(value)) {
                throw_input("{}VERSION \"{}\" is not an image version (letters, digits and "
                            "\".+~-\", starting with a letter or digit, at most 64 characters)",
                            {where, value});
            }
            config.version = std::string(value);
        });
    return config;
}

ExtensionConfig read_extension_config(const Context& context, const std::string& name, Log& log) {
    std::string node_path = message("/etc/kmod-sysext/{}.conf", {name});
    if (!stat_beneath(context, node_path) && errno == ENOENT) {
        return {};
    }
    return parse_extension_config(read_beneath(context, node_path, kMaxSmallFile),
                                  context.on_disk(node_path).native(), log);
}

} // namespace ksx::activator
