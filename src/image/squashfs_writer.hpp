// Writes a squashfs image from an in-memory tree description (libsquashfs).
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace ksx::image {

class BlockCache;

enum class Compression { Zstd, Xz, Gzip };

// What goes into an image. Paths are relative ("usr/lib/modules/..."), '/'-separated;
// missing parent directories are created with mode 0755. Every inode is owned by root:root.
class Tree {
public:
    struct Node {
        enum class Type { Directory, File, Symlink };
        Type type = Type::Directory;
        unsigned mode = 0755;               // permission bits only
        std::filesystem::path source;       // File: host file to copy, when content is unset
        std::optional<std::string> content; // File: inline content
        std::string target;                 // Symlink
    };

    void add_directory(const std::string& path, unsigned mode = 0755);
    void add_file(const std::string& path, const std::filesystem::path& source,
                  unsigned mode = 0644);
    void add_file_content(const std::string& path, std::string content, unsigned mode = 0644);
    void add_symlink(const std::string& path, std::string target);
    // Adds a host directory's contents under `path` (regular files, directories, symlinks;
    // modes kept, owners and times not).
    void add_host_tree(const std::string& path, const std::filesystem::path& host_dir);

    // The part of the tree under the directory `dir` ("usr"), re-rooted there (its mode
    // becomes the root's); `outside` receives the paths of the nodes that are not under it
    // (the root excepted).
    Tree subtree(const std::string& dir, std::vector<std::string>& outside) const;

    // Sorted by path; the root "" is always present.
    const std::map<std::string, Node>& nodes() const { return nodes_; }

private:
    void ensure_parents(const std::string& path);
    void insert(const std::string& path, Node node);
    std::map<std::string, Node> nodes_{{"", Node{}}};
};

struct WriteOptions {
    Compression compression = Compression::Zstd;
    std::optional<int> level; // compressor default when unset
    std::uint32_t mtime = 0;  // every inode and the superblock
    unsigned threads = 1;     // block processor workers; output does not depend on it
    std::uint32_t block_size = 131072;
    // Set: compressed blocks are taken from and added to this cache (shared by the images of
    // one run); the image's bytes are the same either way.
    std::shared_ptr<BlockCache> block_cache;
    // Set: called after each regular file's data is written, with how many are written of how
    // many (for progress lines).
    std::function<void(std::size_t written, std::size_t files)> on_file;
};

// Writes the image to `output` atomically (temp file, fsync, rename).
void write_squashfs(const Tree& tree, const std::filesystem::path& output,
                    const WriteOptions& options);

} // namespace ksx::image
