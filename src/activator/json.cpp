#include "activator/json.hpp"

namespace ksx::activator {

namespace {

// Length of the valid UTF-8 sequence at text[0], or 0 if it is not one.
std::size_t utf8_length(std::string_view text) {
    auto byte = [&](std::size_t i) { return static_cast<unsigned char>(text[i]); };
    unsigned char first = byte(0);
    std::size_t length = 0;
    unsigned min = 0;
    unsigned code = 0;
    if (first < 0x80) {
        return 1;
    } else if ((first & 0xE0) == 0xC0) {
        length = 2, min = 0x80, code = first & 0x1F;
    } else if ((first & 0xF0) == 0xE0) {
        length = 3, min = 0x800, code = first & 0x0F;
    } else if ((first & 0xF8) == 0xF0) {
        length = 4, min = 0x10000, code = first & 0x07;
    } else {
        return 0;
    }
    if (text.size() < length) {
        return 0;
    }
    for (std::size_t i = 1; i < length; ++i) {
        if ((byte(i) & 0xC0) != 0x80) {
            return 0;
        }
        code = (code << 6) | (byte(i) & 0x3F);
    }
    // Overlong forms, UTF-16 surrogates and values past U+10FFFF are not valid UTF-8.
    if (code < min || (code >= 0xD800 && code <= 0xDFFF) || code > 0x10FFFF) {
        return 0;
    }
    return length;
}

} // namespace

std::string json_string(std::string_view text) {
    static constexpr char hex[] = "0123456789abcdef";
    std::string out = "\"";
    while (!text.empty()) {
        auto c = static_cast<unsigned char>(text.front());
        std::size_t length = 1;
        switch (c) {
        case '"':
            out += "\\\"";
            break;
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
        case '\b':
            out += "\\b";
            break;
        case '\f':
            out += "\\f";
            break;
        default:
            if (c < 0x20) {
                out += "\\u00";
                out += hex[c >> 4];
                out += hex[c & 0xF];
            } else if ((length = utf8_length(text)) == 0) {
                out += "\\ufffd";
                length = 1;
            } else {
                out.append(text.substr(0, length));
            }
        }
        text.remove_prefix(length);
    }
    out += '"';
    return out;
}

} // namespace ksx::activator
