#include "activator/version_compare.hpp"

#include <algorithm>

namespace ksx::activator {

namespace {

bool is_digit(char c) {
    return c >= '0' && c <= '9';
}
bool is_alpha(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
bool is_version_char(char c) {
    return is_digit(c) || is_alpha(c) || c == '~' || c == '-' || c == '^' || c == '.';
}

template <typename T> int cmp(T a, T b) {
    return a < b ? -1 : (a > b ? 1 : 0);
}

// A cursor that reads '\0' at the end, as the C original does.
struct Cursor {
    std::string_view text;
    size_t pos = 0;
    char at(size_t offset = 0) const {
        return pos + offset < text.size() ? text[pos + offset] : '\0';
    }
    std::string_view rest() const { return text.substr(std::min(pos, text.size())); }
};

// True when the current characters are a "prefix" sign that both must share: if only one has
// it, that one is older and `result` says so.
bool compare_sign(Cursor& a, Cursor& b, char sign, int& result) {
    if (a.at() != sign && b.at() != sign) {
        return false;
    }
    result = cmp(a.at() != sign, b.at() != sign);
    if (result == 0) {
        ++a.pos;
        ++b.pos;
    }
    return result != 0;
}

} // namespace

int compare_versions(std::string_view a_text, std::string_view b_text) {
    if (a_text.empty() || b_text.empty()) {
        return cmp(a_text.empty() ? 0 : 1, b_text.empty() ? 0 : 1);
    }
    Cursor a{a_text};
    Cursor b{b_text};
    for (;;) {
        while (a.at() != '\0' && !is_version_char(a.at())) {
            ++a.pos;
        }
        while (b.at() != '\0' && !is_version_char(b.at())) {
            ++b.pos;
        }
        int r = 0;
        if (compare_sign(a, b, '~', r)) {
            return r;
        }
        // More segments are newer; only '~' segments (above) are older.
        if (a.at() == '\0' || b.at() == '\0') {
            return cmp(a.rest().compare(b.rest()), 0);
        }
        if (compare_sign(a, b, '-', r) || compare_sign(a, b, '^', r) ||
            compare_sign(a, b, '.', r)) {
            return r;
        }
        size_t a_end = a.pos;
        size_t b_end = b.pos;
        if (is_digit(a.at()) || is_digit(b.at())) {
            while (is_digit(a.text.size() > a_end ? a.text[a_end] : '\0')) {
                ++a_end;
            }
            while (is_digit(b.text.size() > b_end ? b.text[b_end] : '\0')) {
                ++b_end;
            }
            // A numeric segment is newer than an alphabetic one.
            if ((r = cmp(a_end != a.pos, b_end != b.pos)) != 0) {
                return r;
            }
            while (a.at() == '0' && a.pos < a_end) {
                ++a.pos;
            }
            while (b.at() == '0' && b.pos < b_end) {
                ++b.pos;
            }
            // Without leading zeros, the longer number is larger; equal lengths compare as text.
            if ((r = cmp(a_end - a.pos, b_end - b.pos)) != 0) {
                return r;
            }
            r = a.text.substr(a.pos, a_end - a.pos).compare(b.text.substr(b.pos, b_end - b.pos));
            if ((r = cmp(r, 0)) != 0) {
                return r;
            }
        } else {
            while (is_alpha(a.text.size() > a_end ? a.text[a_end] : '\0')) {
                ++a_end;
            }
            while (is_alpha(b.text.size() > b_end ? b.text[b_end] : '\0')) {
                ++b_end;
            }
            size_t common = std::min(a_end - a.pos, b_end - b.pos);
            r = a.text.substr(a.pos, common).compare(b.text.substr(b.pos, common));
            if ((r = cmp(r, 0)) != 0) {
                return r;
            }
            if ((r = cmp(a_end - a.pos, b_end - b.pos)) != 0) {
                return r;
            }
        }
        a.pos = a_end;
        b.pos = b_end;
    }
}

} // namespace ksx::activator
