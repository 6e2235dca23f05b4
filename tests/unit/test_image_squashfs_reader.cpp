// read_image_info / read_image_file on images of our writer, on other files and on damaged
// images.
#include "image/squashfs_reader.hpp"
#include "image/squashfs_writer.hpp"
#include "util/error.hpp"
#include "util/file_io.hpp"

#include <doctest/doctest.h>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <string>

namespace fs = std::filesystem;
using ksx::image::ImageEntry;
using ksx::image::Tree;

namespace {

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

void write_bytes(const fs::path& path, const std::string& data) {
    std::ofstream(path, std::ios::binary) << data;
}

ksx::image::WriteOptions options(std::uint32_t mtime = 1234567890) {
    ksx::image::WriteOptions result;
    result.mtime = mtime;
    return result;
}

// A small image: a fragment-only file, a multi-block file with a tail, a symlink, an empty dir.
fs::path sample_image(const fs::path& dir) {
    Tree tree;
    tree.add_file_content("usr/lib/extension-release.d/extension-release.demo", "ID=_any\n");
    tree.add_file_content("usr/lib/modules/6.1.0/extra/demo.ko", random_bytes(300000, 7), 0600);
    tree.add_symlink("usr/lib/modules/6.1.0/extra/alias.ko", "demo.ko");
    tree.add_directory("opt", 0700);
    auto image = dir / "sample.raw";
    ksx::image::write_squashfs(tree, image, options());
    return image;
}

std::string describe(const ImageEntry& e) {
    return e.path + " " + e.type + " " + std::to_string(e.mode) + " " + std::to_string(e.size) +
           " " + e.link_target;
}

} // namespace

TEST_CASE("read_image_info lists every entry depth first with type, mode, size and target") {
    auto image = sample_image(fresh_dir("info"));
    auto info = ksx::image::read_image_info(image);
    CHECK(info.compression == "zstd");
    CHECK(info.block_size == 131072);
    CHECK(info.mkfs_time == 1234567890);
    CHECK(info.bytes_used > 300000);
    CHECK(info.bytes_used <= fs::file_size(image));
    std::vector<std::string> got;
    for (const auto& entry : info.entries) {
        got.push_back(describe(entry));
        CHECK(entry.uid == 0);
        CHECK(entry.gid == 0);
        CHECK(entry.mtime == 1234567890);
    }
    std::vector<std::string> expected = {
        " d 493 0 ",
        "opt d 448 0 ",
        "usr d 493 0 ",
        "usr/lib d 493 0 ",
        "usr/lib/extension-release.d d 493 0 ",
        "usr/lib/extension-release.d/extension-release.demo f 420 8 ",
        "usr/lib/modules d 493 0 ",
        "usr/lib/modules/6.1.0 d 493 0 ",
        "usr/lib/modules/6.1.0/extra d 493 0 ",
        "usr/lib/modules/6.1.0/extra/alias.ko l 511 7 demo.ko",
        "usr/lib/modules/6.1.0/extra/demo.ko f 384 300000 ",
    };
    CHECK(got == expected);
}

TEST_CASE("read_image_file returns fragment and multi-block contents") {
    auto image = sample_image(fresh_dir("file"));
    CHECK(ksx::image::read_image_file(
              image, "usr/lib/extension-release.d/extension-release.demo") == "ID=_any\n");
    CHECK(ksx::image::read_image_file(image, "/usr/lib/modules/6.1.0/extra/demo.ko") ==
          random_bytes(300000, 7));
}

TEST_CASE("read_image_file refuses missing paths, directories, links and dot-dot") {
    auto image = sample_image(fresh_dir("missing"));
    auto name = image.string();
    CHECK_THROWS_WITH_AS(ksx::image::read_image_file(image, "usr/lib/nothing"),
                         (name + ": no file \"usr/lib/nothing\" in the image").c_str(),
                         ksx::InputError);
    CHECK_THROWS_WITH_AS(
        ksx::image::read_image_file(image, "usr/lib/extension-release.d/extension-release.demo/x"),
        (name + ": no file \"usr/lib/extension-release.d/extension-release.demo/x\" in the image")
            .c_str(),
        ksx::InputError);
    CHECK_THROWS_WITH_AS(ksx::image::read_image_file(image, "usr/../usr/lib"),
                         (name + ": no file \"usr/../usr/lib\" in the image").c_str(),
                         ksx::InputError);
    CHECK_THROWS_WITH_AS(ksx::image::read_image_file(image, "usr/lib"),
                         (name + ": \"usr/lib\" is not a regular file").c_str(), ksx::InputError);
    CHECK_THROWS_WITH_AS(
        ksx::image::read_image_file(image, "usr/lib/modules/6.1.0/extra/alias.ko"),
        (name + ": \"usr/lib/modules/6.1.0/extra/alias.ko\" is not a regular file").c_str(),
        ksx::InputError);
}

