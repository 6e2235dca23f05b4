// Images written by write_squashfs, checked with squashfs-tools, squashfs-tools-ng,
// systemd-dissect and our own reader.
#include "image/block_cache.hpp"
#include "image/squashfs_reader.hpp"
#include "image/squashfs_writer.hpp"
#include "util/error.hpp"
#include "util/file_io.hpp"
#include "util/process.hpp"
#include "util/sha256.hpp"

#include <cstdint>
#include <cstring>
#include <doctest/doctest.h>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

namespace fs = std::filesystem;
using ksx::image::Compression;
using ksx::image::Tree;
using ksx::image::WriteOptions;

namespace {

constexpr std::uint32_t test_mtime = 1700000000; // 2023-11-14 22:13:20 UTC

// A new empty directory under the test's working directory.
fs::path fresh_dir(const std::string& name) {
    fs::remove_all(name);
    fs::create_directories(name);
    return fs::absolute(name);
}

std::string random_bytes(std::size_t size, unsigned seed) {
    std::mt19937 engine(seed);
    std::string data(size, '\0');
    for (auto& c : data) {
        c = static_cast<char>(engine() & 0xFF);
    }
    return data;
}

void write_bytes(const fs::path& path, const std::string& data, unsigned mode = 0644) {
    std::ofstream(path, std::ios::binary) << data;
    fs::permissions(path, static_cast<fs::perms>(mode));
}

unsigned mode_of(const fs::path& path) {
    struct stat st {};
    REQUIRE(::lstat(path.c_str(), &st) == 0);
    return st.st_mode & 07777U;
}

// Tool output goes to a log file in the test directory.
ksx::ProcessOptions logged(std::vector<std::string> env = {}) {
    ksx::ProcessOptions options;
    options.log_file = fs::absolute("tools.log");
    options.env = std::move(env);
    return options;
}

int run(const std::vector<std::string>& argv) {
    return ksx::run_process(argv, logged()).exit_status;
}

WriteOptions options(unsigned threads = 1, Compression compression = Compression::Zstd,
                     std::optional<int> level = std::nullopt, std::uint32_t block_size = 131072) {
    WriteOptions result;
    result.compression = compression;
    result.level = level;
    result.mtime = test_mtime;
    result.threads = threads;
    result.block_size = block_size;
    return result;
}

// What the test tree holds, to compare extracted images against.
struct Expected {
    std::string path;
    char type; // 'd', 'f', 'l'
    unsigned mode;
    std::string content; // file data or link target
};

// Files of every interesting size (empty, 1 byte, one block, several blocks with a tail,
// many small ones), nested directories, symlinks, inline and host sources.
std::vector<Expected> build_tree(Tree& tree, const fs::path& sources) {
    std::vector<Expected> expected;
    auto file = [&](const std::string& path, std::string data, unsigned mode, bool inline_data) {
        if (inline_data) {
            tree.add_file_content(path, data, mode);
        } else {
            auto source = sources / std::to_string(expected.size());
            write_bytes(source, data);
            tree.add_file(path, source, mode);
        }
        expected.push_back({path, 'f', mode, std::move(data)});
    };
    tree.add_directory("etc", 0700);
    expected.push_back({"etc", 'd', 0700, ""});
    file("etc/empty", "", 0644, false);
    file("etc/one", "x", 0600, true);
    file("usr/lib/block", random_bytes(131072, 1), 0644, false);
    file("usr/lib/big.bin", random_bytes(300 * 1024 + 17, 2), 04755, false);
    file("usr/lib/big-copy.bin", random_bytes(300 * 1024 + 17, 2), 0644, false);
    file("usr/lib/zeros", std::string(3 * 131072, '\0'), 0644, false);
    for (int i = 0; i < 120; ++i) {
        file("usr/share/many/f" + std::to_string(i), "small file " + std::to_string(i) + "\n", 0644,
             i % 2 == 0);
    }
    file("usr/lib/a-b", "sorts before a/", 0644, true);
    file("usr/lib/a/deep/er/file", "deep", 0640, true);
    tree.add_symlink("usr/lib/link-rel", "block");
    expected.push_back({"usr/lib/link-rel", 'l', 0777, "block"});
    tree.add_symlink("usr/bin-abs", "/usr/lib/a/deep");
    expected.push_back({"usr/bin-abs", 'l', 0777, "/usr/lib/a/deep"});
    for (const char* dir : {"usr", "usr/lib", "usr/lib/a", "usr/lib/a/deep", "usr/lib/a/deep/er",
                            "usr/share", "usr/share/many"}) {
        expected.push_back({dir, 'd', 0755, ""});
    }
    return expected;
}

// Compares an unpacked directory with the expected entries, byte for byte and mode for mode.
void check_extracted(const fs::path& root, const std::vector<Expected>& expected) {
    std::size_t count = 0;
    for (auto it = fs::recursive_directory_iterator(root); it != fs::recursive_directory_iterator();
         ++it) {
        ++count;
    }
    CHECK(count == expected.size());
    for (const auto& entry : expected) {
        INFO(entry.path);
        auto path = root / entry.path;
        auto status = fs::symlink_status(path);
        if (entry.type == 'd') {
            CHECK(status.type() == fs::file_type::directory);
            CHECK(mode_of(path) == entry.mode);
        } else if (entry.type == 'l') {
            REQUIRE(status.type() == fs::file_type::symlink);
            CHECK(fs::read_symlink(path).string() == entry.content);
        } else {
            REQUIRE(status.type() == fs::file_type::regular);
            CHECK(mode_of(path) == entry.mode);
            CHECK(ksx::read_file(path) == entry.content);
        }
    }
}

} // namespace

