#include "util/key_value.hpp"

#include "util/error.hpp"
#include "util/lines.hpp"

namespace ksx {

namespace {

std::string_view trim(std::string_view text) {
    auto blank = [](char c) { return c == ' ' || c == '\t' || c == '\r'; };
    while (!text.empty() && blank(text.front())) {
        text.remove_prefix(1);
    }
    while (!text.empty() && blank(text.back())) {
        text.remove_suffix(1);
    }
    return text;
}

} // namespace

void for_each_key_value(
    std::string_view text,
    const std::function<void(std::string_view key, std::string_view value, int line)>& pair,
    const std::function<void(std::string_view line, int number)>& other) {
    for_each_line(text, [&](std::string_view raw, int number) {
        auto line = trim(raw);
        if (line.empty() || line.front() == '#') {
            return;
        }
        auto equals = line.find('=');
        auto key =
            equals == std::string_view::npos ? std::string_view() : trim(line.substr(0, equals));
        if (key.empty()) {
            if (other) {
                other(line, number);
            }
            return;
        }
        auto value = trim(line.substr(equals + 1));
        if (value.size() >= 2 && (value.front() == '"' || value.front() == '\'') &&
            value.back() == value.front()) {
            value = value.substr(1, value.size() - 2);
        }
        pair(key, value, number);
    });
}

void parse_key_values(std::string_view text, const std::string& file_name,
                      const std::function<void(std::string_view key, std::string_view value,
                                               const std::string& where)>& setting) {
    auto where = [&](int line) { return message("{}:{}: ", {file_name, std::to_string(line)}); };
    for_each_key_value(
        text,
        [&](std::string_view key, std::string_view value, int line) {
            setting(key, value, where(line));
        },
        [&](std::string_view line, int number) {
            throw_input("{}expected KEY=value, found \"{}\"", {where(number), line});
        });
}

} // namespace ksx
