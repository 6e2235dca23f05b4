// Images whose sizes (an inode's block list, symlink target or directory index, the fragment
// count) would make libsquashfs allocate far more than the image holds are refused by
// read_image_info / read_image_file before libsquashfs allocates (squashfs_bounds).
#include "image/squashfs_reader.hpp"
#include "util/error.hpp"
#include "util/file_io.hpp"
#include "util/process.hpp"

#include <algorithm>
#include <cstdint>
#include <doctest/doctest.h>
#include <filesystem>
#include <fstream>
#include <string>

namespace fs = std::filesystem;

namespace {

fs::path fresh_dir(const std::string& name) {
    fs::remove_all(name);
    fs::create_directories(name);
    return fs::absolute(name);
}

std::uint64_t little(const std::string& bytes, std::size_t at, int size) {
    std::uint64_t value = 0;
    for (int i = size - 1; i >= 0; --i) {
        value = value << 8 | static_cast<unsigned char>(bytes.at(at + i));
    }
    return value;
}

void put_u32(std::string& bytes, std::size_t at, std::uint32_t value) {
    for (int i = 0; i < 4; ++i) {
        bytes.at(at + i) = static_cast<char>(value >> (8 * i) & 0xFF);
    }
}

// mksquashfs of `root` with 4 KiB blocks and every table uncompressed, so that a test can
// patch an inode's fields in place.
std::string uncompressed_image(const fs::path& root, const fs::path& image) {
    ksx::ProcessOptions logged;
    logged.log_file = fs::absolute("tools.log");
    auto status = ksx::run_process({"mksquashfs", root.string(), image.string(), "-noI", "-noD",
                                    "-noF", "-noX", "-no-xattrs", "-all-root", "-b", "4096",
                                    "-quiet", "-no-progress"},
                                   logged)
                      .exit_status;
    REQUIRE(status == 0);
    return ksx::read_file(image);
}

void write_bytes(const fs::path& path, const std::string& data) {
    std::ofstream(path, std::ios::binary) << data;
}

std::string refusal(const fs::path& image, const std::string& path = "") {
    try {
        if (path.empty()) {
            ksx::image::read_image_info(image);
        } else {
            ksx::image::read_image_file(image, path);
        }
    } catch (const ksx::InputError& e) {
        return e.what();
    }
    return "no error";
}

} // namespace

// Inputs the squashfs_image fuzz harness found (tests/fuzz/corpus/squashfs_image).
const fs::path kFound = fs::path(KSX_SOURCE_DIR) / "tests/fuzz/corpus/squashfs_image";

TEST_CASE("A root symlink inode claiming a 1.7 GB target is refused before it is read") {
    // 1,117 bytes that made libsquashfs calloc 1.7 GB for the target when reading the root.
    auto image = kFound / "symlink-target-beyond-inode-table.sqfs";
    std::string expected = image.string() +
                           ": not a squashfs image: root inode: a symlink target needs "
                           "1700000046 bytes of the inode table, which can hold at most 753664";
    CHECK(refusal(image) == expected);
    CHECK(refusal(image, "usr/lib/extension-release.d/extension-release.fuzz") == expected);
}

TEST_CASE("A fragment count the image cannot hold is refused before the table is read") {
    // 1,117 bytes whose superblock made libsquashfs malloc 30 GB for the fragment table when
    // read_image_file loaded it.
    auto image = kFound / "fragment-table-beyond-image.sqfs";
    CHECK(ksx::image::read_image_info(image).entries.size() == 3);
    CHECK(refusal(image, "usr/lib") ==
          image.string() +
              ": not a squashfs image: the fragment table of 1920169217 entries needs "
              "30722707472 bytes of metadata, more than its place in the image can hold "
              "(925696)");
}

