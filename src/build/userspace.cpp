#include "build/userspace.hpp"

#include "fetch/fetch.hpp"
#include "util/error.hpp"

#include <algorithm>

namespace ksx::build {

namespace fs = std::filesystem;

namespace {

bool is_under(const std::string& path, const std::string& dir) {
    return path == dir || (path.starts_with(dir) && path[dir.size()] == '/');
}

} // namespace

std::string image_path(const std::string& path, const std::vector<manifest::RelocateRule>& rules) {
    const manifest::RelocateRule* best = nullptr;
    for (const auto& rule : rules) {
        if (is_under(path, rule.from) && (!best || rule.from.size() > best->from.size())) {
            best = &rule;
        }
    }
    if (best) {
        return best->to + path.substr(best->from.size());
    }
    if (is_under(path, "/usr") || is_under(path, "/opt")) {
        return path;
    }
    return {};
}

StagedPackage stage_package(const fs::path& archive,
                            const std::vector<manifest::RelocateRule>& rules,
                            const fs::path& scratch) {
    fs::remove_all(scratch);
    fs::create_directories(scratch);
    const auto unpacked = scratch / "unpacked";
    fetch::unpack(archive, unpacked);
    StagedPackage staged;
    staged.root = scratch / "root";
    fs::create_directories(staged.root);
    std::vector<fs::path> entries;
    for (auto it = fs::recursive_directory_iterator(unpacked);
         it != fs::recursive_directory_iterator(); ++it) {
        if (it->is_symlink() || !it->is_directory()) {
            entries.push_back(it->path());
        }
    }
    std::sort(entries.begin(), entries.end());
    for (const auto& entry : entries) {
        const auto inside = "/" + entry.lexically_relative(unpacked).generic_string();
        const auto destination = image_path(inside, rules);
        if (destination.empty()) {
            staged.left_out.push_back(inside);
            continue;
        }
        if (destination != inside) {
            staged.relocated.push_back(inside + " -> " + destination);
        }
        const auto target = staged.root / destination.substr(1);
        std::error_code ec;
        if (fs::exists(fs::symlink_status(target, ec))) {
            throw Error(archive.filename().string() + ": " + inside +
                        " and another file both go to " + destination + " in the image");
        }
        fs::create_directories(target.parent_path());
        fs::rename(entry, target);
    }
    fs::remove_all(unpacked);
    return staged;
}

} // namespace ksx::build
