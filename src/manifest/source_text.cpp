#include "manifest/source_text.hpp"

namespace ksx::manifest::detail {

namespace {

// yaml-cpp marks are 0-based and -1 when unknown; messages point at line 1, column 1 then.
int line_of(YAML::Mark mark) {
    return mark.line < 0 ? 0 : mark.line;
}
int column_of(YAML::Mark mark) {
    return mark.column < 0 ? 0 : mark.column;
}

// Spaces under the first `column` bytes of `line`; tabs are kept and a multi-byte UTF-8
// character counts once, so the caret lines up on a terminal.
std::string caret_line(const std::string& line, int column) {
    std::string out;
    for (int i = 0; i < column; ++i) {
        char c = i < static_cast<int>(line.size()) ? line[static_cast<size_t>(i)] : ' ';
        if (c == '\t') {
            out += '\t';
        } else if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) {
            out += ' ';
        }
    }
    return out + "^";
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
    return ManifestError(file_.string() + ":" + std::to_string(line + 1) + ":" +
                         std::to_string(column + 1) + ": error: " + what + "\n" + text + "\n" +
                         caret_line(text, column));
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