TEST_CASE("Files that are not squashfs images give an InputError naming the image") {
    auto dir = fresh_dir("not-squashfs");
    write_bytes(dir / "text.raw", std::string(4096, 'x'));
    write_bytes(dir / "tiny.raw", "hsqs");
    CHECK_THROWS_WITH_AS(
        ksx::image::read_image_info(dir / "text.raw"),
        ((dir / "text.raw").string() + ": not a squashfs image: superblock: wrong magic number")
            .c_str(),
        ksx::InputError);
    CHECK_THROWS_WITH_AS(
        ksx::image::read_image_info(dir / "tiny.raw"),
        ((dir / "tiny.raw").string() + ": not a squashfs image: superblock: location out of bounds")
            .c_str(),
        ksx::InputError);
    CHECK_THROWS_WITH_AS(
        ksx::image::read_image_file(dir / "absent.raw", "x"),
        ((dir / "absent.raw").string() + ": cannot open: No such file or directory").c_str(),
        ksx::InputError);
}

TEST_CASE("A truncated image is reported as not a squashfs image") {
    auto dir = fresh_dir("truncated");
    auto image = sample_image(dir);
    auto bytes = ksx::read_file(image);
    write_bytes(dir / "half.raw", bytes.substr(0, bytes.size() / 2));
    auto prefix = (dir / "half.raw").string() + ": not a squashfs image: ";
    try {
        ksx::image::read_image_info(dir / "half.raw");
        FAIL("no error");
    } catch (const ksx::InputError& e) {
        CHECK(std::string(e.what()).starts_with(prefix));
    }
}

TEST_CASE("Damaged metadata never gets past the reader as anything but an InputError") {
    auto dir = fresh_dir("damaged");
    auto image = sample_image(dir);
    auto bytes = ksx::read_file(image);
    // Metadata (inode, directory, fragment, id tables) sits after the 300 KB of file data.
    std::size_t start = 96 + 290000;
    std::size_t end = bytes.size();
    std::mt19937 engine(42);
    int refused = 0;
    for (int round = 0; round < 300; ++round) {
        auto damaged = bytes;
        for (int flips = 0; flips < 1 + round % 4; ++flips) {
            auto at = start + engine() % (end - start);
            damaged[at] = static_cast<char>(damaged[at] ^ (1 + engine() % 255));
        }
        write_bytes(dir / "bad.raw", damaged);
        try {
            auto info = ksx::image::read_image_info(dir / "bad.raw");
            for (const auto& entry : info.entries) {
                if (entry.type == 'f' && entry.size <= (64U << 20)) {
                    ksx::image::read_image_file(dir / "bad.raw", entry.path);
                }
            }
        } catch (const ksx::InputError&) {
            ++refused;
        }
    }
    CHECK(refused > 0);
}

TEST_CASE("Directories nested deeper than 256 levels are refused") {
    auto dir = fresh_dir("deep");
    Tree tree;
    std::string path = "d";
    for (int i = 1; i < 300; ++i) {
        path += "/d";
    }
    tree.add_file_content(path + "/f", "deep");
    ksx::image::write_squashfs(tree, dir / "deep.raw", options());
    CHECK_THROWS_WITH_AS(ksx::image::read_image_info(dir / "deep.raw"),
                         ((dir / "deep.raw").string() +
                          ": not a squashfs image: directories nested deeper than 256 levels")
                             .c_str(),
                         ksx::InputError);
    CHECK_THROWS_AS(ksx::image::read_image_file(dir / "deep.raw", path + "/f"), ksx::InputError);
}

TEST_CASE("read_image_file reads files larger than 64 MiB") {
    // Uncompressed NVIDIA modules for newer kernels pass 64 MiB.
    auto dir = fresh_dir("module-size-file");
    std::string pattern;
    for (int i = 0; i < 4096; ++i) {
        pattern += static_cast<char>((i * 131 + 7) % 251);
    }
    {
        std::ofstream out(dir / "big.ko", std::ios::binary);
        for (int i = 0; i < (65 << 20) / 4096 + 3; ++i) {
            pattern[0] = static_cast<char>(i);
            out << pattern;
        }
    }
    Tree tree;
    tree.add_file("big.ko", dir / "big.ko");
    ksx::image::write_squashfs(tree, dir / "image.raw", options());
    auto content = ksx::image::read_image_file(dir / "image.raw", "big.ko");
    std::ifstream in(dir / "big.ko", std::ios::binary);
    std::string expected((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    CHECK(content.size() == expected.size());
    CHECK(content == expected);
}

TEST_CASE("read_image_file refuses files larger than 1 GiB") {
    auto dir = fresh_dir("large-file");
    { std::ofstream out(dir / "zeros", std::ios::binary); }
    fs::resize_file(dir / "zeros", (1ULL << 30) + 1);
    Tree tree;
    tree.add_file("zeros", dir / "zeros");
    ksx::image::write_squashfs(tree, dir / "image.raw", options());
    CHECK_THROWS_WITH_AS(
        ksx::image::read_image_file(dir / "image.raw", "zeros"),
        ((dir / "image.raw").string() + ": \"zeros\" is larger than 1 GiB").c_str(),
        ksx::InputError);
}