TEST_CASE("Tree rejects paths that are not normalized and relative") {
    Tree tree;
    CHECK_THROWS_WITH_AS(tree.add_directory(""), "invalid image path \"\": must not be empty",
                         ksx::Error);
    CHECK_THROWS_WITH_AS(tree.add_file_content("/etc/x", "x"),
                         "invalid image path \"/etc/x\": must be relative", ksx::Error);
    for (const char* bad : {"a/../b", "..", "./a", "a/.", "a//b", "a/"}) {
        INFO(bad);
        CHECK_THROWS_WITH_AS(
            tree.add_directory(bad),
            ("invalid image path \"" + std::string(bad) + "\": empty, '.' or '..' component")
                .c_str(),
            ksx::Error);
    }
    CHECK_THROWS_AS(tree.add_file_content(std::string(256, 'n'), "x"), ksx::Error);
    CHECK_THROWS_AS(tree.add_directory("d", 010755), ksx::Error);
    CHECK_THROWS_AS(tree.add_symlink("l", ""), ksx::Error);
    CHECK(tree.nodes().size() == 1);
}

TEST_CASE("Tree refuses a second entry of another type and children below a non-directory") {
    Tree tree;
    tree.add_file_content("usr/lib/file", "x");
    CHECK_THROWS_WITH_AS(tree.add_directory("usr/lib/file"),
                         "cannot add \"usr/lib/file\" to the image as a directory: already added "
                         "as a file",
                         ksx::Error);
    CHECK_THROWS_WITH_AS(tree.add_symlink("usr/lib", "x"),
                         "cannot add \"usr/lib\" to the image as a symlink: already added as a "
                         "directory",
                         ksx::Error);
    CHECK_THROWS_WITH_AS(tree.add_file_content("usr/lib/file/below", "x"),
                         "cannot add \"usr/lib/file/below\" to the image: \"usr/lib/file\" is a "
                         "file",
                         ksx::Error);
    tree.add_symlink("link", "usr");
    CHECK_THROWS_WITH_AS(tree.add_directory("link/x/y"),
                         "cannot add \"link/x\" to the image: \"link\" is a symlink", ksx::Error);
}

TEST_CASE(
    "Tree creates missing parents with mode 0755 and lets a later entry of the same type win") {
    Tree tree;
    tree.add_file_content("usr/lib/modules/x.ko", "old", 0600);
    tree.add_file_content("usr/lib/modules/x.ko", "new");
    tree.add_directory("usr/lib", 0700);
    const auto& nodes = tree.nodes();
    REQUIRE(nodes.size() == 5);
    CHECK(nodes.at("").type == Tree::Node::Type::Directory);
    CHECK(nodes.at("usr").mode == 0755);
    CHECK(nodes.at("usr/lib").mode == 0700);
    CHECK(nodes.at("usr/lib/modules").mode == 0755);
    CHECK(nodes.at("usr/lib/modules/x.ko").content == "new");
    CHECK(nodes.at("usr/lib/modules/x.ko").mode == 0644);
}

