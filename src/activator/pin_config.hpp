// /etc/kmod-sysext/<name>.conf: per-extension settings an administrator writes.
#pragma once

#include "activator/context.hpp"
#include "activator/log.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace ksx::activator {

struct ExtensionConfig {
    // VERSION=<v>: use exactly this version instead of the newest.
    std::optional<std::string> version;
};

// Parses "KEY=value" lines ('#' comments, blank lines, optional double quotes around the value).
// Throws InputError "<file>:<line>: ..." for lines that are not KEY=value; unknown keys are
// logged and ignored, so newer settings do not break older activators.
ExtensionConfig parse_extension_config(std::string_view text, const std::string& file_name,
                                       Log& log);

// Reads <root>/etc/kmod-sysext/<name>.conf; a missing file means defaults.
ExtensionConfig read_extension_config(const Context& context, const std::string& name, Log& log);

} // namespace ksx::activator
