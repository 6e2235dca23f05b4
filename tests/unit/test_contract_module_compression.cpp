#include "contract/module_compression.hpp"
#include "manifest/manifest.hpp"
#include "sign/module_compression.hpp"

#include <doctest/doctest.h>
#include <type_traits>

using namespace ksx;
using contract::ModuleCompression;

TEST_CASE("each module compression has one name, and the name gives it back") {
    for (auto compression : contract::kModuleCompressions) {
        CHECK(contract::module_compression_named(contract::to_string(compression)) == compression);
    }
    CHECK(std::string_view(contract::to_string(ModuleCompression::None)) == "none");
    CHECK(std::string_view(contract::to_string(ModuleCompression::Xz)) == "xz");
    CHECK(std::string_view(contract::to_string(ModuleCompression::Zstd)) == "zstd");
}

TEST_CASE("a name that is no module compression gives nothing") {
    CHECK_FALSE(contract::module_compression_named("gzip"));
    CHECK_FALSE(contract::module_compression_named("XZ"));
    CHECK_FALSE(contract::module_compression_named(""));
}

TEST_CASE("the manifest's choice and the signing stage's are the one type") {
    // Carried from the manifest to the build without a conversion.
    CHECK(std::is_same_v<manifest::ModuleCompression, sign::ModuleCompression>);
    manifest::ImageSpec image;
    image.module_compression = ModuleCompression::Xz;
    sign::CompressionChoice choice{*image.module_compression, "image.module_compression", {}};
    CHECK(choice.compression == ModuleCompression::Xz);
    CHECK(sign::module_suffix(choice.compression) == ".ko.xz");
}
