#include "activator/json.hpp"

#include "activator/printable.hpp"

namespace ksx::activator {

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
            if ((length = utf8_length(text)) == 0) {
                out += "\\ufffd";
                length = 1;
            } else if (char32_t code = utf8_code(text, length); is_control(code)) {
                out += "\\u00"; // C0, DEL and C1 are all below U+0100
                out += hex[code >> 4];
                out += hex[code & 0xF];
            } else {
                out.append(text.substr(0, length));
            }
        }
        text.remove_prefix(length);
    }
    out += '"';
    return out;
}

std::string json_or_null(std::string_view text) {
    return text.empty() ? std::string("null") : json_string(text);
}

} // namespace ksx::activator
