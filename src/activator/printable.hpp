// Text from the node's files (names in the store, values of release files) as it may be shown:
// never a control character raw, so one log line or status line stays one line.
#pragma once

#include "util/message.hpp"

#include <cstddef>
#include <string>
#include <string_view>

namespace ksx::activator {

// Length of the valid UTF-8 sequence at the start of `text`, or 0 if it is not one (overlong
// forms, UTF-16 surrogates and values past U+10FFFF are not).
std::size_t utf8_length(std::string_view text);

// The code point of the `length` bytes at the start of `text` (a length utf8_length gave).
char32_t utf8_code(std::string_view text, std::size_t length);

// True for a control character: C0 (below 0x20), DEL and C1 (U+0080 to U+009F).
bool is_control(char32_t code);

// `text` with control characters, backslashes and bytes that are not UTF-8 escaped as C does:
// "\n", "\t", "\r", "\\", else "\xNN" for each byte.
std::string printable(std::string_view text);

// `out += message(pattern, parts)`, out of line: `status` builds its text and JSON piece by
// piece, and one call per piece keeps that code small.
void append(std::string& out, const char* pattern, MessageParts parts);

} // namespace ksx::activator
