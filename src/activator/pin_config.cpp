#include "activator/pin_config.hpp"

#include "util/error.hpp"
#include "util/file_io.hpp"

#include <cerrno>
#include <sys/stat.h>

namespace ksx::activator {

namespace {

std::string_view trim(std::string_view text) {
    while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) {
        text.remove_prefix(1);
    }
    while (!text.empty() && (text.back() == ' ' || text.back() == '\t' || text.back() == '\r')) {
        text.remove_suffix(1);
    }
    return text;
}

} // namespace

ExtensionConfig parse_extension_config(std::string_view text, const std::string& file_name,
                                       Log& log) {
    ExtensionConfig config;
    int line_number = 0;
    while (!text.empty()) {
        auto end = text.find('\n');
        auto line = trim(text.substr(0, end));
        text = end == std::string_view::npos ? std::string_view() : text.substr(end + 1);
        ++line_number;
        if (line.empty() || line.front() == '#') {
            continue;
        }
        std::string where = file_name + ":" + std::to_string(line_number) + ": ";
        auto equals = line.find('=');
        if (equals == std::string_view::npos || equals == 0) {
            throw InputError(where + "expected KEY=value, found \"" + std::string(line) + "\"");
        }
        auto key = trim(line.substr(0, equals));
        auto value = trim(line.substr(equals + 1));
        if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
            value = value.substr(1, value.size() - 2);
        }
        if (key == "VERSION") {
            if (value.empty() || value.find_first_of("_/") != std::string_view::npos) {
                throw InputError(where + "VERSION \"" + std::string(value) +
                                 "\" is not a version (non-empty, no '_' or '/')");
            }
            config.version = std::string(value);
        } else {
            log.info(where + "ignoring unknown setting " + std::string(key));
        }
    }
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
