// Files under --root, resolved beneath it: a symlink or ".." in the node's tree never leads out
// of the root, for what the activator reads and for what it writes.
#pragma once

#include "activator/context.hpp"
#include "util/unique_fd.hpp"

#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <sys/stat.h>
#include <system_error>
#include <vector>

namespace ksx::activator {

// Opens `node_path` (absolute, as the node sees it) beneath context.root with open(2)'s `flags`
// (O_CLOEXEC added). Paths resolve with openat2's RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS: ".."
// stops at the root and absolute symlinks resolve against it, as on the node itself. Without
// openat2 (Linux before 5.6) each component is opened with O_NOFOLLOW, so a symlink under a
// root other than "/" fails with ELOOP or ENOTDIR. Returns an invalid fd with errno set on
// failure.
UniqueFd open_beneath(const Context& context, const std::filesystem::path& node_path, int flags,
                      mode_t mode = 0);

// stat(2) of `node_path` beneath the root (a final symlink followed, beneath the root too), or
// with `follow` false lstat(2). nullopt with errno set on failure.
std::optional<struct stat> stat_beneath(const Context& context,
                                        const std::filesystem::path& node_path, bool follow = true);

// What the activator reads whole from the node's configuration and state files (pin files,
// policy, certificates, markers, release files): far more than any real one holds.
inline constexpr std::size_t kMaxSmallFile = 1024 * 1024;

// A whole file beneath the root. Throws Error naming context.on_disk(node_path) when it cannot
// be read or holds more than `max_size` bytes.
std::string read_beneath(const Context& context, const std::filesystem::path& node_path,
                         std::size_t max_size);

// The entries of a directory beneath the root, sorted, without "." and ".."; `ec` is set (and
// nothing listed) when it cannot be read.
std::vector<std::string> list_beneath(const Context& context,
                                      const std::filesystem::path& node_path, std::error_code& ec);

// Creates `node_path` and its missing parents (mode 0755) beneath the root and returns it open
// (O_DIRECTORY) for the *at() calls. Throws Error naming it.
UniqueFd make_directories_beneath(const Context& context, const std::filesystem::path& node_path);

// A file that appears at `node_path` beneath the root only when complete: a hidden temp file
// `temp_name` in its directory (created if missing, beneath the root), opened without following
// a symlink; commit() fsyncs it and renames it over the final name with the directory fd, then
// fsyncs the directory. Destroyed without commit(), the temp file is removed. A temp file a
// killed run left under `temp_name` is replaced. Throws Error naming the final path.
class AtomicFileBeneath {
public:
    AtomicFileBeneath(const Context& context, const std::filesystem::path& node_path,
                      std::string temp_name, mode_t mode = 0644);
    AtomicFileBeneath(const AtomicFileBeneath&) = delete;
    AtomicFileBeneath& operator=(const AtomicFileBeneath&) = delete;
    ~AtomicFileBeneath();

    int fd() const { return fd_.get(); }
    void write(std::string_view data);
    void commit();

private:
    [[noreturn]] void fail(const std::string& what);

    std::string shown_; // the final path on disk, for messages
    std::string name_;
    std::string temp_name_;
    UniqueFd dir_;
    UniqueFd fd_;
    bool committed_ = false;
};

// Writes `data` to `node_path` beneath the root atomically (an AtomicFileBeneath whose temp file
// holds the writer's pid). Throws Error.
void write_beneath_atomic(const Context& context, const std::filesystem::path& node_path,
                          std::string_view data);

// Tests of the fallback: resolve as on kernels without openat2 (false) or as usual (true).
void use_openat2_for_tests(bool available);

} // namespace ksx::activator
