// publish_release(): real images (our squashfs writer) and sidecars merged into a release.
#include "contract/release_index.hpp"
#include "image/squashfs_reader.hpp"
#include "image/squashfs_writer.hpp"
#include "pack/layout.hpp"
#include "publish/publish.hpp"
#include "publish/release_files.hpp"
#include "sign/keys.hpp"
#include "sign/roothash_signature.hpp"
#include "util/error.hpp"
#include "util/file_io.hpp"
#include "util/sha256.hpp"

#include <doctest/doctest.h>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <sys/stat.h>

namespace fs = std::filesystem;
using ksx::publish::publish_release;
using ksx::publish::PublishOptions;

namespace {

fs::path fresh_dir(const std::string& name) {
    fs::remove_all(name);
    fs::create_directories(name);
    return fs::absolute(name);
}

// An image as `build` lays it out, for `kernel`, with its mkfs time `mtime`, for Debian
// `version_id`, of extension version `version`.
fs::path make_image(const fs::path& dir, const std::string& kernel, const std::string& payload,
                    std::uint32_t mtime = 1700000000, const std::string& version_id = "12",
                    const std::string& version = "2.0") {
    ksx::image::Tree tree;
    tree.add_file_content("usr/lib/extension-release.d/extension-release.demo",
                          "ID=debian\nVERSION_ID=" + version_id +
                              "\nARCHITECTURE=x86-64\nKMOD_SYSEXT_NAME=demo\n"
                              "KMOD_SYSEXT_VERSION=" +
                              version + "\nKMOD_SYSEXT_KERNEL=" + kernel + "\n");
    tree.add_file_content("usr/lib/kmod-sysext/demo/modules.load",
                          "# kmod-sysext load order, format 1\n"
                          "demo_core\t/usr/lib/modules/" +
                              kernel + "/extra/demo/demo_core.ko\t-\tboot\t\n" +
                              "demo\t/usr/lib/modules/" + kernel +
                              "/extra/demo/demo.ko\tdemo_core\tboot\t\n");
    tree.add_file_content("usr/lib/modules/" + kernel + "/extra/demo/demo.ko", payload);
    ksx::image::WriteOptions options;
    options.mtime = mtime;
    auto path = dir / ("demo_" + version + "_" + kernel + ".raw");
    ksx::image::write_squashfs(tree, path, options);
    return path;
}

struct TestSigner {
    ksx::sign::Signer signer;
    fs::path cert_file;
};

TestSigner test_signer(const std::string& cn) {
    TestSigner result;
    result.signer.key = ksx::sign::generate_key(ksx::sign::KeyAlgorithm::EcdsaP256);
    result.signer.certificate = ksx::sign::self_signed_certificate(result.signer.key.get(), cn, 30);
    result.cert_file = fs::absolute(cn + ".pem");
    std::ofstream(result.cert_file) << ksx::sign::certificate_pem(result.signer.certificate.get());
    return result;
}

// .roothash and .roothash.p7s next to `image` (a made-up root hash: publish does not check it).
void add_signature(const fs::path& image, const TestSigner& signer) {
    auto root_hash = ksx::sha256_hex(ksx::read_file(image));
    auto stem = image.string().substr(0, image.string().size() - 4);
    std::ofstream(stem + ".roothash") << root_hash << "\n";
    std::ofstream(stem + ".roothash.p7s", std::ios::binary)
        << ksx::sign::sign_root_hash(root_hash, signer.signer);
}

ino_t inode(const fs::path& path) {
    struct stat st {};
    REQUIRE(::stat(path.c_str(), &st) == 0);
    return st.st_ino;
}

} // namespace

