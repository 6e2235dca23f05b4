// index.json as `publish` writes it and `prefetch` reads it: one contract, read back here.
#include "contract/release_index.hpp"
#include "publish/release_files.hpp"
#include "util/error.hpp"

#include <doctest/doctest.h>
#include <optional>
#include <string>
#include <vector>

using namespace ksx;

namespace {

publish::ReleaseImage image(const std::string& name, const std::string& kernel,
                            const std::string& id, const std::string& version_id,
                            const std::string& sysext_level, const std::string& architecture) {
    publish::ReleaseImage i;
    i.name = name;
    i.version = "1.0.0";
    i.kernel = kernel;
    i.image = {name + "_1.0.0_" + kernel + ".raw", {}, std::string(64, 'a'), 4096};
    i.os_id = id;
    i.os_version_id = version_id;
    i.sysext_level = sysext_level;
    i.architecture = architecture;
    i.modules = {"hello_core", "hello"};
    return i;
}

} // namespace

TEST_CASE("what publish writes into index.json, prefetch reads back: names and OS identities") {
    auto signed_image = image("hello", "6.12.118+deb13-amd64", "debian", "13", "", "x86-64");
    signed_image.root_hash = std::string(64, 'b');
    signed_image.signer = "CN=kmod-sysext test";
    signed_image.build_time = 1700000000;
    signed_image.sidecars = {{signed_image.image.file + ".verity", {}, std::string(64, 'c'), 8}};
    std::vector<publish::ReleaseImage> images = {
        signed_image,
        image("hello", "6.6.60-flatcar", "flatcar", "", "1.0", "arm64"),
        image("zfs", "7.2.12+deb14-amd64", "debian", "", "", "x86-64"),
    };
    publish::ReleaseFile activator{"kmod-sysext-activate", {}, std::string(64, 'd'), 228000};
    for (const auto& with_activator :
         {std::optional<publish::ReleaseFile>(), std::optional<publish::ReleaseFile>(activator)}) {
        auto read = contract::parse_release_index(publish::release_index(images, with_activator));
        REQUIRE(read.size() == images.size());
        for (const auto& written : images) {
            CAPTURE(written.image.file);
            REQUIRE(read.contains(written.image.file));
            const auto& os = read.at(written.image.file);
            CHECK(os.id == written.os_id);
            CHECK(os.version_id == written.os_version_id);
            CHECK(os.sysext_level == written.sysext_level);
            CHECK(os.architecture == written.architecture);
        }
    }
}

TEST_CASE("an empty release's index.json reads as no images") {
    CHECK(contract::parse_release_index(publish::release_index({}, std::nullopt)).empty());
}

TEST_CASE("an index.json of another format is refused") {
    auto text = publish::release_index({}, std::nullopt);
    auto at = text.find("\"format\": 1");
    REQUIRE(at != std::string::npos);
    text.replace(at, 11, "\"format\": 2");
    CHECK_THROWS_AS(contract::parse_release_index(text), InputError);
}
