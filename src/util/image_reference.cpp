#include "util/image_reference.hpp"

#include <algorithm>
#include <vector>

namespace ksx {

namespace {

constexpr std::string_view kDockerHub = "docker.io";
constexpr size_t kMaxNameLength = 255;
constexpr size_t kMaxTagLength = 128;

bool is_lower_alnum(char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

bool is_alnum(char c) {
    return is_lower_alnum(c) || (c >= 'A' && c <= 'Z');
}

// [a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*
bool is_path_component(std::string_view part) {
    if (part.empty() || !is_lower_alnum(part.front()) || !is_lower_alnum(part.back())) {
        return false;
    }
    for (size_t i = 0; i < part.size();) {
        if (is_lower_alnum(part[i])) {
            ++i;
            continue;
        }
        size_t end = i;
        while (end < part.size() && !is_lower_alnum(part[end])) {
            ++end;
        }
        std::string_view separator = part.substr(i, end - i);
        bool dashes = separator.find_first_not_of('-') == std::string_view::npos;
        if (!(separator == "." || separator == "_" || separator == "__" || dashes)) {
            return false;
        }
        i = end;
    }
    return true;
}

// host[:port] with host made of [A-Za-z0-9-] labels separated by '.'
bool is_registry(std::string_view text) {
    auto colon = text.rfind(':');
    std::string_view host = text.substr(0, colon);
    if (colon != std::string_view::npos) {
        std::string_view port = text.substr(colon + 1);
        if (port.empty() || port.size() > 5 ||
            port.find_first_not_of("0123456789") != std::string_view::npos) {
            return false;
        }
    }
    if (host.empty()) {
        return false;
    }
    size_t start = 0;
    while (start <= host.size()) {
        size_t end = std::min(host.find('.', start), host.size());
        std::string_view label = host.substr(start, end - start);
        if (label.empty() || !is_alnum(label.front()) || !is_alnum(label.back()) ||
            !std::all_of(label.begin(), label.end(),
                         [](char c) { return is_alnum(c) || c == '-'; })) {
            return false;
        }
        start = end + 1;
    }
    return true;
}

// [\w][\w.-]{0,127}
bool is_tag(std::string_view tag) {
    auto word = [](char c) { return is_alnum(c) || c == '_'; };
    return !tag.empty() && tag.size() <= kMaxTagLength && word(tag.front()) &&
           std::all_of(tag.begin(), tag.end(),
                       [&](char c) { return word(c) || c == '.' || c == '-'; });
}

} // namespace

bool is_sha256_digest(std::string_view digest) {
    constexpr std::string_view prefix = "sha256:";
    if (!digest.starts_with(prefix) || digest.size() != prefix.size() + 64) {
        return false;
    }
    return digest.substr(prefix.size()).find_first_not_of("0123456789abcdef") ==
           std::string_view::npos;
}

std::string ImageReference::text() const {
    std::string out = registry + "/" + repository;
    if (!tag.empty()) {
        out += ":" + tag;
    }
    if (!digest.empty()) {
        out += "@" + digest;
    }
    return out;
}

std::string ImageReference::api_host() const {
    return registry == kDockerHub ? "registry-1.docker.io" : registry;
}

ParsedImageReference parse_image_reference(std::string_view text) {
    ParsedImageReference out;
    auto fail = [&](std::string problem) {
        out.reference = {};
        out.problem = std::move(problem);
        return out;
    };
    if (text.empty()) {
        return fail("is empty");
    }
    std::string_view name = text;
    if (auto at = text.find('@'); at != std::string_view::npos) {
        std::string_view digest = text.substr(at + 1);
        if (!digest.starts_with("sha256:")) {
            return fail("has a digest that is not sha256:<64 hex digits>");
        }
        if (!is_sha256_digest(digest)) {
            return fail("has a digest that is not sha256: followed by 64 lower-case hex digits");
        }
        out.reference.digest = digest;
        name = text.substr(0, at);
    }
    auto slash = name.rfind('/');
    auto colon = name.rfind(':');
    if (colon != std::string_view::npos && (slash == std::string_view::npos || colon > slash)) {
        std::string_view tag = name.substr(colon + 1);
        if (!is_tag(tag)) {
            return fail("has an invalid tag \"" + std::string(tag) +
                        "\" (letters, digits and \"_.-\", not starting with \".\" or \"-\", at "
                        "most 128 characters)");
        }
        out.reference.tag = tag;
        name = name.substr(0, colon);
    }
    if (name.size() > kMaxNameLength) {
        return fail("has a name longer than 255 characters");
    }
    std::vector<std::string_view> parts;
    for (size_t start = 0; start <= name.size();) {
        size_t end = std::min(name.find('/', start), name.size());
        parts.push_back(name.substr(start, end - start));
        start = end + 1;
    }
    std::string_view first = parts.front();
    bool has_registry = parts.size() > 1 && (first.find_first_of(".:") != std::string_view::npos ||
                                             first == "localhost");
    if (has_registry) {
        if (!is_registry(first)) {
            return fail("has an invalid registry \"" + std::string(first) + "\"");
        }
        out.reference.registry = first;
        parts.erase(parts.begin());
    } else {
        out.reference.registry = kDockerHub;
    }
    for (auto part : parts) {
        if (!is_path_component(part)) {
            return fail("has an invalid name component \"" + std::string(part) +
                        "\" (lower-case letters and digits, separated by \".\", \"_\", \"__\" "
                        "or dashes)");
        }
        if (!out.reference.repository.empty()) {
            out.reference.repository += '/';
        }
        out.reference.repository += part;
    }
    if (!has_registry && parts.size() == 1) {
        out.reference.repository = "library/" + out.reference.repository;
    }
    if (out.reference.tag.empty() && out.reference.digest.empty()) {
        out.reference.tag = "latest";
    }
    return out;
}

} // namespace ksx