TEST_CASE("two shards published one after the other equal one publish of both") {
    auto signer = test_signer("demo signer");
    auto a = fresh_dir("shard-a");
    auto b = fresh_dir("shard-b");
    auto image_a = make_image(a, "6.1.0-56-amd64", "module for 6.1");
    add_signature(image_a, signer);
    make_image(b, "6.12.117+deb12-amd64", "module for 6.12");

    PublishOptions one;
    one.to = fs::absolute("one");
    one.base_url = "http://127.0.0.1:8080/demo";
    one.certs = {signer.cert_file};
    one.from = {a};
    CHECK(publish_release(one).changed);
    one.from = {b};
    auto result = publish_release(one);
    CHECK(result.changed);
    CHECK(result.images.size() == 2);

    auto both = one;
    both.to = fs::absolute("both");
    both.from = {b, a};
    CHECK(publish_release(both).changed);
    for (const char* file : {"SHA256SUMS", "index.json", "sysupdate.d/6.1.0-56-amd64/demo.transfer",
                             "sysupdate.d/6.1.0-56-amd64/demo.roothash.p7s.transfer",
                             "sysupdate.d/6.1.0-56-amd64/demo.roothash.p7s.conf",
                             "sysupdate.d/6.12.117+deb12-amd64/demo.transfer",
                             "sysupdate.d/6.12.117+deb12-amd64/demo.conf"}) {
        CAPTURE(file);
        CHECK(ksx::read_file(one.to / file) == ksx::read_file(both.to / file));
    }
    CHECK_FALSE(fs::exists(both.to / "sysupdate.d/6.12.117+deb12-amd64/demo.roothash.transfer"));

    // Every file but SHA256SUMS itself is listed, as sha256sum writes it.
    std::string sums;
    for (const char* file : {"demo_2.0_6.1.0-56-amd64.raw", "demo_2.0_6.1.0-56-amd64.roothash",
                             "demo_2.0_6.1.0-56-amd64.roothash.p7s",
                             "demo_2.0_6.12.117+deb12-amd64.raw", "index.json"}) {
        sums += ksx::sha256_file_hex(both.to / file) + "  " + file + "\n";
    }
    CHECK(ksx::read_file(both.to / "SHA256SUMS") == sums);
    // Hard links, not copies, on the same file system.
    CHECK(inode(both.to / "demo_2.0_6.1.0-56-amd64.raw") == inode(image_a));
}

TEST_CASE("the index describes each image from its own contents and sidecars") {
    auto signer = test_signer("index signer");
    auto a = fresh_dir("index-shard");
    auto image = make_image(a, "6.1.0-56-amd64", "payload");
    add_signature(image, signer);
    PublishOptions options;
    options.from = {a};
    options.to = fs::absolute("index-release");
    options.certs = {signer.cert_file};
    publish_release(options);
    auto index = nlohmann::json::parse(ksx::read_file(options.to / "index.json"));
    CHECK(index["format"] == 1);
    CHECK(index["activator"].is_null());
    REQUIRE(index["images"].size() == 1);
    auto entry = index["images"][0];
    CHECK(entry["file"] == "demo_2.0_6.1.0-56-amd64.raw");
    CHECK(entry["name"] == "demo");
    CHECK(entry["version"] == "2.0");
    CHECK(entry["kernel"] == "6.1.0-56-amd64");
    CHECK(entry["os"].dump() == R"({"id":"debian","sysext_level":null,"version_id":"12"})");
    CHECK(entry["architecture"] == "x86-64");
    CHECK(entry["sha256"] == ksx::sha256_file_hex(image));
    CHECK(entry["size"] == fs::file_size(image));
    CHECK(entry["root_hash"] == ksx::sha256_hex(ksx::read_file(image)));
    CHECK(entry["signer"] == "CN=index signer");
    CHECK(entry["build_time"] == "2023-11-14T22:13:20Z");
    CHECK(entry["modules"].dump() == R"(["demo_core","demo"])");
    CHECK(entry["sidecars"].size() == 2);
    CHECK_FALSE(fs::exists(options.to / "sysupdate.d")); // no --base-url

    SUBCASE("a signature that the given certificate does not verify is refused") {
        auto other = test_signer("someone else");
        options.certs = {other.cert_file};
        options.to = fs::absolute("index-release-2");
        CHECK_THROWS_AS(publish_release(options), ksx::InputError);
        CHECK_FALSE(fs::exists(options.to));
    }
}

