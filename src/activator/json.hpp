// The little JSON `status --json` prints, written by hand to keep the activator small.
#pragma once

#include <string>
#include <string_view>

namespace ksx::activator {

// `text` as a JSON string literal with quotes: '"', '\\' and control characters escaped;
// bytes that are not valid UTF-8 become U+FFFD, so the output is always valid JSON.
std::string json_string(std::string_view text);

// json_string(text), or null for an empty `text` (a value that is not known or not set).
std::string json_or_null(std::string_view text);

} // namespace ksx::activator
