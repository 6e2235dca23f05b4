#include "activator/key_value.hpp"

#include "util/error.hpp"

namespace ksx::activator {

namespace {

std::string_view trim(std::string_view text) {
    while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) {
        text.remove_prefix(1);
    }
    while (!text.empty() && (text.back() == ' ' || text.back() == '\t' || text.back() == '\r')) {
        text.remove_suffix(1);
    }
    return text;
}

} // namespace

void parse_key_values(std::string_view text, const std::string& file_name,
                      const std::function<void(std::string_view key, std::string_view value,
                                               const std::string& where)>& setting) {
    int line_number = 0;
    while (!text.empty()) {
        auto end = text.find('\n');
        auto line = trim(text.substr(0, end));
        text = end == std::string_view::npos ? std::string_view() : text.substr(end + 1);
        ++line_number;
        if (line.empty() || line.front() == '#') {
            continue;
        }
        std::string where = file_name + ":" + std::to_string(line_number) + ": ";
        auto equals = line.find('=');
        if (equals == std::string_view::npos || equals == 0) {
            throw InputError(where + "expected KEY=value, found \"" + std::string(line) + "\"");
        }
        auto value = trim(line.substr(equals + 1));
        if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
            value = value.substr(1, value.size() - 2);
        }
        setting(trim(line.substr(0, equals)), value, where);
    }
}

} // namespace ksx::activator
