// Walking line-based text (modules.load, SHA256SUMS, KEY=value files, the activator's records)
// without copies. Header-only and free of iostreams: the activator's parsers use it.
#pragma once

#include <algorithm>
#include <string_view>
#include <vector>

namespace ksx {

// Calls `fn(line, number)` for each line of `text`, split at '\n' (not part of the line) and
// numbered from 1. A final '\n' ends the last line rather than starting an empty one, so empty
// text has no lines and "a\n\nb" has three, the second empty.
template <typename Fn> void for_each_line(std::string_view text, Fn&& fn) {
    int number = 0;
    while (!text.empty()) {
        auto end = text.find('\n');
        auto line = text.substr(0, end);
        text = end == std::string_view::npos ? std::string_view() : text.substr(end + 1);
        fn(line, ++number);
    }
}

// Blanks as `std::istream` skips them in the C locale.
constexpr std::string_view kBlanks = " \t\n\v\f\r";

// `text` without its leading blanks (`std::istream >> std::ws`).
inline std::string_view skip_blanks(std::string_view text) {
    text.remove_prefix(std::min(text.find_first_not_of(kBlanks), text.size()));
    return text;
}

// Removes and returns the first word of `text`, as `std::istream >> std::string` reads it:
// leading blanks skipped, then everything up to the next blank; "" when only blanks are left.
// `text` keeps what follows the word.
inline std::string_view take_word(std::string_view& text) {
    text = skip_blanks(text);
    auto word = text.substr(0, text.find_first_of(kBlanks));
    text.remove_prefix(word.size());
    return word;
}

// The fields of `text` between each `separator`: one more than there are separators, empty
// ones included ("a\t\tb" gives "a", "", "b"; "" gives one empty field).
inline std::vector<std::string_view> split_fields(std::string_view text, char separator) {
    std::vector<std::string_view> fields;
    for (;;) {
        auto at = text.find(separator);
        fields.push_back(text.substr(0, at));
        if (at == std::string_view::npos) {
            return fields;
        }
        text.remove_prefix(at + 1);
    }
}

} // namespace ksx
