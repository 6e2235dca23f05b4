// verify_image on real squashfs images signed by sign_image: what it accepts and, check by
// check, what it refuses.
#include "image/squashfs_reader.hpp"
#include "image/squashfs_writer.hpp"
#include "sign/ddi.hpp"
#include "sign/image_signature.hpp"
#include "sign/image_verify.hpp"
#include "sign/module_compression.hpp"
#include "sign/module_signature.hpp"
#include "sign_fixture.hpp"
#include "util/error.hpp"
#include "util/sha256.hpp"

#include <doctest/doctest.h>

namespace fs = std::filesystem;
using namespace ksx;
using namespace ksx::sign;
using ksx::test::keygen_pair;
using ksx::test::random_data;

namespace {

const std::string kernel = "6.1.0-test-amd64";

ImageContents squashfs_contents() {
    return {[](const fs::path& image) {
                std::vector<std::string> files;
                for (const auto& entry : image::read_image_info(image).entries) {
                    if (entry.type == 'f') {
                        files.push_back(entry.path);
                    }
                }
                return files;
            },
            [](const fs::path& image, const std::string& path) {
                return image::read_image_file(image, path);
            }};
}

Signer signer() {
    const auto& keys = keygen_pair(KeyAlgorithm::Rsa4096);
    return load_signer(keys.key, keys.cert_pem);
}

std::vector<Certificate> trusted() {
    std::vector<Certificate> out;
    out.push_back(load_certificate(keygen_pair(KeyAlgorithm::Rsa4096).crt));
    return out;
}

struct Options {
    bool sign_modules = true;
    std::string release_name = "demo";
    bool ddi = false; // a DDI of the /usr tree instead of a squashfs and sidecars
};

// demo_1.0_<kernel>.raw with one plain and one xz-compressed module, and its sidecars.
fs::path signed_image(const std::string& dir, const Options& options = {}) {
    fs::create_directories(dir);
    auto s = signer();
    auto module = [&](unsigned seed) {
        auto bytes = random_data(6000, seed);
        return options.sign_modules ? sign_module(bytes, s, "sha256") : bytes;
    };
    auto compressed = fs::absolute(dir) / "b.ko";
    test::write_data(compressed, module(2));
    compressed = compress_module(compressed, ModuleCompression::Xz);

    image::Tree tree;
    tree.add_file_content("usr/lib/extension-release.d/extension-release." + options.release_name,
                          "ID=debian\nVERSION_ID=12\nARCHITECTURE=x86-64\nKMOD_SYSEXT_NAME=demo\n"
                          "KMOD_SYSEXT_VERSION=1.0\nKMOD_SYSEXT_KERNEL=" +
                              kernel + "\n");
    auto modules = "usr/lib/modules/" + kernel + "/extra/demo/";
    tree.add_file_content(modules + "a.ko", module(1));
    tree.add_file(modules + "b.ko.xz", compressed);
    image::WriteOptions write;
    write.mtime = 1;
    auto path = fs::absolute(dir) / ("demo_1.0_" + kernel + ".raw");
    if (options.ddi) {
        std::vector<std::string> outside;
        auto usr = fs::absolute(dir) / "usr.squashfs";
        image::write_squashfs(tree.subtree("usr", outside), usr, write);
        REQUIRE(outside.empty());
        write_ddi(usr, sha256_file_hex(usr), path, "x86-64", s, 2);
        return path;
    }
    image::write_squashfs(tree, path, write);
    sign_image(path, sha256_file_hex(path), s, 2);
    return path;
}

std::string failures(const VerifyReport& report) {
    std::string out;
    for (const auto& check : report.checks) {
        if (!check.ok) {
            out += check.name + ": " + check.detail + "\n";
        }
    }
    return out;
}

std::vector<std::string> check_names(const VerifyReport& report) {
    std::vector<std::string> names;
    for (const auto& check : report.checks) {
        names.push_back(check.name);
    }
    return names;
}

} // namespace

