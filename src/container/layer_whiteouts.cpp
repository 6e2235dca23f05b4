#include "container/layer_whiteouts.hpp"

#include "util/error.hpp"
#include "util/remove_tree.hpp"

#include <sys/stat.h>
#include <vector>

namespace fs = std::filesystem;

namespace ksx::container {

namespace {

std::string child_of(const std::string& parent, const std::string& name) {
    return parent.empty() ? name : parent + "/" + name;
}

std::vector<std::string> children(const fs::path& dir) {
    std::vector<std::string> out;
    for (const auto& entry : fs::directory_iterator(dir)) {
        out.push_back(entry.path().filename().string());
    }
    return out;
}

} // namespace

bool LayerWhiteouts::written_below(const std::string& relative) const {
    const std::string prefix = relative.empty() ? "" : relative + "/";
    auto it = written_.lower_bound(prefix);
    return it != written_.end() && it->starts_with(prefix);
}

void LayerWhiteouts::remove_lower(const std::string& relative) const {
    const fs::path path = root_ / relative;
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0) {
        return; // nothing there
    }
    const bool keep = written_.contains(relative) || written_below(relative);
    if (!keep) {
        if (!remove_tree(path)) {
            throw Error("failed to remove " + path.string() + " for a whiteout");
        }
        return;
    }
    // This layer's own entry, or a directory holding some: only what lower layers put inside
    // goes.
    if (S_ISDIR(st.st_mode)) {
        make_opaque(relative);
    }
}

void LayerWhiteouts::make_opaque(const std::string& relative) const {
    const fs::path dir = root_ / relative;
    struct stat st {};
    if (::lstat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
        return;
    }
    for (const auto& name : children(dir)) {
        remove_lower(child_of(relative, name));
    }
}

} // namespace ksx::container
