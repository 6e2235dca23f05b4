#include "activator/image_name.hpp"

namespace ksx::activator {

bool is_extension_name(std::string_view name) {
    if (name.empty() || name.front() == '.' || name.front() == '-') {
        return false;
    }
    for (char c : name) {
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '-' || c == '+' || c == '.';
        if (!ok) {
            return false;
        }
    }
    return true;
}

std::optional<ImageName> parse_image_name(std::string_view file_name) {
    constexpr std::string_view suffix = ".raw";
    if (file_name.size() <= suffix.size() || !file_name.ends_with(suffix) ||
        file_name.find('/') != std::string_view::npos) {
        return std::nullopt;
    }
    auto stem = file_name.substr(0, file_name.size() - suffix.size());
    auto first = stem.find('_');
    if (first == std::string_view::npos) {
        return std::nullopt;
    }
    auto second = stem.find('_', first + 1);
    if (second == std::string_view::npos) {
        return std::nullopt;
    }
    ImageName name{std::string(stem.substr(0, first)),
                   std::string(stem.substr(first + 1, second - first - 1)),
                   std::string(stem.substr(second + 1))};
    if (!is_extension_name(name.extension) || name.version.empty() || name.kernel.empty()) {
        return std::nullopt;
    }
    return name;
}

} // namespace ksx::activator