TEST_CASE("publishing the same shards again leaves the release untouched") {
    auto a = fresh_dir("again-shard");
    make_image(a, "6.1.0-56-amd64", "payload");
    PublishOptions options;
    options.from = {a};
    options.to = fs::absolute("again");
    options.base_url = "http://127.0.0.1:8080/x";
    CHECK(publish_release(options).changed);
    auto before = inode(options.to / "index.json");
    auto result = publish_release(options);
    CHECK_FALSE(result.changed);
    CHECK(result.images.size() == 1);
    CHECK(inode(options.to / "index.json") == before);
    // No staging directory is left next to the release.
    for (const auto& entry : fs::directory_iterator(options.to.parent_path())) {
        CHECK(entry.path().filename().string().find(".again.new-") == std::string::npos);
    }
}

TEST_CASE("two shards with different bytes under one file name are refused") {
    auto a = fresh_dir("conflict-a");
    auto b = fresh_dir("conflict-b");
    make_image(a, "6.1.0-56-amd64", "first build");
    make_image(b, "6.1.0-56-amd64", "second build");
    PublishOptions options;
    options.from = {a};
    options.to = fs::absolute("conflict");
    publish_release(options);
    auto index = ksx::read_file(options.to / "index.json");
    options.from = {b};
    auto name = std::string("demo_2.0_6.1.0-56-amd64.raw");
    CHECK_THROWS_WITH_AS(publish_release(options),
                         ("conflicting " + name + ": " + (options.to / name).string() +
                          " (sha256 " + ksx::sha256_file_hex(a / name) + ") and " +
                          (b / name).string() + " (sha256 " + ksx::sha256_file_hex(b / name) + ")")
                             .c_str(),
                         ksx::InputError);
    CHECK(ksx::read_file(options.to / "index.json") == index);
}

TEST_CASE("a sysupdate transfer fetches one kernel's images into the activator's store") {
    auto a = fresh_dir("transfer-shard");
    make_image(a, "6.1.0-56-amd64", "payload");
    PublishOptions options;
    options.from = {a};
    options.to = fs::absolute("transfer");
    options.base_url = "https://example.org/demo";
    publish_release(options);
    auto text = ksx::read_file(options.to / "sysupdate.d/6.1.0-56-amd64/demo.conf");
    // systemd-sysupdate up to 256 reads *.conf, 257 and later *.transfer: the same text.
    CHECK(ksx::read_file(options.to / "sysupdate.d/6.1.0-56-amd64/demo.transfer") == text);
    CHECK(text ==
          "# kmod-sysext: demo_@v_6.1.0-56-amd64.raw from https://example.org/demo into the "
          "activator's store\n"
          "[Transfer]\n"
          "# Published without a signed SHA256SUMS (publish --gpg-key signs it)\n"
          "Verify=no\n"
          "\n"
          "[Source]\n"
          "Type=url-file\n"
          "Path=https://example.org/demo\n"
          "MatchPattern=demo_@v_6.1.0-56-amd64.raw\n"
          "\n"
          "[Target]\n"
          "Type=regular-file\n"
          "Path=/var/lib/kmod-sysext/demo\n"
          "MatchPattern=demo_@v_6.1.0-56-amd64.raw\n"
          "Mode=0444\n"
          "InstancesMax=2\n");
}

TEST_CASE("an image whose name disagrees with its extension-release is refused") {
    auto a = fresh_dir("renamed-shard");
    auto image = make_image(a, "6.1.0-56-amd64", "payload");
    fs::rename(image, a / "demo_2.0_6.2.0-1-amd64.raw");
    PublishOptions options;
    options.from = {a};
    options.to = fs::absolute("renamed");
    CHECK_THROWS_WITH_AS(publish_release(options),
                         ((a / "demo_2.0_6.2.0-1-amd64.raw").string() +
                          ": its extension-release names \"demo_2.0_6.1.0-56-amd64.raw\"")
                             .c_str(),
                         ksx::InputError);
}

