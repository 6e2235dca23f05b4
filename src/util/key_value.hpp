// "KEY=value" text: os-release, an image's extension-release, the settings an administrator
// writes under /etc/kmod-sysext. One reader for all of them.
#pragma once

#include <functional>
#include <string>
#include <string_view>

namespace ksx {

// Calls `pair(key, value, line)` for each "KEY=value" line, in order, with its 1-based number:
// '#' comments and blank lines are skipped, blanks (and a CR) around the key and the value are
// trimmed, and one pair of matching double or single quotes around the value is removed. Any
// other line (no '=', or nothing before it) goes to `other(line, number)` when it is set and
// is skipped otherwise.
void for_each_key_value(
    std::string_view text,
    const std::function<void(std::string_view key, std::string_view value, int line)>& pair,
    const std::function<void(std::string_view line, int number)>& other = {});

// The same for a settings file that must hold nothing else: calls `setting(key, value, where)`,
// `where` being "<file>:<line>: " for messages, and throws InputError "<file>:<line>: expected
// KEY=value, found ..." for any other line.
void parse_key_values(std::string_view text, const std::string& file_name,
                      const std::function<void(std::string_view key, std::string_view value,
                                               const std::string& where)>& setting);

} // namespace ksx
