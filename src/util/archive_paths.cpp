#include "util/archive_paths.hpp"

#include <sys/stat.h>

namespace ksx {

ArchivePath archive_relative_path(std::string_view name) {
    ArchivePath out;
    if (name.starts_with('/')) {
        out.problem = "is absolute";
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