TEST_CASE("add_host_tree takes files, directories and symlinks with their permission bits") {
    auto host = fresh_dir("host-tree");
    fs::create_directories(host / "sub/empty");
    fs::permissions(host / "sub", static_cast<fs::perms>(0750));
    write_bytes(host / "sub/tool", "#!/bin/sh\n", 0755);
    write_bytes(host / "data", "data", 0600);
    fs::create_symlink("sub/tool", host / "link");
    Tree tree;
    tree.add_host_tree("opt/pkg", host);
    const auto& nodes = tree.nodes();
    REQUIRE(nodes.size() == 8);
    CHECK(nodes.at("opt/pkg").mode == 0755);
    CHECK(nodes.at("opt/pkg/sub").mode == 0750);
    CHECK(nodes.at("opt/pkg/sub/empty").type == Tree::Node::Type::Directory);
    CHECK(nodes.at("opt/pkg/sub/tool").mode == 0755);
    CHECK(nodes.at("opt/pkg/sub/tool").source == host / "sub/tool");
    CHECK(nodes.at("opt/pkg/data").mode == 0600);
    CHECK(nodes.at("opt/pkg/link").type == Tree::Node::Type::Symlink);
    CHECK(nodes.at("opt/pkg/link").target == "sub/tool");

    REQUIRE(::mkfifo((host / "fifo").c_str(), 0644) == 0);
    Tree other;
    CHECK_THROWS_WITH_AS(other.add_host_tree("", host),
                         ("cannot add " + (host / "fifo").string() +
                          " to the image: only regular files, directories and symlinks are "
                          "supported")
                             .c_str(),
                         ksx::Error);
}

TEST_CASE("An image unpacks with unsquashfs to exactly the files, modes and links put in") {
    auto work = fresh_dir("roundtrip");
    fs::create_directories(work / "src");
    Tree tree;
    auto expected = build_tree(tree, work / "src");
    ksx::image::write_squashfs(tree, work / "image.raw", options(2));

    REQUIRE(run({"unsquashfs", "-q", "-n", "-d", (work / "out").string(),
                 (work / "image.raw").string()}) == 0);
    check_extracted(work / "out", expected);

    // sqfs2tar must walk the whole image too.
    REQUIRE(run({"sh", "-c", "sqfs2tar \"$0\" | tar -C \"$1\" -xf -", (work / "image.raw").string(),
                 fresh_dir("roundtrip-tar").string()}) == 0);
    check_extracted(fs::absolute("roundtrip-tar"), expected);

    // Our reader sees the same contents.
    for (const auto& entry : expected) {
        if (entry.type == 'f') {
            INFO(entry.path);
            CHECK(ksx::image::read_image_file(work / "image.raw", entry.path) == entry.content);
        }
    }
    CHECK(fs::file_size(work / "image.raw") % 4096 == 0);
}

TEST_CASE("Every inode is owned by root and carries the fixed modification time") {
    auto work = fresh_dir("owners");
    Tree tree;
    build_tree(tree, work);
    ksx::image::write_squashfs(tree, work / "image.raw", options());

    auto listing =
        ksx::run_capture({"unsquashfs", "-lln", (work / "image.raw").string()}, logged({"TZ=UTC"}));
    REQUIRE(listing.exit_status == 0);
    std::istringstream lines(listing.output);
    std::string line;
    int entries = 0;
    while (std::getline(lines, line)) {
        if (line.find("squashfs-root") == std::string::npos) {
            continue;
        }
        INFO(line);
        ++entries;
        CHECK(line.find(" 0/0 ") != std::string::npos);
        CHECK(line.find(" 2023-11-14 22:13 ") != std::string::npos);
    }
    CHECK(entries == static_cast<int>(tree.nodes().size()));

    auto info = ksx::image::read_image_info(work / "image.raw");
    CHECK(info.mkfs_time == test_mtime);
    CHECK(info.compression == "zstd");
    CHECK(info.block_size == 131072);
    REQUIRE(info.entries.size() == tree.nodes().size());
    for (const auto& entry : info.entries) {
        INFO(entry.path);
        CHECK(entry.uid == 0);
        CHECK(entry.gid == 0);
        CHECK(entry.mtime == test_mtime);
    }
}

TEST_CASE("One, two and four worker threads and a second run give the same bytes") {
    auto work = fresh_dir("threads");
    Tree tree;
    build_tree(tree, work);
    std::vector<std::string> digests;
    for (unsigned threads : {1U, 2U, 4U, 2U}) {
        auto image = work / ("image-" + std::to_string(digests.size()) + ".raw");
        ksx::image::write_squashfs(tree, image, options(threads));
        digests.push_back(ksx::sha256_file_hex(image));
    }
    CHECK(digests[1] == digests[0]);
    CHECK(digests[2] == digests[0]);
    CHECK(digests[3] == digests[0]);
}

