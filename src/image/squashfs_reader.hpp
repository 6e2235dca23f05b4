// Reads squashfs images back (libsquashfs): listing and file contents.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace ksx::image {

struct ImageEntry {
    std::string path; // relative, "" is the root
    char type = 'f';  // 'd', 'f', 'l', or 'o' for other
    unsigned mode = 0;
    std::uint32_t uid = 0;
    std::uint32_t gid = 0;
    std::uint32_t mtime = 0;
    std::uint64_t size = 0;
    std::string link_target;
};

struct ImageInfo {
    std::string compression; // "zstd", "xz", "gzip", ...
    std::uint32_t block_size = 0;
    std::uint32_t mkfs_time = 0;
    std::uint64_t bytes_used = 0;
    std::vector<ImageEntry> entries; // depth-first, sorted
};

// Throws InputError when the file is not a readable squashfs.
ImageInfo read_image_info(const std::filesystem::path& image);

// Contents of one regular file in the image; throws InputError when it is missing.
std::string read_image_file(const std::filesystem::path& image, const std::string& path);

} // namespace ksx::image
