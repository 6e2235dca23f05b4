// The node's OS identity against an image's: systemd-sysext's matching rule, the small squashfs
// reader `select` reads extension-release with, index.json for `prefetch`, and both verbs
// passing over images built for another OS release.
#include "activator/host_identity.hpp"
#include "activator/prefetch.hpp"
#include "activator/select.hpp"
#include "activator/squashfs_file.hpp"
#include "activator_fixture.hpp"
#include "contract/release_index.hpp"
#include "image/squashfs_reader.hpp"
#include "image/squashfs_writer.hpp"
#include "util/error.hpp"
#include "util/file_io.hpp"
#include "util/os_release.hpp"
#include "util/sha256.hpp"

#include <doctest/doctest.h>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace fs = std::filesystem;
using ksx::OsIdentity;

namespace {

const OsIdentity debian13{"debian", "13", "", "x86-64"};

std::string extension_release(const std::string& version_id, const std::string& arch = "x86-64") {
    return "ID=debian\nVERSION_ID=" + version_id + "\nARCHITECTURE=" + arch +
           "\nKMOD_SYSEXT_NAME=hello\n";
}

// A squashfs image of extension `hello` with `release` as its extension-release.
fs::path make_image(const fs::path& path, const std::string& release,
                    ksx::image::Compression compression = ksx::image::Compression::Zstd) {
    ksx::image::Tree tree;
    tree.add_file_content("usr/lib/extension-release.d/extension-release.hello", release);
    tree.add_file_content("usr/lib/modules/k/extra/hello/hello.ko", "module");
    ksx::image::WriteOptions options;
    options.compression = compression;
    fs::create_directories(path.parent_path());
    ksx::image::write_squashfs(tree, path, options);
    return path;
}

// A node running Debian `version_id`.
struct DebianNode : ksx::test::ActivatorNode {
    DebianNode(const std::string& name, const std::string& version_id,
               const std::string& kernel = ksx::test::kNodeKernel)
        : ActivatorNode(name, kernel) {
        write("etc/os-release", "PRETTY_NAME=\"Debian GNU/Linux\"\nNAME=\"Debian GNU/Linux\"\n"
                                "VERSION_ID=\"" +
                                    version_id + "\"\nID=debian\n");
    }
};

} // namespace

TEST_CASE("an extension matches the host as systemd-sysext matches it") {
    using ksx::extension_mismatch;
    CHECK(extension_mismatch(debian13, {"debian", "13", "", "x86-64"}).empty());
    CHECK(extension_mismatch(debian13, {"debian", "12", "", "x86-64"}) ==
          "built for VERSION_ID=12, the host has 13");
    CHECK(extension_mismatch(debian13, {"debian", "13", "", "arm64"}) ==
          "built for architecture arm64, the host is x86-64");
    CHECK(extension_mismatch(debian13, {"fedora", "13", "", "x86-64"}) ==
          "built for ID=fedora, the host is ID=debian");
    CHECK(extension_mismatch(debian13, {"", "13", "", ""}) == "its extension-release has no ID");
    CHECK(extension_mismatch(debian13, {"debian", "", "", ""}) ==
          "its extension-release has no VERSION_ID, the host has 13");
    // `_any` ID: nothing else compared; `_any` or no architecture: any architecture.
    CHECK(extension_mismatch(debian13, {"_any", "7", "", "_any"}).empty());
    CHECK(extension_mismatch(debian13, {"debian", "13", "", ""}).empty());
    // A host without a version (forky, a rolling release) takes any version.
    CHECK(extension_mismatch({"debian", "", "", "x86-64"}, {"debian", "13", "", "x86-64"}).empty());
    // SYSEXT_LEVEL when both have it, else VERSION_ID.
    OsIdentity flatcar{"flatcar", "4081.2.0", "1.0", "x86-64"};
    CHECK(extension_mismatch(flatcar, {"flatcar", "", "1.0", "x86-64"}).empty());
    CHECK(extension_mismatch(flatcar, {"flatcar", "", "2.0", "x86-64"}) ==
          "built for SYSEXT_LEVEL=2.0, the host has 1.0");
    CHECK(extension_mismatch(flatcar, {"flatcar", "4081.2.0", "", "x86-64"}).empty());
    CHECK(ksx::parse_os_release("ID='debian'\n# c\nVERSION_ID=\"13\"\nX=1\n").version_id == "13");
    CHECK(ksx::systemd_architecture("aarch64") == "arm64");
    CHECK(ksx::describe(debian13) == "ID=debian VERSION_ID=13 ARCHITECTURE=x86-64");
}

