#include "contract/image_name.hpp"

#include <algorithm>

namespace ksx::contract {

namespace {

// ASCII only: the locale must not change what a name means.
bool is_digit(char c) {
    return c >= '0' && c <= '9';
}
bool is_lower_alnum(char c) {
    return (c >= 'a' && c <= 'z') || is_digit(c);
}
bool is_alnum(char c) {
    return is_lower_alnum(c) || (c >= 'A' && c <= 'Z');
}
bool in(char c, std::string_view set) {
    return set.find(c) != std::string_view::npos;
}

// At most `max` characters, at least one; the first passes `first`, all others pass `rest`.
template <typename First, typename Rest>
bool matches(std::string_view text, std::size_t max, First first, Rest rest) {
    return !text.empty() && text.size() <= max && first(text.front()) &&
           std::all_of(text.begin() + 1, text.end(), rest);
}

} // namespace

bool is_extension_name(std::string_view text) {
    return matches(text, kMaxExtensionName, is_lower_alnum,
                   [](char c) { return is_lower_alnum(c) || c == '-'; });
}

bool is_image_version(std::string_view text) {
    return matches(text, kMaxImageVersion, is_alnum,
                   [](char c) { return is_alnum(c) || in(c, ".+~-"); });
}

bool is_kernel_release(std::string_view text) {
    auto allowed = [](char c) { return is_alnum(c) || in(c, "._+~-"); };
    return text != "." && text != ".." && matches(text, kMaxKernelRelease, allowed, allowed);
}

std::optional<ImageName> parse_image_name(std::string_view file_name) {
    constexpr std::string_view suffix = ".raw";
    if (!file_name.ends_with(suffix)) {
        return std::nullopt;
    }
    auto stem = file_name.substr(0, file_name.size() - suffix.size());
    auto first = stem.find('_');
    if (first == std::string_view::npos) {
        return std::nullopt;
    }
    auto second = stem.find('_', first + 1);
    if (second == std::string_view::npos) {
        // "<name>-userspace_<version>": the shared image.
        auto sysext = stem.substr(0, first);
        if (!sysext.ends_with(kUserspaceSuffix)) {
            return std::nullopt;
        }
        ImageName name{std::string(sysext.substr(0, sysext.size() - kUserspaceSuffix.size())),
                       std::string(stem.substr(first + 1)),
                       {}};
        if (!is_extension_name(name.extension) || !is_image_version(name.version)) {
            return std::nullopt;
        }
        return name;
    }
    ImageName name{std::string(stem.substr(0, first)),
                   std::string(stem.substr(first + 1, second - first - 1)),
                   std::string(stem.substr(second + 1))};
    // "<x>-userspace_<v>_<k>" would share its sysext name with x's shared image: never written.
    if (!is_extension_name(name.extension) || name.extension.ends_with(kUserspaceSuffix) ||
        !is_image_version(name.version) || !is_kernel_release(name.kernel)) {
        return std::nullopt;
    }
    return name;
}

} // namespace ksx::contract
