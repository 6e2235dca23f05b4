// Walking line-based text (modules.load, SHA256SUMS, KEY=value files, the activator's records)
// without copies. Header-only and free of iostreams: the activator's parsers use it.
#pragma once

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
