#include "manifest/source_text.hpp"

#include <cstdio>

namespace ksx::manifest::detail {

namespace {

// yaml-cpp marks are 0-based and -1 when unknown; messages point at line 1, column 1 then.
int line_of(YAML::Mark mark) {
    return mark.line < 0 ? 0 : mark.line;
}
int column_of(YAML::Mark mark) {
    return mark.column < 0 ? 0 : mark.column;
}

// Source lines are quoted with at most this many characters, around the caret.
constexpr size_t max_shown = 100;

// The length of the well-formed UTF-8 character at the start of `text`, or 0 when it is not
// one (a stray continuation byte, a truncated or overlong sequence, a surrogate, > U+10FFFF).
size_t utf8_length(std::string_view text) {
    const auto byte = [&](size_t i) { return static_cast<unsigned char>(text[i]); };
    const unsigned char lead = byte(0);
    if (lead < 0x80) {
        return 1;
    }
    size_t length = lead >= 0xC2 && lead <= 0xDF   ? 2
                    : lead >= 0xE0 && lead <= 0xEF ? 3
                    : lead >= 0xF0 && lead <= 0xF4 ? 4
                                                   : 0;
    if (length == 0 || text.size() < length) {
        return 0;
    }
    for (size_t i = 1; i < length; ++i) {
        if ((byte(i) & 0xC0) != 0x80) {
            return 0;
        }
    }
    // The second byte's range rules out overlong forms, surrogates and code points past U+10FFFF.
    const unsigned char second = byte(1);
    if ((lead == 0xE0 && second < 0xA0) || (lead == 0xED && second > 0x9F) ||
        (lead == 0xF0 && second < 0x90) || (lead == 0xF4 && second > 0x8F)) {
        return 0;
    }
    return length;
}

// One character of a quoted line: where it starts in the line and how it is shown.
struct Cell {
    size_t offset;
    size_t length; // bytes in the line
    std::string shown;
};

// `line` as characters: each well-formed UTF-8 character as is, tabs as tabs, and every other
// control character or malformed byte as U+FFFD, so that the quote stays one line of text.
std::vector<Cell> cells_of(std::string_view line) {
    std::vector<Cell> cells;
    for (size_t at = 0; at < line.size();) {
        size_t length = utf8_length(line.substr(at));
        const auto byte = static_cast<unsigned char>(line[at]);
        if (length == 0 || (byte < 0x20 && byte != '\t') || byte == 0x7f) {
            cells.push_back({at, 1, "\xef\xbf\xbd"}); // U+FFFD
            ++at;
        } else {
            cells.push_back({at, length, std::string(line.substr(at, length))});
            at += length;
        }
    }
    return cells;
}

// The quoted line and the caret line under it, pointing at byte `column` of `line`. A long
// line is cut to `max_shown` characters around the caret, with "…" where it was cut.
std::pair<std::string, std::string> quoted_line(std::string_view line, int column) {
    const auto cells = cells_of(line);
    const auto byte = static_cast<size_t>(column);
    size_t caret = 0; // the cell holding byte `column`; cells.size() past the line's end
    while (caret < cells.size() && cells[caret].offset + cells[caret].length <= byte) {
        ++caret;
    }
    const size_t beyond = byte > line.size() ? byte - line.size() : 0;
    size_t first = 0;
    size_t last = cells.size();
    if (cells.size() > max_shown) {
        first =
            caret > max_shown / 2 ? std::min(caret - max_shown / 2, cells.size() - max_shown) : 0;
        last = first + max_shown;
    }
    const std::string cut = "\xe2\x80\xa6"; // U+2026, an ellipsis
    std::string text = first > 0 ? cut : "";
    std::string under = first > 0 ? " " : "";
    for (size_t i = first; i < last; ++i) {
        text += cells[i].shown;
        if (i < caret) {
            under += cells[i].shown == "\t" ? "\t" : " ";
        }
    }
    if (last < cells.size()) {
        text += cut;
    }
    under += std::string(beyond, ' ');
    return {text, under + "^"};
}

// The part of `line` before a comment, without trailing blanks.
std::string_view strip_comment(std::string_view line) {
    for (size_t i = 0; i < line.size(); ++i) {
        if (line[i] == '#' && (i == 0 || line[i - 1] == ' ' || line[i - 1] == '\t')) {
            line = line.substr(0, i);
            break;
        }
    }
    while (!line.empty() && (line.back() == ' ' || line.back() == '\t')) {
        line.remove_suffix(1);
    }
    return line;
}

} // namespace

SourceText::SourceText(std::string_view text, std::filesystem::path file) : file_(std::move(file)) {
    size_t start = 0;
    while (start <= text.size()) {
        size_t end = text.find('\n', start);
        if (end == std::string_view::npos) {
            end = text.size();
        }
        std::string_view line = text.substr(start, end - start);
        if (!line.empty() && line.back() == '\r') {
            line.remove_suffix(1);
        }
        lines_.emplace_back(line);
        start = end + 1;
    }
}

ManifestError SourceText::error(YAML::Mark mark, const std::string& what) const {
    const int line = line_of(mark);
    const int column = column_of(mark);
    const std::string& text =
        static_cast<size_t>(line) < lines_.size() ? lines_[static_cast<size_t>(line)] : "";
    auto [shown, caret] = quoted_line(text, column);
    return ManifestError(file_.string() + ":" + std::to_string(line + 1) + ":" +
                         std::to_string(column + 1) + ": error: " + what + "\n" + shown + "\n" +
                         caret);
}

void SourceText::check_characters(std::string_view text) const {
    YAML::Mark at; // line and column 0
    size_t i = 0;
    while (i < text.size()) {
        const auto byte = static_cast<unsigned char>(text[i]);
        if (byte == '\n') {
            ++at.line;
            at.column = 0;
            ++i;
            continue;
        }
        char hex[8];
        std::snprintf(hex, sizeof hex, "%02x", byte);
        if (byte == 0) {
            throw error(at, "a NUL byte: a manifest is UTF-8 text");
        }
        if ((byte < 0x20 && byte != '\t' && byte != '\r') || byte == 0x7f) {
            throw error(at, std::string("control character 0x") + hex +
                                ": only tabs and line breaks may appear as they are (write "
                                "\"\\x" +
                                hex + "\" in a double-quoted string)");
        }
        const size_t length = utf8_length(text.substr(i));
        if (length == 0) {
            throw error(at, std::string("byte 0x") + hex +
                                " is not valid UTF-8: a manifest is UTF-8 text");
        }
        at.column += static_cast<int>(length);
        i += length;
    }
}

Location SourceText::location(YAML::Mark mark) const {
    return Location{file_, line_of(mark) + 1, column_of(mark) + 1};
}

YAML::Mark SourceText::dash_before(YAML::Mark mark) const {
    if (mark.line < 0) {
        return mark;
    }
    for (int line = mark.line; line >= 0; --line) {
        if (static_cast<size_t>(line) >= lines_.size()) {
            continue;
        }
        std::string_view text = lines_[static_cast<size_t>(line)];
        if (line == mark.line) {
            text = text.substr(0, std::min(text.size(), static_cast<size_t>(column_of(mark))));
        }
        text = strip_comment(text);
        if (text.empty()) {
            continue;
        }
        if (text.back() != '-') {
            return mark;
        }
        YAML::Mark dash = mark;
        dash.line = line;
        dash.column = static_cast<int>(text.size()) - 1;
        return dash;
    }
    return mark;
}

} // namespace ksx::manifest::detail
