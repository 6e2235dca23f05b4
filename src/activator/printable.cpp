#include "activator/printable.hpp"

namespace ksx::activator {

namespace {

constexpr char kHex[] = "0123456789abcdef";

} // namespace

char32_t utf8_code(std::string_view text, std::size_t length) {
    static constexpr unsigned char kLeadMask[] = {0, 0x7F, 0x1F, 0x0F, 0x07};
    char32_t code = static_cast<unsigned char>(text[0]) & kLeadMask[length];
    for (std::size_t i = 1; i < length; ++i) {
        code = (code << 6) | (static_cast<unsigned char>(text[i]) & 0x3F);
    }
    return code;
}

std::size_t utf8_length(std::string_view text) {
    if (text.empty()) {
        return 0;
    }
    auto first = static_cast<unsigned char>(text.front());
    std::size_t length = 0;
    char32_t min = 0;
    if (first < 0x80) {
        return 1;
    } else if ((first & 0xE0) == 0xC0) {
        length = 2, min = 0x80;
    } else if ((first & 0xF0) == 0xE0) {
        length = 3, min = 0x800;
    } else if ((first & 0xF8) == 0xF0) {
        length = 4, min = 0x10000;
    } else {
        return 0;
    }
    if (text.size() < length) {
        return 0;
    }
    for (std::size_t i = 1; i < length; ++i) {
        if ((static_cast<unsigned char>(text[i]) & 0xC0) != 0x80) {
            return 0;
        }
    }
    char32_t code = utf8_code(text, length);
    if (code < min || (code >= 0xD800 && code <= 0xDFFF) || code > 0x10FFFF) {
        return 0;
    }
    return length;
}

bool is_control(char32_t code) {
    return code < 0x20 || (code >= 0x7F && code <= 0x9F);
}

std::string printable(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    while (!text.empty()) {
        auto c = static_cast<unsigned char>(text.front());
        std::size_t length = utf8_length(text);
        bool escape = length == 0 || c == '\\' || is_control(utf8_code(text, length));
        if (!escape) {
            out.append(text.substr(0, length));
            text.remove_prefix(length);
            continue;
        }
        length = length == 0 ? 1 : length;
        for (std::size_t i = 0; i < length; ++i) {
            auto byte = static_cast<unsigned char>(text[i]);
            switch (byte) {
            case '\\':
                out += "\\\\";
                break;
            case '\n':
                out += "\\n";
                break;
            case '\t':
                out += "\\t";
                break;
            case '\r':
                out += "\\r";
                break;
            default:
                out += "\\x";
                out += kHex[byte >> 4];
                out += kHex[byte & 0xF];
            }
        }
        text.remove_prefix(length);
    }
    return out;
}

void append(std::string& out, const char* pattern, MessageParts parts) {
    out += message(pattern, parts);
}

} // namespace ksx::activator
