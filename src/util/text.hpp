// Small text helpers that do not depend on the locale.
#pragma once

#include <string>
#include <string_view>

namespace ksx {

// `text` with ASCII letters made lower-case (HTTP header names, schemes).
std::string ascii_lower(std::string_view text);

// `text` without leading and trailing blanks (spaces, tabs, CR, LF).
std::string_view trim_blanks(std::string_view text);

} // namespace ksx