TEST_CASE("verify accepts a signed image and names every check") {
    auto image = signed_image("sign-good");
    auto report = verify_image(image, squashfs_contents(), trusted(), 2);
    INFO(failures(report));
    CHECK(report.ok());
    auto modules = "module usr/lib/modules/" + kernel + "/extra/demo/";
    CHECK(check_names(report) == std::vector<std::string>{"verity", "roothash", "signature",
                                                          "extension-release", modules + "a.ko",
                                                          modules + "b.ko.xz"});
    CHECK(report.root_hash + "\n" == read_file(sidecar_paths(image).roothash));
    CHECK(report.checks[3].detail == "demo, kernel " + kernel);
}

TEST_CASE("verify accepts the image under systemd's NAME.raw with its sidecars") {
    auto image = signed_image("sign-renamed");
    auto sidecars = sidecar_paths(image);
    fs::create_directories("sign-ext");
    fs::copy_file(image, "sign-ext/demo.raw");
    fs::copy_file(sidecars.verity, "sign-ext/demo.verity");
    fs::copy_file(sidecars.roothash, "sign-ext/demo.roothash");
    fs::copy_file(sidecars.signature, "sign-ext/demo.roothash.p7s");
    auto report = verify_image("sign-ext/demo.raw", squashfs_contents(), trusted(), 1);
    INFO(failures(report));
    CHECK(report.ok());
}

TEST_CASE("verify refuses unsigned modules, a foreign release name and missing sidecars") {
    auto unsigned_modules = signed_image("sign-unsigned", {false, "demo"});
    auto report = verify_image(unsigned_modules, squashfs_contents(), trusted(), 1);
    CHECK_FALSE(report.ok());
    CHECK(failures(report) == "module usr/lib/modules/" + kernel +
                                  "/extra/demo/a.ko: not signed\nmodule usr/lib/modules/" + kernel +
                                  "/extra/demo/b.ko.xz: not signed\n");

    auto other = signed_image("sign-other", {true, "other"});
    report = verify_image(other, squashfs_contents(), trusted(), 1);
    CHECK(failures(report) == "extension-release: extension-release.other does not match the "
                              "file name demo_1.0_" +
                                  kernel + ".raw\n");

    auto image = signed_image("sign-sidecars");
    fs::remove(sidecar_paths(image).verity);
    report = verify_image(image, squashfs_contents(), trusted(), 1);
    CHECK(failures(report).starts_with("verity: demo_1.0_" + kernel + ".verity is missing\n"));
}

TEST_CASE("verify without certificates finds the signatures but fails") {
    auto image = signed_image("sign-nocert");
    auto report = verify_image(image, squashfs_contents(), {}, 1);
    CHECK_FALSE(report.ok());
    CHECK(failures(report).starts_with(
        "signature: signature present, signer not checked (no --cert given)\n"));
}

TEST_CASE("an image that cannot be read is an input error") {
    CHECK_THROWS_AS(verify_image("sign-missing.raw", squashfs_contents(), trusted(), 1),
                    InputError);
}

TEST_CASE("verify accepts a signed DDI, its files under usr/, and refuses changed partitions") {
    auto image = signed_image("sign-ddi", {true, "demo", true});
    auto report = verify_image(image, squashfs_contents(), trusted(), 2);
    INFO(failures(report));
    CHECK(report.ok());
    auto modules = "module usr/lib/modules/" + kernel + "/extra/demo/";
    CHECK(check_names(report) == std::vector<std::string>{"partitions", "verity", "roothash",
                                                          "signature", "extension-release",
                                                          modules + "a.ko", modules + "b.ko.xz"});
    CHECK(report.checks[0].detail == "GPT with usr, usr-verity and usr-verity-sig (x86-64)");

    auto ddi = read_ddi(image);
    auto bytes = read_file(image);
    auto changed_at = [&](std::uint64_t offset) {
        auto changed = bytes;
        changed[offset] = static_cast<char>(changed[offset] ^ 0x04);
        test::write_data(image.parent_path() / "changed.raw", changed);
        auto result =
            verify_image(image.parent_path() / "changed.raw", squashfs_contents(), trusted(), 1);
        CHECK_FALSE(result.ok());
        return failures(result);
    };
    CHECK(changed_at(ddi.usr.offset() + 100).starts_with("verity: hash tree differs"));
    CHECK(changed_at(ddi.verity.offset() + 4096 + 7).starts_with("verity: hash tree differs"));
    CHECK(changed_at(600).starts_with("partitions: "));
    CHECK_FALSE(verify_image(image, squashfs_contents(), {}, 1).ok());
}