TEST_CASE("A file, symlink or fragment count that the image cannot hold is refused, named") {
    auto dir = fresh_dir("inode-payload");
    fs::create_directories(dir / "root");
    write_bytes(dir / "root/f", "hello");
    fs::create_symlink("f", dir / "root/l");
    auto bytes = uncompressed_image(dir / "root", dir / "good.raw");
    // The inode table: a metadata block's 2-byte header, then f's basic file inode (16 common
    // bytes, then blocks_start, fragment, offset, file_size) and l's symlink inode (16, then
    // nlink, target_size, the target).
    auto inodes = static_cast<std::size_t>(little(bytes, 64, 8)) + 2;
    REQUIRE(little(bytes, inodes, 2) == 2);
    REQUIRE(little(bytes, inodes + 28, 4) == 5);
    REQUIRE(little(bytes, inodes + 32, 2) == 3);
    REQUIRE(little(bytes, inodes + 52, 4) == 1);
    auto room = (little(bytes, 72, 8) - little(bytes, 64, 8)) / 3 * 8192;
    CHECK(ksx::image::read_image_file(dir / "good.raw", "f") == "hello");

    auto big_file = bytes;
    put_u32(big_file, inodes + 28, 0xFFFFFFFF);
    write_bytes(dir / "file.raw", big_file);
    // 4294967295 bytes: 1048575 blocks of 4 KiB, the tail in the fragment.
    std::string file_error = (dir / "file.raw").string() +
                             ": not a squashfs image: f: the block list of a file of 4294967295 "
                             "bytes needs 4194300 bytes of the inode table, which can hold at "
                             "most " +
                             std::to_string(room);
    CHECK(refusal(dir / "file.raw") == file_error);
    CHECK(refusal(dir / "file.raw", "f") == file_error);

    auto long_link = bytes;
    put_u32(long_link, inodes + 52, 0xFFFFFFFF);
    write_bytes(dir / "link.raw", long_link);
    CHECK(refusal(dir / "link.raw") ==
          (dir / "link.raw").string() +
              ": not a squashfs image: l: a symlink target needs 4294967296 bytes of the inode "
              "table, which can hold at most " +
              std::to_string(room));
    CHECK(ksx::image::read_image_file(dir / "link.raw", "f") == "hello");

    // The superblock's fragment count (offset 16): 2^32 - 1 entries of 16 bytes.
    auto many_fragments = bytes;
    put_u32(many_fragments, 16, 0xFFFFFFFF);
    write_bytes(dir / "fragments.raw", many_fragments);
    // Its metadata lies between the directory table and the export (or id) table.
    auto fragment_end = std::min(little(bytes, 48, 8), little(bytes, 88, 8));
    auto fragment_room = (fragment_end - little(bytes, 72, 8)) / 3 * 8192;
    CHECK(ksx::image::read_image_info(dir / "fragments.raw").entries.size() == 3);
    CHECK(refusal(dir / "fragments.raw", "f") ==
          (dir / "fragments.raw").string() +
              ": not a squashfs image: the fragment table of 4294967295 entries needs "
              "68719476720 bytes of metadata, more than its place in the image can hold (" +
              std::to_string(fragment_room) + ")");
}

TEST_CASE("A directory index whose name size the inode table cannot hold is refused") {
    // 600 files make the root's listing larger than a metadata block: mksquashfs writes it as
    // an extended directory inode with an index entry (index, start_block, size, name).
    auto dir = fresh_dir("inode-payload-index");
    fs::create_directories(dir / "root");
    for (int i = 1; i <= 600; ++i) {
        std::ofstream(dir / "root" / ("file-" + std::to_string(i) + ".txt"));
    }
    auto bytes = uncompressed_image(dir / "root", dir / "good.raw");
    auto root_ref = little(bytes, 32, 8);
    auto inode_table = little(bytes, 64, 8);
    auto block = inode_table + (root_ref >> 16);
    auto root = static_cast<std::size_t>(block + 2 + (root_ref & 0xFFFF));
    REQUIRE((root_ref & 0xFFFF) + 40 + 12 <= 8192); // the fields sit in one metadata block
    REQUIRE(little(bytes, root, 2) == 8);
    REQUIRE(little(bytes, root + 32, 2) >= 1);
    CHECK(ksx::image::read_image_info(dir / "good.raw").entries.size() == 601);

    put_u32(bytes, root + 40 + 8, 0xFFFFFFFF);
    write_bytes(dir / "index.raw", bytes);
    auto room = (little(bytes, 72, 8) - block) / 3 * 8192;
    CHECK(refusal(dir / "index.raw") ==
          (dir / "index.raw").string() +
              ": not a squashfs image: root inode: the index of a directory needs 4294967308 "
              "bytes of the inode table, which can hold at most " +
              std::to_string(room));
}

TEST_CASE("Inodes that together claim more than 64 MiB of block lists are refused") {
    // 65 names of one sparse file of 1 GiB and a byte (64 hard links): 65 directory entries
    // naming one inode whose block list (262145 blocks of 4 KiB, the byte in a block of its
    // own: 1 MiB and 4 bytes) the inode table does hold; 64 of them pass 64 MiB.
    auto dir = fresh_dir("inode-payload-total");
    fs::create_directories(dir / "root");
    { std::ofstream(dir / "root/zeros"); }
    fs::resize_file(dir / "root/zeros", (1ULL << 30) + 1);
    for (int i = 1; i <= 64; ++i) {
        fs::create_hard_link(dir / "root/zeros", dir / "root" / ("link" + std::to_string(i)));
    }
    uncompressed_image(dir / "root", dir / "links.raw");
    // One of them is read (and refused only for its size).
    CHECK(refusal(dir / "links.raw", "link64") ==
          (dir / "links.raw").string() + ": \"link64\" is larger than 1 GiB");
    // Sorted by name ("link1", "link10", ..., "link9", "zeros"), the 64th entry is link9.
    CHECK(refusal(dir / "links.raw") ==
          (dir / "links.raw").string() +
              ": not a squashfs image: link9: the block lists, symlink targets and directory "
              "indexes of its inodes need more than 64 MiB");
}
