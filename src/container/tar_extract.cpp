#include "container/tar_extract.hpp"

#include "container/layer_whiteouts.hpp"
#include "container/rootfs_path.hpp"
#include "fetch/archive_extract.hpp"
#include "util/atomic_dir.hpp"
#include "util/error.hpp"
#include "util/remove_tree.hpp"

#include <string>
#include <sys/stat.h>

namespace fs = std::filesystem;

namespace ksx::container {

namespace {

constexpr std::string_view kWhiteout = ".wh.";
constexpr std::string_view kOpaque = ".wh..wh..opq";

// A root filesystem keeps its fifos, sockets, directory modes and (as root) owners; device
// nodes are never made (bubblewrap gives the container its own /dev).
constexpr fetch::ExtractRules kRootfsRules{
    fetch::SpecialFiles::Keep, fetch::DirectoryModes::AsArchived, fetch::Owners::ArchivedWhenRoot,
    fetch::FileList::Unlisted};

[[noreturn]] void refuse(const std::string& name, const std::string& entry,
                         const std::string& why) {
    throw InputError(name + ": entry \"" + entry + "\": " + why);
}

// An OCI layer's entry: its parent resolved through the root's symbolic links as containerd
// does (host_path() follows links as the container would: absolute targets start at the root
// and ".." stops there), so nothing lands outside it.
std::string resolved_in_root(const fs::path& root, const std::string& relative) {
    auto slash = relative.rfind('/');
    if (slash == std::string::npos) {
        return relative;
    }
    auto parent = host_path(root, "/" + relative.substr(0, slash)).lexically_relative(root);
    auto base = relative.substr(slash + 1);
    return parent == "." ? base : (parent / base).string();
}

// A whiteout entry of a layer: applied, and true; false for any other entry.
bool apply_whiteout(LayerWhiteouts& whiteouts, const std::string& name, const std::string& relative,
                    const std::string& entry) {
    auto slash = relative.rfind('/');
    std::string parent = slash == std::string::npos ? "" : relative.substr(0, slash);
    std::string base = slash == std::string::npos ? relative : relative.substr(slash + 1);
    if (!base.starts_with(kWhiteout)) {
        return false;
    }
    if (base == kOpaque) {
        whiteouts.make_opaque(parent);
        return true;
    }
    if (base.starts_with(".wh..wh.")) {
        return true; // other AUFS metadata (hard link directories): not part of the tree
    }
    std::string hidden = base.substr(kWhiteout.size());
    if (hidden.empty() || hidden == "." || hidden == "..") {
        refuse(name, entry, "is a whiteout of \"" + hidden + "\"");
    }
    whiteouts.remove_lower(parent.empty() ? hidden : parent + "/" + hidden);
    return true;
}

// Before a layer's entry is written: a different kind of file in its place goes.
void replace_existing(const fs::path& root, const std::string& name, const std::string& relative,
                      unsigned type) {
    struct stat st {};
    const fs::path path = root / relative;
    if (::lstat(path.c_str(), &st) != 0) {
        return;
    }
    // A directory stays for a directory entry (its contents merge); anything else is replaced.
    if (S_ISDIR(st.st_mode) && (type == AE_IFDIR || relative.empty())) {
        return;
    }
    if (S_ISDIR(st.st_mode) && !remove_tree(path)) {
        throw Error(name + ": failed to remove " + path.string() + " replaced by a layer entry");
    }
}

// `layer` applied over what `root` holds, its whiteouts and replacements included.
void apply_layer(const LayerFile& layer, const fs::path& root, LayerWhiteouts& whiteouts) {
    fetch::LayerHooks hooks;
    hooks.resolve = [&](const std::string& relative) { return resolved_in_root(root, relative); };
    hooks.whiteout = [&](const std::string& relative, const std::string& entry) {
        return apply_whiteout(whiteouts, layer.name, relative, entry);
    };
    hooks.before_write = [&](const std::string& relative, unsigned type) {
        replace_existing(root, layer.name, relative, type);
        whiteouts.wrote(relative);
    };
    fetch::extract_archive(layer.path, root, layer.name, kRootfsRules, std::move(hooks));
}

} // namespace

void extract_tarball(const fs::path& tarball, const fs::path& destination) {
    make_directory_atomically(destination, [&](const fs::path& root) {
        fetch::extract_archive(tarball, root, tarball.string(), kRootfsRules);
    });
}

void extract_layers(const std::vector<LayerFile>& layers, const fs::path& destination) {
    make_directory_atomically(destination, [&](const fs::path& root) {
        LayerWhiteouts whiteouts(root);
        for (const auto& layer : layers) {
            whiteouts.next_layer();
            apply_layer(layer, root, whiteouts);
        }
    });
}

} // namespace ksx::container
