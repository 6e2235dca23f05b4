// Messages built from a pattern and their parts by one out-of-line call. Each log and error site
// is then one call with its pattern and its parts, instead of a chain of std::string temporaries
// (with their destructors on the normal and the exception path): what keeps the activator small
// (bench/RESULTS.md).
#pragma once

#include <initializer_list>
#include <string>
#include <string_view>

namespace ksx {

using MessageParts = std::initializer_list<std::string_view>;

// `pattern` with each "{}" replaced by the next part, in order:
// message("cannot open {}: {}", {path, reason}). Nothing else in the pattern is special.
std::string message(const char* pattern, MessageParts parts);

} // namespace ksx
