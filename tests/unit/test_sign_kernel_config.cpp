// The target kernel's configuration in its build tree, and what kmod-sysext takes from it:
// CONFIG_MODULE_SIG_HASH and how modules are compressed (CONFIG_MODULE_COMPRESS_*).
#include "sign/kernel_config.hpp"
#include "sign/module_compression.hpp"
#include "sign/module_signature.hpp"
#include "sign_fixture.hpp"

#include <doctest/doctest.h>

namespace fs = std::filesystem;
using namespace ksx;
using namespace ksx::sign;
using ksx::test::write_data;

namespace {

CompressionChoice choice_for(const std::string& text) {
    return kernel_module_compression(KernelConfig(text, "k/auto.conf"));
}

} // namespace

TEST_CASE("a kernel configuration is read from auto.conf, else .config") {
    auto tree = fs::absolute("kernel-tree");
    fs::create_directories(tree / "include/config");
    CHECK_FALSE(read_kernel_config(tree));
    write_data(tree / ".config", "# comment\nCONFIG_MODULE_SIG_HASH=\"sha256\"\n"
                                 "# CONFIG_MODULE_COMPRESS_XZ is not set\n");
    auto config = read_kernel_config(tree);
    REQUIRE(config);
    CHECK(config->file() == tree / ".config");
    CHECK(kernel_module_hash(*config) == "sha256");
    CHECK_FALSE(config->value("CONFIG_MODULE_COMPRESS_XZ"));

    write_data(tree / "include/config/auto.conf",
               "CONFIG_X=y\nCONFIG_MODULE_SIG_HASH=\"sha512\"\nCONFIG_MODULE_COMPRESS_XZ=y\n");
    config = read_kernel_config(tree);
    REQUIRE(config);
    CHECK(config->file() == tree / "include/config/auto.conf");
    CHECK(kernel_module_hash(*config) == "sha512");
    CHECK(config->enabled("CONFIG_MODULE_COMPRESS_XZ"));
    CHECK(config->enabled("CONFIG_X"));
    CHECK_FALSE(config->enabled("CONFIG_Y"));
}

TEST_CASE("values keep everything after the first '=' and lose only the string quotes") {
    KernelConfig config("CONFIG_CMDLINE=\"a=b c\"\nCONFIG_NR=64\nCONFIG_M=m\nnot a line\n"
                        "CONFIG_EMPTY=\"\"\n",
                        "x");
    CHECK(config.value("CONFIG_CMDLINE") == "a=b c");
    CHECK(config.value("CONFIG_NR") == "64");
    CHECK(config.value("CONFIG_EMPTY") == "");
    CHECK_FALSE(config.enabled("CONFIG_M"));
}

TEST_CASE("modules are compressed as the kernel compresses its own") {
    auto xz = choice_for("CONFIG_MODULE_COMPRESS=y\nCONFIG_MODULE_COMPRESS_XZ=y\n");
    CHECK(xz.compression == ModuleCompression::Xz);
    CHECK(xz.reason == "CONFIG_MODULE_COMPRESS_XZ=y in k/auto.conf");
    CHECK(xz.note.empty());

    auto zstd = choice_for("CONFIG_MODULE_COMPRESS_ZSTD=y\n");
    CHECK(zstd.compression == ModuleCompression::Zstd);
    CHECK(zstd.reason == "CONFIG_MODULE_COMPRESS_ZSTD=y in k/auto.conf");

    auto none = choice_for("CONFIG_MODULE_COMPRESS_NONE=y\n");
    CHECK(none.compression == ModuleCompression::None);
    CHECK(none.reason == "no CONFIG_MODULE_COMPRESS_XZ/ZSTD in k/auto.conf");
    CHECK(none.note.empty());
    CHECK(choice_for("").compression == ModuleCompression::None);
    CHECK(choice_for("CONFIG_MODULE_COMPRESS_XZ=n\n").compression == ModuleCompression::None);
}

TEST_CASE("a kernel with gzip-compressed modules gets uncompressed ones and a note") {
    auto gzip = choice_for("CONFIG_MODULE_COMPRESS_GZIP=y\n");
    CHECK(gzip.compression == ModuleCompression::None);
    CHECK(gzip.reason == "CONFIG_MODULE_COMPRESS_GZIP=y in k/auto.conf");
    CHECK(gzip.note.find("cannot read .ko.gz") != std::string::npos);
}