TEST_CASE("a publish removes what killed publishers left beside the release") {
    auto a = fresh_dir("stale-shard");
    make_image(a, "6.1.0-56-amd64", "payload");
    fs::create_directories("stale.d/.rel.new-abc123/x");
    PublishOptions options;
    options.from = {a};
    options.to = fs::absolute("stale.d/rel");
    CHECK(publish_release(options).changed);
    CHECK_FALSE(fs::exists("stale.d/.rel.new-abc123"));
    CHECK(fs::exists("stale.d/.rel.lock"));
    CHECK(fs::exists("stale.d/rel/index.json"));
}

TEST_CASE("a release holding two OS releases records each image's identity") {
    auto bookworm = fresh_dir("os-shard-12");
    auto trixie = fresh_dir("os-shard-13");
    make_image(bookworm, "6.12.117+deb12-amd64", "module for 6.12 on 12", 1700000000, "12");
    make_image(trixie, "6.12.118+deb13-amd64", "module for 6.12 on 13", 1700000000, "13");
    PublishOptions options;
    options.from = {bookworm, trixie};
    options.to = fs::absolute("os-release");
    options.base_url = "http://127.0.0.1:8080/demo";
    publish_release(options);
    auto index = nlohmann::json::parse(ksx::read_file(options.to / "index.json"));
    REQUIRE(index["images"].size() == 2);
    CHECK(index["images"][0]["file"] == "demo_2.0_6.12.117+deb12-amd64.raw");
    CHECK(index["images"][0]["os"].dump() ==
          R"({"id":"debian","sysext_level":null,"version_id":"12"})");
    CHECK(index["images"][0]["architecture"] == "x86-64");
    CHECK(index["images"][1]["file"] == "demo_2.0_6.12.118+deb13-amd64.raw");
    CHECK(index["images"][1]["os"].dump() ==
          R"({"id":"debian","sysext_level":null,"version_id":"13"})");
    // Transfers per kernel: each directory matches only its own OS release's kernel.
    auto twelve = ksx::read_file(options.to / "sysupdate.d/6.12.117+deb12-amd64/demo.transfer");
    CHECK(twelve.find("MatchPattern=demo_@v_6.12.117+deb12-amd64.raw\n") != std::string::npos);
    CHECK(fs::exists(options.to / "sysupdate.d/6.12.118+deb13-amd64/demo.transfer"));
}

TEST_CASE("one kernel's images of two OS releases are refused: sysupdate could not tell") {
    auto a = fresh_dir("mixed-a");
    auto b = fresh_dir("mixed-b");
    make_image(a, "6.12.117-custom", "for 12", 1700000000, "12", "2.0");
    make_image(b, "6.12.117-custom", "for 13", 1700000000, "13", "2.1");
    PublishOptions options;
    options.from = {a, b};
    options.to = fs::absolute("mixed-release");
    options.base_url = "http://127.0.0.1:8080/demo";
    CHECK_THROWS_WITH_AS(publish_release(options),
                         "demo_2.1_6.12.117-custom.raw (ID=debian VERSION_ID=13 "
                         "ARCHITECTURE=x86-64) and demo_2.0_6.12.117-custom.raw (ID=debian "
                         "VERSION_ID=12 ARCHITECTURE=x86-64) are for one kernel but two OS "
                         "releases: systemd-sysupdate could not tell them apart; publish them "
                         "into separate releases",
                         ksx::InputError);
    CHECK_FALSE(fs::exists(options.to));
}

