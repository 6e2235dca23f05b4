// What every verb needs: where the node's file system is, which kernel runs, where the store is.
#pragma once

#include "activator/log.hpp"

#include <filesystem>
#include <string>

namespace ksx::activator {

struct Context {
    // --root: prefixed to every path, so tests run on a temp tree.
    std::filesystem::path root = "/";
    // --kernel, or the running kernel's release.
    std::string kernel;
    // --store, as seen on the node (without the root prefix).
    std::filesystem::path store = "/var/lib/kmod-sysext";

    // The file that the node sees at `node_path` ("/run/extensions" -> "<root>/run/extensions").
    std::filesystem::path on_disk(const std::filesystem::path& node_path) const {
        return root / node_path.relative_path();
    }
};

// The running kernel's release (uname -r).
std::string running_kernel();

} // namespace ksx::activator
