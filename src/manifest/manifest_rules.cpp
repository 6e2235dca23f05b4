#include "manifest/manifest_rules.hpp"

#include <algorithm>

namespace ksx::manifest::detail {

namespace {

// ASCII only: the locale must not change what a manifest means.
bool is_digit(char c) {
    return c >= '0' && c <= '9';
}
bool is_lower(char c) {
    return c >= 'a' && c <= 'z';
}
bool is_upper(char c) {
    return c >= 'A' && c <= 'Z';
}
bool is_lower_alnum(char c) {
    return is_lower(c) || is_digit(c);
}
bool is_alnum(char c) {
    return is_lower_alnum(c) || is_upper(c);
}

bool in(char c, std::string_view set) {
    return set.find(c) != std::string_view::npos;
}

// Non-empty, the first character passes `first`, all others pass `rest`.
template <typename First, typename Rest>
bool matches(std::string_view text, First first, Rest rest) {
    return !text.empty() && first(text.front()) && std::all_of(text.begin() + 1, text.end(), rest);
}

template <typename Rest> bool matches(std::string_view text, Rest rest) {
    return matches(text, rest, rest);
}

} // namespace

bool is_os_release_id(std::string_view text) {
    return matches(text, [](char c) { return is_lower_alnum(c) || in(c, "._-"); });
}

bool is_os_release_value(std::string_view text) {
    return matches(text, [](char c) { return is_alnum(c) || in(c, "._~-"); });
}

bool is_debian_package(std::string_view text) {
    return text.size() >= 2 &&
           matches(text, is_lower_alnum, [](char c) { return is_lower_alnum(c) || in(c, "+.-"); });
}

bool is_suite(std::string_view text) {
    return matches(text, [](char c) { return is_lower_alnum(c) || c == '-'; });
}

bool is_apt_option_name(std::string_view text) {
    size_t start = 0;
    while (true) {
        auto end = text.find("::", start);
        auto part = text.substr(start, end == std::string_view::npos ? end : end - start);
        if (!matches(part, [](char c) { return is_alnum(c) || in(c, "_.+-"); })) {
            return false;
        }
        if (end == std::string_view::npos) {
            return true;
        }
        start = end + 2;
    }
}

bool is_mirror_url(std::string_view text) {
    std::string_view rest;
    if (text.starts_with("http://")) {
        rest = text.substr(7);
    } else if (text.starts_with("https://")) {
        rest = text.substr(8);
    } else {
        return false;
    }
    return !rest.empty() && rest.front() != '/' &&
           std::none_of(rest.begin(), rest.end(), [](char c) {
               return c == ' ' || static_cast<unsigned char>(c) < 0x20 || c == 0x7f;
           });
}

bool is_module_name(std::string_view text) {
    return matches(text, [](char c) { return is_alnum(c) || in(c, "_-"); });
}

std::string module_key(std::string_view name) {
    std::string key(name);
    std::replace(key.begin(), key.end(), '-', '_');
    return key;
}

bool has_control_char(std::string_view text) {
    return std::any_of(text.begin(), text.end(),
                       [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; });
}

bool is_normal_absolute(std::string_view path) {
    if (path.size() < 2 || path.front() != '/' || path.back() == '/') {
        return false;
    }
    size_t start = 1;
    while (start <= path.size()) {
        size_t end = std::min(path.find('/', start), path.size());
        auto component = path.substr(start, end - start);
        if (component.empty() || component == "." || component == "..") {
            return false;
        }
        start = end + 1;
    }
    return true;
}

bool is_under(std::string_view path, std::string_view dir) {
    return path == dir ||
           (path.starts_with(dir) && path.size() > dir.size() && path[dir.size()] == '/');
}

} // namespace ksx::manifest::detail