TEST_CASE(
    "A block cache shared by two images gives the same bytes and compresses shared data once") {
    auto work = fresh_dir("block-cache");
    fs::create_directories(work / "src");
    // Two images with the same large file (as firmware shared by two kernels' images) and
    // one file each of their own.
    write_bytes(work / "shared.bin", random_bytes(600000, 7) + std::string(400000, 'a'));
    write_bytes(work / "one.ko", random_bytes(300000, 8));
    write_bytes(work / "two.ko", random_bytes(300000, 9));
    auto tree_for = [&](const char* module) {
        Tree tree;
        tree.add_file("usr/lib/firmware/shared.bin", work / "shared.bin");
        tree.add_file("usr/lib/modules/k/extra/m.ko", work / module);
        return tree;
    };
    auto cache = std::make_shared<ksx::image::BlockCache>();
    for (const char* module : {"one.ko", "two.ko"}) {
        INFO(module);
        auto tree = tree_for(module);
        auto plain = work / (std::string(module) + ".plain.raw");
        auto cached = work / (std::string(module) + ".cached.raw");
        ksx::image::write_squashfs(tree, plain, options(2));
        auto with_cache = options(2);
        with_cache.block_cache = cache;
        ksx::image::write_squashfs(tree, cached, with_cache);
        CHECK(ksx::sha256_file_hex(cached) == ksx::sha256_file_hex(plain));
    }
    // The second image found every full block of shared.bin (1000000 bytes: seven 131072-byte
    // blocks) in the cache; its own module's blocks were not there.
    CHECK(cache->hits() >= 7);
    CHECK(cache->saved_bytes() >= 7 * 131072);
    CHECK(cache->saved_bytes() < 7 * 131072 + 300000);
}

TEST_CASE("xz and gzip images and explicit levels read back") {
    auto work = fresh_dir("compressors");
    fs::create_directories(work / "src");
    Tree tree;
    auto expected = build_tree(tree, work / "src");
    struct Case {
        Compression compression;
        std::optional<int> level;
        const char* name;
    };
    for (const auto& c : {Case{Compression::Xz, std::nullopt, "xz"},
                          Case{Compression::Gzip, 6, "gzip"}, Case{Compression::Zstd, 3, "zstd"}}) {
        INFO(c.name);
        auto image = work / (std::string(c.name) + ".raw");
        ksx::image::write_squashfs(tree, image, options(2, c.compression, c.level, 65536));
        auto info = ksx::image::read_image_info(image);
        CHECK(info.compression == c.name);
        CHECK(info.block_size == 65536);
        auto out = work / (std::string(c.name) + "-out");
        REQUIRE(run({"unsquashfs", "-q", "-n", "-d", out.string(), image.string()}) == 0);
        check_extracted(out, expected);
    }
    CHECK_THROWS_WITH_AS(
        ksx::image::write_squashfs(tree, work / "bad.raw", options(1, Compression::Zstd, 23)),
        "compression level 23 is out of range for zstd (1-22)", ksx::InputError);
    CHECK_THROWS_AS(ksx::image::write_squashfs(tree, work / "bad.raw",
                                               options(1, Compression::Zstd, std::nullopt, 100000)),
                    ksx::Error);
    CHECK_FALSE(fs::exists(work / "bad.raw"));
}

TEST_CASE("A failed write leaves neither the output nor a temporary file") {
    auto work = fresh_dir("failure");
    Tree tree;
    tree.add_file_content("usr/first", random_bytes(500000, 3));
    tree.add_file("usr/missing", work / "does-not-exist");
    CHECK_THROWS_WITH_AS(ksx::image::write_squashfs(tree, work / "image.raw", options()),
                         ("failed to open " + (work / "does-not-exist").string() +
                          " (for usr/missing): No such file or directory")
                             .c_str(),
                         ksx::Error);
    CHECK(fs::is_empty(work));

    // An existing image stays untouched when the replacement fails.
    write_bytes(work / "image.raw", "previous");
    CHECK_THROWS_AS(ksx::image::write_squashfs(tree, work / "image.raw", options(2)), ksx::Error);
    CHECK(ksx::read_file(work / "image.raw") == "previous");
    CHECK(std::distance(fs::directory_iterator(work), fs::directory_iterator()) == 1);
}

