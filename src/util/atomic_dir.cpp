#include "util/atomic_dir.hpp"

#include "util/error.hpp"
#include "util/remove_tree.hpp"

#include <cstdlib>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>

namespace fs = std::filesystem;

namespace ksx {

void make_directory_atomically(const fs::path& destination,
                               const std::function<void(const fs::path&)>& fill) {
    std::error_code ec;
    if (fs::symlink_status(destination, ec).type() != fs::file_type::not_found) {
        throw Error("cannot create " + destination.string() + ": it already exists");
    }
    const fs::path parent = fs::absolute(destination).parent_path();
    fs::create_directories(parent);
    std::string pattern =
        (fs::canonical(parent) / (destination.filename().string() + ".partial-XXXXXX")).string();
    if (::mkdtemp(pattern.data()) == nullptr) {
        throw_errno("failed to create a directory in " + parent.string());
    }
    PartialDir partial(pattern);
    fill(partial.path());
    // mkdtemp made it 0700; a root directory is 0755 (an archive's "./" entry is skipped).
    if (::chmod(partial.path().c_str(), 0755) != 0) {
        throw_errno("failed to set the mode of " + partial.path().string());
    }
    if (::renameat2(AT_FDCWD, partial.path().c_str(), AT_FDCWD, destination.c_str(),
                    RENAME_NOREPLACE) != 0) {
        throw_errno("failed to rename " + partial.path().string() + " to " + destination.string());
    }
    partial.release();
}

} // namespace ksx
