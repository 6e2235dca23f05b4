// Messages built from their parts by one out-of-line call. Each log and error site is then one
// call with its parts on the stack instead of a chain of std::string temporaries (with their
// destructors on the normal and the exception path): what keeps the activator small
// (bench/RESULTS.md).
#pragma once

#include <initializer_list>
#include <string>
#include <string_view>

namespace ksx {

using MessageParts = std::initializer_list<std::string_view>;

// The parts, one after the other: cat({"cannot open ", path, ": ", reason}).
std::string cat(MessageParts parts);

} // namespace ksx