TEST_CASE("The data and superblock match gensquashfs and sqfsdiff finds no difference") {
    // gensquashfs counts every child in a directory's link count; we count 2 + subdirectories
    // like mksquashfs and the kernel's other file systems, so only the inode table differs.
    auto work = fresh_dir("gensquashfs");
    auto src = work / "src";
    fs::create_directories(src / "a/b");
    fs::create_directories(src / "a-c");
    for (const auto& dir : {src, src / "a", src / "a/b", src / "a-c"}) {
        fs::permissions(dir, static_cast<fs::perms>(0755));
    }
    write_bytes(src / "a/b/f", "hello\n");
    write_bytes(src / "empty", "");
    write_bytes(src / "a/big", random_bytes(300000, 4), 04755);
    write_bytes(src / "a-c/dup", random_bytes(300000, 4));
    write_bytes(src / "a-c/block", random_bytes(131072, 5), 0600);
    for (int i = 0; i < 40; ++i) {
        write_bytes(src / "a/b" / ("s" + std::to_string(i)), "small " + std::to_string(i));
    }
    fs::create_symlink("../empty", src / "a/link");
    Tree tree;
    tree.add_host_tree("", src);
    ksx::image::write_squashfs(tree, work / "ours.raw", options(2));
    REQUIRE(run({"gensquashfs", "-q", "--pack-dir", src.string(), "--all-root", "-d",
                 "mtime=" + std::to_string(test_mtime), "-c", "zstd", "-j", "2",
                 (work / "theirs.raw").string()}) == 0);
    REQUIRE(run({"sqfsdiff", "-a", (work / "ours.raw").string(), "-b",
                 (work / "theirs.raw").string()}) == 0);

    auto ours = ksx::read_file(work / "ours.raw");
    auto theirs = ksx::read_file(work / "theirs.raw");
    REQUIRE(ours.size() == theirs.size());
    std::uint64_t inode_table_start = 0;
    std::memcpy(&inode_table_start, ours.data() + 64, sizeof inode_table_start);
    REQUIRE(inode_table_start > 96);
    // Superblock up to the root inode reference (the table offsets after it move with the
    // inode table's compressed size), then the whole data area.
    CHECK(ours.substr(0, 40) == theirs.substr(0, 40));
    CHECK(ours.substr(96, inode_table_start - 96) == theirs.substr(96, inode_table_start - 96));
}

TEST_CASE("systemd-dissect sees a system extension and reads files through the kernel") {
    if (::geteuid() != 0 || !fs::exists("/dev/loop-control")) {
        MESSAGE("skipped: systemd-dissect needs root and loop devices");
        return;
    }
    auto work = fresh_dir("dissect");
    Tree tree;
    tree.add_file_content("usr/lib/extension-release.d/extension-release.ext", "ID=_any\n");
    tree.add_file_content("usr/lib/ksx/data", random_bytes(200000, 6));
    ksx::image::write_squashfs(tree, work / "ext.raw", options());

    auto json = ksx::run_capture({"systemd-dissect", "--json=short", (work / "ext.raw").string()},
                                 logged());
    REQUIRE(json.exit_status == 0);
    CHECK(json.output.find("\"extensionRelease\":[\"ID=_any\"]") != std::string::npos);
    CHECK(json.output.find("\"useSystemExtension\":true") != std::string::npos);
    CHECK(json.output.find("\"fstype\":\"squashfs\"") != std::string::npos);

    REQUIRE(run({"systemd-dissect", "--copy-from", (work / "ext.raw").string(), "/usr/lib/ksx/data",
                 (work / "copied").string()}) == 0);
    CHECK(ksx::read_file(work / "copied") == random_bytes(200000, 6));
}

TEST_CASE("A file larger than 4 GiB streams into an extended inode") {
    auto work = fresh_dir("large");
    auto source = work / "sparse";
    const std::uint64_t size = (4ULL << 30) + 12345;
    {
        std::ofstream out(source, std::ios::binary);
        out << "head";
    }
    fs::resize_file(source, size - 4);
    {
        std::fstream out(source, std::ios::binary | std::ios::in | std::ios::out);
        out.seekp(static_cast<std::streamoff>(size - 4));
        out << "tail";
    }
    REQUIRE(fs::file_size(source) == size);
    Tree tree;
    tree.add_file("big", source);
    ksx::image::write_squashfs(tree, work / "image.raw", options(2));
    CHECK(fs::file_size(work / "image.raw") < (1U << 20));

    auto info = ksx::image::read_image_info(work / "image.raw");
    REQUIRE(info.entries.size() == 2);
    CHECK(info.entries[1].size == size);
    fs::remove(source);
    REQUIRE(run({"unsquashfs", "-q", "-n", "-d", (work / "out").string(),
                 (work / "image.raw").string()}) == 0);
    REQUIRE(fs::file_size(work / "out/big") == size);
    std::ifstream in(work / "out/big", std::ios::binary);
    std::string head(4, '\0');
    std::string tail(4, '\0');
    in.read(head.data(), 4);
    in.seekg(static_cast<std::streamoff>(size - 4));
    in.read(tail.data(), 4);
    CHECK(head == "head");
    CHECK(tail == "tail");
}
