// The "KEY=value" files an administrator writes under /etc/kmod-sysext.
#pragma once

#include <functional>
#include <string>
#include <string_view>

namespace ksx::activator {

// Calls `setting(key, value, where)` for each "KEY=value" line ('#' comments and blank lines
// skipped, blanks around both trimmed, double quotes around the value removed); `where` is
// "<file>:<line>: " for messages. Throws InputError "<file>:<line>: ..." for other lines.
void parse_key_values(std::string_view text, const std::string& file_name,
                      const std::function<void(std::string_view key, std::string_view value,
                                               const std::string& where)>& setting);

} // namespace ksx::activator