TEST_CASE("the activator's squashfs reader reads what libsquashfs reads, for every compressor") {
    std::string big(300000, 'x'); // several data blocks and a fragment tail
    for (std::size_t i = 0; i < big.size(); i += 7) {
        big[i] = static_cast<char>('a' + i % 26);
    }
    for (auto compression : {ksx::image::Compression::Zstd, ksx::image::Compression::Xz,
                             ksx::image::Compression::Gzip}) {
        CAPTURE(static_cast<int>(compression));
        ksx::image::Tree tree;
        tree.add_file_content("usr/lib/extension-release.d/extension-release.hello",
                              extension_release("13"));
        tree.add_file_content("usr/share/big", big);
        for (int i = 0; i < 300; ++i) { // a directory listing over several headers and blocks
            tree.add_file_content("usr/share/many/file-" + std::to_string(i), std::to_string(i));
        }
        ksx::image::WriteOptions options;
        options.compression = compression;
        auto image = fs::absolute("reader.raw");
        ksx::image::write_squashfs(tree, image, options);
        for (const char* path :
             {"usr/lib/extension-release.d/extension-release.hello", "usr/share/big",
              "usr/share/many/file-0", "usr/share/many/file-299", "usr/share/many/file-150"}) {
            CAPTURE(path);
            auto ours = ksx::activator::read_squashfs_file(image, path, 1 << 20);
            REQUIRE(ours);
            CHECK(*ours == ksx::image::read_image_file(image, path));
        }
        CHECK_FALSE(ksx::activator::read_squashfs_file(image, "usr/share/missing", 100));
        CHECK_FALSE(ksx::activator::read_squashfs_file(image, "usr/share/big/below", 100));
        CHECK_FALSE(ksx::activator::read_squashfs_file(image, "usr/share", 100)); // a directory
        CHECK_THROWS_AS(ksx::activator::read_squashfs_file(image, "usr/share/big", 1000),
                        ksx::Error);
    }
}

TEST_CASE("a damaged image is an error from the squashfs reader, never a read outside it") {
    auto image = make_image(fs::absolute("damaged/hello.raw"), extension_release("13"));
    auto bytes = ksx::read_file(image);
    const std::string path = "usr/lib/extension-release.d/extension-release.hello";
    // Truncated before its tables: an error; anywhere else: the file or an error.
    for (std::size_t cut : {std::size_t{0}, std::size_t{50}, std::size_t{96}}) {
        std::ofstream(image, std::ios::binary | std::ios::trunc) << bytes.substr(0, cut);
        CHECK_THROWS_AS(ksx::activator::read_squashfs_file(image, path, 4096), ksx::Error);
    }
    for (std::size_t cut = 97; cut < bytes.size(); cut += 7) {
        std::ofstream(image, std::ios::binary | std::ios::trunc) << bytes.substr(0, cut);
        try {
            auto got = ksx::activator::read_squashfs_file(image, path, 4096);
            CHECK((!got || *got == extension_release("13")));
        } catch (const ksx::Error&) {
        }
    }
    // With any byte of its tables changed: a result or an Error, never a crash.
    for (std::size_t at = 96; at < bytes.size(); ++at) {
        auto changed = bytes;
        changed[at] = static_cast<char>(changed[at] ^ 0x5a);
        std::ofstream(image, std::ios::binary | std::ios::trunc) << changed;
        try {
            ksx::activator::read_squashfs_file(image, path, 4096);
        } catch (const ksx::Error&) {
        }
    }
    std::ofstream(image, std::ios::binary | std::ios::trunc) << std::string(4096, 'r');
    CHECK_THROWS_WITH_AS(ksx::activator::read_squashfs_file(image, path, 4096),
                         (image.string() + ": not a squashfs 4.0 image").c_str(), ksx::Error);
}

TEST_CASE("the host identity comes from os-release and uname, the image's from the image") {
    DebianNode node("identity-node", "13");
    const auto& root = node.root;
    const auto& context = node.context;
    auto host = ksx::activator::read_host_identity(context);
    REQUIRE(host);
    CHECK(host->id == "debian");
    CHECK(host->version_id == "13");
    CHECK_FALSE(host->architecture.empty());
    fs::rename(root / "etc/os-release", root / "os-release");
    fs::create_directories(root / "usr/lib");
    fs::rename(root / "os-release", root / "usr/lib/os-release");
    CHECK(ksx::activator::read_host_identity(context)->version_id == "13");
    fs::remove(root / "usr/lib/os-release");
    CHECK_FALSE(ksx::activator::read_host_identity(context));

    auto image = make_image(root / "hello.raw", extension_release("12", "arm64"));
    auto identity = ksx::activator::read_image_identity(image, "hello");
    CHECK(identity.version_id == "12");
    CHECK(identity.architecture == "arm64");
    CHECK_THROWS_WITH_AS(
        ksx::activator::read_image_identity(image, "other"),
        (image.string() + ": no usr/lib/extension-release.d/extension-release.other").c_str(),
        ksx::Error);
}

