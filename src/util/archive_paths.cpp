#include "util/archive_paths.hpp"

#include <sys/stat.h>

namespace ksx {

namespace {

// Linux's NAME_MAX and PATH_MAX (which counts the terminating NUL).
constexpr size_t max_component = 255;
constexpr size_t max_path = 4095;

} // namespace

ArchivePath archive_relative_path(std::string_view name) {
    ArchivePath out;
    if (name.starts_with('/')) {
        out.problem = "is absolute";
        return out;
    }
    if (name.size() > max_path) {
        out.problem = "is too long (" + std::to_string(name.size()) + " bytes, at most " +
                      std::to_string(max_path) + ")";
        return out;
    }
    size_t start = 0;
    while (start <= name.size()) {
        size_t end = name.find('/', start);
        if (end == std::string_view::npos) {
            end = name.size();
        }
        std::string_view part = name.substr(start, end - start);
        if (part == "..") {
            out.relative.clear();
            out.problem = "contains \"..\"";
            return out;
        }
        if (part.size() > max_component) {
            out.relative.clear();
            out.problem = "has a component that is too long (" + std::to_string(part.size()) +
                          " bytes, at most " + std::to_string(max_component) + ")";
            return out;
        }
        if (!part.empty() && part != ".") {
            if (!out.relative.empty()) {
                out.relative += '/';
            }
            out.relative += part;
        }
        start = end + 1;
    }
    return out;
}

std::string shown_entry_name(std::string_view name) {
    constexpr size_t max_shown = 100;
    if (name.size() <= max_shown) {
        return std::string(name);
    }
    size_t end = max_shown;
    while (end > 0 && (static_cast<unsigned char>(name[end]) & 0xC0) == 0x80) {
        --end; // not inside a UTF-8 character
    }
    return std::string(name.substr(0, end)) + "\xe2\x80\xa6"; // an ellipsis
}

std::string symlink_component(const std::filesystem::path& root, std::string_view relative) {
    size_t slash = 0;
    while ((slash = relative.find('/', slash)) != std::string_view::npos) {
        std::string prefix(relative.substr(0, slash));
        struct stat st {};
        if (::lstat((root / prefix).c_str(), &st) != 0) {
            return {}; // nothing exists below a missing component
        }
        if (S_ISLNK(st.st_mode)) {
            return prefix;
        }
        ++slash;
    }
    return {};
}

} // namespace ksx
