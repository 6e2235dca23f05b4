// OCI whiteouts: what one image layer deletes from the layers below it.
#pragma once

#include <filesystem>
#include <set>
#include <string>

namespace ksx::container {

// Tracks the paths one layer writes, so that its whiteouts remove only what lower layers left:
// the OCI image spec lets `.wh.NAME` and the opaque marker `.wh..wh..opq` come before or after
// the layer's own entries in the same directory, and those entries must stay.
class LayerWhiteouts {
public:
    explicit LayerWhiteouts(std::filesystem::path root) : root_(std::move(root)) {}

    // A new layer begins: nothing is written by it yet.
    void next_layer() { written_.clear(); }
    // The layer wrote `relative` (a path below the root, symbolic links resolved).
    void wrote(const std::string& relative) { written_.insert(relative); }
    // `.wh.NAME`: removes `relative` as lower layers left it.
    void remove_lower(const std::string& relative) const;
    // `.wh..wh..opq`: removes every child of the directory `relative` that lower layers left.
    void make_opaque(const std::string& relative) const;

private:
    bool written_below(const std::string& relative) const;

    std::filesystem::path root_;
    std::set<std::string> written_;
};

} // namespace ksx::container