TEST_CASE("select passes over a newer image built for another OS release, with one line") {
    const std::string kernel = "6.12.118-custom";
    DebianNode node("select-os", "13", kernel);
    auto store = node.store() / "hello";
    make_image(store / ("hello_1.0_" + kernel + ".raw"), extension_release("13"));
    make_image(store / ("hello_2.0_" + kernel + ".raw"), extension_release("12"));
    CHECK(ksx::activator::select_images(node.context, node.fresh_log()) == 0);
    CHECK(node.link("hello.raw") == "/var/lib/kmod-sysext/hello/hello_1.0_" + kernel + ".raw");
    CHECK(node.logged("ignoring hello_2.0_" + kernel +
                      ".raw: built for VERSION_ID=12, the host has 13"));
    // Only images for another OS release: nothing linked, the stale link removed.
    fs::remove(store / ("hello_1.0_" + kernel + ".raw"));
    CHECK(ksx::activator::select_images(node.context, node.fresh_log()) == 0);
    CHECK_FALSE(fs::exists(fs::symlink_status(node.root / "run/extensions/hello.raw")));
    // An image whose extension-release cannot be read is passed over too.
    std::ofstream(store / ("hello_3.0_" + kernel + ".raw")) << std::string(4096, 'n');
    CHECK(ksx::activator::select_images(node.context, node.fresh_log()) == 0);
    CHECK(node.logged("ignoring hello_3.0_" + kernel + ".raw: cannot read its extension-release: " +
                      (store / ("hello_3.0_" + kernel + ".raw")).string() +
                      ": not a squashfs 4.0 image"));
}

TEST_CASE("index.json gives prefetch each image's identity") {
    auto images = ksx::contract::parse_release_index(
        R"({"format": 1, "images": [{"file": "a_1_k.raw", "name": "a", "os": {"id": "debian",)"
        R"( "version_id": "12", "sysext_level": null}, "architecture": "x86-64", "size": 4096,)"
        R"( "modules": ["x\u00e9"], "signer": null}], "activator": null})");
    REQUIRE(images.size() == 1);
    CHECK(images["a_1_k.raw"].version_id == "12");
    CHECK(images["a_1_k.raw"].sysext_level.empty());
    CHECK(images["a_1_k.raw"].architecture == "x86-64");
    for (const char* bad : {"", "{", R"({"format": 2, "images": []})", R"({"images": {}})",
                            R"({"format": 1, "images": [{"file": "x"}]})", "[1,]", "\"\\x\""}) {
        CAPTURE(bad);
        CHECK_THROWS_AS(ksx::contract::parse_release_index(bad), ksx::InputError);
    }
}

TEST_CASE("index.json's \\u escapes decode surrogate pairs and refuse broken ones") {
    auto index_with_id = [](const std::string& id) {
        return R"({"format": 1, "images": [{"file": "a_1_k.raw", "os": {"id": ")" + id + R"("}}]})";
    };
    CHECK(ksx::contract::parse_release_index(index_with_id(R"(\ud83d\ude00)"))["a_1_k.raw"].id ==
          "\xF0\x9F\x98\x80");
    // These decoded to bytes that are not UTF-8 ("\ud800\u0041" to four bytes of a wrapped
    // around code point).
    for (const char* broken :
         {R"(\ud800\u0041)", R"(\ud800)", R"(\ud800x)", R"(\udc00)", R"(\ud800\ud800)"}) {
        CAPTURE(broken);
        CHECK_THROWS_WITH_AS(ksx::contract::parse_release_index(index_with_id(broken)),
                             doctest::Contains("surrogate"), ksx::InputError);
    }
}

TEST_CASE("prefetch fetches only the images built for the node's OS release") {
    // A release of two OS releases, published the way `kmod-sysext publish` lays it out.
    auto release = fs::absolute("os-release-dir");
    fs::remove_all(release);
    const std::string kernel = "6.12.118-custom";
    std::string sums;
    std::string index = R"({"format": 1, "images": [)";
    for (const auto& [version, os] : {std::pair{"1.0", "13"}, std::pair{"2.0", "12"}}) {
        auto file = "hello_" + std::string(version) + "_" + kernel + ".raw";
        make_image(release / file, extension_release(os));
        sums += ksx::sha256_file_hex(release / file) + "  " + file + "\n";
        index += std::string(version == std::string("1.0") ? "" : ",") + R"({"file": ")" + file +
                 R"(", "os": {"id": "debian", "version_id": ")" + os +
                 R"(", "sysext_level": null}, "architecture": "x86-64"})";
    }
    std::ofstream(release / "SHA256SUMS") << sums;
    std::ofstream(release / "index.json") << index << R"(], "activator": null})";

    DebianNode thirteen("prefetch-os", "13", kernel);
    CHECK(ksx::activator::prefetch_images(thirteen.context, {kernel}, release.string(),
                                          thirteen.log) == 0);
    auto store = thirteen.store() / "hello";
    CHECK(fs::exists(store / ("hello_1.0_" + kernel + ".raw")));
    CHECK_FALSE(fs::exists(store / ("hello_2.0_" + kernel + ".raw")));
    CHECK(thirteen.logged("not fetching hello_2.0_" + kernel +
                          ".raw: built for VERSION_ID=12, the host has 13"));

    // A node of the other release gets the other image.
    DebianNode twelve("prefetch-os-12", "12", kernel);
    CHECK(ksx::activator::prefetch_images(twelve.context, {kernel}, release.string(), twelve.log) ==
          0);
    CHECK(fs::exists(twelve.store() / "hello" / ("hello_2.0_" + kernel + ".raw")));
    CHECK_FALSE(fs::exists(twelve.store() / "hello" / ("hello_1.0_" + kernel + ".raw")));
}