TEST_CASE("a split build's pair: index.json, parse_release_index and sysupdate transfers") {
    // The images as `build` lays them out with `userspace: shared` (pack/layout.hpp).
    auto dir = fresh_dir("split-shard");
    std::ofstream(dir / "demo.conf") << "setting=1\n";
    std::ofstream(dir / "demo.ko") << "module bytes";
    ksx::manifest::Manifest m;
    m.name = "demo";
    m.version = "2.0";
    m.target = {"debian", "13", "", "x86-64"};
    m.userspace = ksx::manifest::Userspace::Shared;
    ksx::manifest::FileSpec file;
    file.source = dir / "demo.conf";
    file.destination = "/usr/share/demo/demo.conf";
    m.files = {file};
    ksx::build::KernelBuild kernel;
    kernel.kernel_release = "6.12.57+deb13-amd64";
    kernel.image_version = "2.0";
    ksx::build::BuiltModule module;
    module.name = "demo";
    module.file = dir / "demo.ko";
    kernel.modules = {module};
    ksx::image::WriteOptions options;
    options.mtime = 1700000000;
    auto modules_name = ksx::pack::image_file_name(m, "2.0", kernel.kernel_release);
    auto shared_name = ksx::pack::userspace_image_file_name(m, "2.0");
    CHECK(shared_name == "demo-userspace_2.0.raw");
    auto modules_tree = ksx::pack::compose(m, kernel);
    auto shared_tree = ksx::pack::compose_userspace(m, "2.0", {});
    auto shard = fresh_dir("split-images");
    ksx::image::write_squashfs(modules_tree, shard / modules_name, options);
    ksx::image::write_squashfs(shared_tree, shard / shared_name, options);
    // The modules image has no userspace file, the shared one nothing but it and its release.
    CHECK_THROWS(ksx::image::read_image_file(shard / modules_name, "usr/share/demo/demo.conf"));
    CHECK(ksx::image::read_image_file(shard / shared_name, "usr/share/demo/demo.conf") ==
          "setting=1\n");
    CHECK(ksx::image::read_image_file(shard / modules_name,
                                      "usr/lib/extension-release.d/extension-release.demo")
              .ends_with("KMOD_SYSEXT_KERNEL=6.12.57+deb13-amd64\nKMOD_SYSEXT_USERSPACE=2.0\n"));
    CHECK(
        ksx::image::read_image_file(
            shard / shared_name, "usr/lib/extension-release.d/extension-release.demo-userspace") ==
        "ID=debian\nVERSION_ID=13\nARCHITECTURE=x86-64\nKMOD_SYSEXT_NAME=demo\n"
        "KMOD_SYSEXT_VERSION=2.0\n");

    PublishOptions publish;
    publish.from = {shard};
    publish.to = fs::absolute("split-release");
    publish.base_url = "https://example.org/demo";
    auto result = publish_release(publish);
    REQUIRE(result.images.size() == 2);
    auto index_text = ksx::read_file(publish.to / "index.json");
    auto index = nlohmann::json::parse(index_text);
    const auto& shared = index["images"][0]; // sorted by file name: '-' before '_'
    CHECK(shared["file"] == shared_name);
    CHECK(shared["kernel"].is_null());
    CHECK(shared["userspace"] == true);
    CHECK(shared["modules"].empty());
    CHECK_FALSE(shared.contains("userspace_version"));
    const auto& modules = index["images"][1];
    CHECK(modules["file"] == modules_name);
    CHECK(modules["kernel"] == "6.12.57+deb13-amd64");
    CHECK(modules["userspace_version"] == "2.0");
    CHECK_FALSE(modules.contains("userspace"));
    // What prefetch reads: both files, with their OS.
    auto read = ksx::contract::parse_release_index(index_text);
    REQUIRE(read.size() == 2);
    CHECK(read.at(shared_name).version_id == "13");
    CHECK(read.at(modules_name).id == "debian");
    auto sums = ksx::read_file(publish.to / "SHA256SUMS");
    CHECK(sums.find("  " + shared_name + "\n") != std::string::npos);
    // The kernel's directory fetches the shared image beside the modules image.
    auto dir_of = publish.to / "sysupdate.d/6.12.57+deb13-amd64";
    auto text = ksx::read_file(dir_of / "demo-userspace.transfer");
    CHECK(ksx::read_file(dir_of / "demo-userspace.conf") == text);
    CHECK(text.find("\nMatchPattern=demo-userspace_@v.raw\n") != std::string::npos);
    CHECK(text.find("\nPath=/var/lib/kmod-sysext/demo\n") != std::string::npos);
    CHECK(fs::exists(dir_of / "demo.transfer"));
    CHECK_FALSE(fs::exists(publish.to / "sysupdate.d/demo-userspace.transfer"));
}
