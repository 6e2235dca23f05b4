// The manifest's `signing:` section, `image.module_compression` and `image.format`: values
// and exact errors.
#include "manifest/manifest.hpp"
#include "manifest/manifest_error.hpp"

#include <doctest/doctest.h>
#include <filesystem>
#include <string>

namespace fs = std::filesystem;
using namespace ksx::manifest;

namespace {

// Lines 1-16 of a valid manifest; the section under test starts on line 17.
const std::string base = "apiVersion: kmod-sysext/v1\n"
                         "name: demo\n"
                         "version: 1.0.0\n"
                         "target:\n"
                         "  id: debian\n"
                         "  version_id: \"12\"\n"
                         "  architecture: x86-64\n"
                         "kernels:\n"
                         "  - release: 6.1.0-28-amd64\n"
                         "source:\n"
                         "  path: src\n"
                         "build:\n"
                         "  commands:\n"
                         "    - make\n"
                         "modules:\n"
                         "  - name: demo\n";

Manifest parse_with(const std::string& section) {
    fs::create_directories("sg/src");
    return parse(base + section, "sg/m.yaml");
}

std::string error_of(const std::string& section) {
    try {
        parse_with(section);
    } catch (const ManifestError& e) {
        return e.what();
    }
    return "no error";
}

} // namespace

TEST_CASE("signing keys are resolved against the manifest's directory and need not exist yet") {
    auto m = parse_with("signing:\n"
                        "  modules:\n"
                        "    key: keys/module.pem\n"
                        "    cert: ../sg/certs/module.crt\n"
                        "    hash: sha512\n"
                        "  image:\n"
                        "    key: keys/image.pem\n"
                        "    cert: keys/image.crt\n");
    auto dir = fs::absolute("sg");
    REQUIRE(m.signing.modules);
    REQUIRE(m.signing.image);
    CHECK(m.signing.modules->key == dir / "keys/module.pem");
    CHECK(m.signing.modules->cert == dir / "certs/module.crt");
    CHECK(m.signing.module_hash == "sha512");
    CHECK(m.signing.image->cert == dir / "keys/image.crt");
    CHECK(m.signing.modules->where.line == 19);
}

TEST_CASE("a key held in a PKCS#11 token is kept as its URI; certificates stay files") {
    auto m = parse_with("signing:\n"
                        "  image:\n"
                        "    key: \"pkcs11:token=release;object=image;type=private\"\n"
                        "    cert: keys/image.crt\n");
    REQUIRE(m.signing.image);
    CHECK(m.signing.image->key.native() == "pkcs11:token=release;object=image;type=private");
    CHECK(m.signing.image->cert == fs::absolute("sg") / "keys/image.crt");
    CHECK(error_of("signing:\n  image:\n    key: k.pem\n    cert: \"pkcs11:object=c\"\n") ==
          "sg/m.yaml:20:11: error: signing.image.cert: must be a certificate file (PEM or DER); "
          "PKCS#11 URIs name keys only\n"
          "    cert: \"pkcs11:object=c\"\n"
          "          ^");
}

TEST_CASE("without a signing section nothing is signed; module compression is left to the kernel") {
    auto m = parse_with("");
    CHECK_FALSE(m.signing.modules);
    CHECK_FALSE(m.signing.image);
    CHECK(m.signing.module_hash.empty());
    CHECK_FALSE(m.image.module_compression);
}

TEST_CASE("module compression is none, xz or zstd") {
    CHECK(parse_with("image:\n  module_compression: none\n").image.module_compression ==
          ModuleCompression::None);
    CHECK(parse_with("image:\n  module_compression: xz\n").image.module_compression ==
          ModuleCompression::Xz);
    CHECK(parse_with("image:\n  module_compression: zstd\n").image.module_compression ==
          ModuleCompression::Zstd);
    CHECK(error_of("image:\n  module_compression: gzip\n") ==
          "sg/m.yaml:18:23: error: image.module_compression: \"gzip\" is not supported (expected "
          "one of: none, xz, zstd)\n"
          "  module_compression: gzip\n"
          "                      ^");
}

TEST_CASE("a bad signing section gives one exact, positioned error") {
    CHECK(error_of("signing:\n  modules:\n    key: k.pem\n") ==
          "sg/m.yaml:19:5: error: signing.modules: missing required field \"cert\"\n"
          "    key: k.pem\n"
          "    ^");
    CHECK(error_of("signing:\n  image:\n    key: k.pem\n    cert: c.pem\n    hash: sha256\n") ==
          "sg/m.yaml:21:5: error: signing.image: unknown key \"hash\" (expected one of: key, "
          "cert)\n"
          "    hash: sha256\n"
          "    ^");
    CHECK(error_of("signing:\n  modules:\n    key: k.pem\n    cert: c.pem\n    hash: md5\n") ==
          "sg/m.yaml:21:11: error: signing.modules.hash: \"md5\" is not a module signature hash "
          "(expected one of: sha224, sha256, sha384, sha512)\n"
          "    hash: md5\n"
          "          ^");
    CHECK(error_of("signing: {}\n") ==
          "sg/m.yaml:17:10: error: signing: must name a key for modules, image or both\n"
          "signing: {}\n"
          "         ^");
}

TEST_CASE("the image format is squashfs unless it says ddi") {
    CHECK(parse_with("").image.format == ImageFormat::Squashfs);
    CHECK(parse_with("image:\n  format: squashfs\n").image.format == ImageFormat::Squashfs);
    CHECK(parse_with("image:\n  format: ddi\n").image.format == ImageFormat::Ddi);
    CHECK(error_of("image:\n  format: gpt\n") ==
          "sg/m.yaml:18:11: error: image.format: \"gpt\" is not supported (expected one of: "
          "squashfs, ddi)\n"
          "  format: gpt\n"
          "          ^");
}
