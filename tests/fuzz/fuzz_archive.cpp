// Archives: entry names as every extraction checks them (util/archive_paths.hpp), and whole
// archives through the developer container's tarball extraction and the source unpacker, whose
// checks keep every entry inside the destination.
#include "container/tar_extract.hpp"
#include "fetch/fetch.hpp"
#include "fuzz_support.hpp"
#include "util/archive_paths.hpp"
#include "util/temp_dir.hpp"

#include <algorithm>
#include <filesystem>

namespace {

// What archive_relative_path() promises of a name it accepts: relative, no "..", "." or empty
// component, within the kernel's limits.
bool stays_inside(std::string_view relative) {
    if (relative.starts_with('/') || relative.size() > 4095) {
        return false;
    }
    std::size_t start = 0;
    while (!relative.empty() && start <= relative.size()) {
        auto end = std::min(relative.find('/', start), relative.size());
        auto part = relative.substr(start, end - start);
        if (part.empty() || part == "." || part == ".." || part.size() > 255) {
            return false;
        }
        start = end + 1;
    }
    return true;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    auto bytes = ksx::fuzz::as_text(data, size);
    auto name = ksx::archive_relative_path(bytes);
    ksx::shown_entry_name(bytes);

    // In memory (/dev/shm); the destinations must not exist before each extraction.
    static const ksx::TempDir work("ksx-fuzz-archive", "/dev/shm");
    if (name.problem.empty() && !stays_inside(name.relative)) {
        __builtin_trap();
    }
    if (name.problem.empty()) {
        ksx::symlink_component(work.path(), name.relative);
    }
    ksx::fuzz::MemoryFile archive(bytes);
    auto tree = work.path() / "tree";
    ksx::fuzz::refusals_expected([&] { ksx::container::extract_tarball(archive.path(), tree); });
    std::filesystem::remove_all(tree);
    ksx::fuzz::refusals_expected([&] { ksx::fetch::unpack(archive.path(), tree); });
    std::filesystem::remove_all(tree);
    return 0;
}
