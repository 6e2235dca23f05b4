// Manifests as registries send them: indexes, image manifests, their media types.
#include "fetch/oci_manifest.hpp"
#include "util/error.hpp"

#include <doctest/doctest.h>
#include <string>

using namespace ksx::fetch;

namespace {

const std::string kA = "sha256:" + std::string(64, 'a');
const std::string kB = "sha256:" + std::string(64, 'b');
const std::string kC = "sha256:" + std::string(64, 'c');

std::string image_json(const std::string& media_type_field) {
    return "{\"schemaVersion\": 2," + media_type_field +
           "\"config\": {\"mediaType\": \"application/vnd.oci.image.config.v1+json\", "
           "\"digest\": \"" +
           kA +
           "\", \"size\": 7},"
           "\"layers\": [{\"mediaType\": \"application/vnd.oci.image.layer.v1.tar+zstd\", "
           "\"digest\": \"" +
           kB + "\", \"size\": 12}]}";
}

const std::string kIndex =
    R"({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": [
      {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": ")" +
    kA + R"(", "size": 1, "platform": {"os": "linux", "architecture": "amd64"}},
      {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": ")" +
    kB +
    R"(", "size": 1, "platform": {"os": "unknown", "architecture": "unknown"}},
      {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": ")" +
    kC +
    R"(", "size": 1, "platform": {"os": "linux", "architecture": "arm64", "variant": "v8"}}]})";

} // namespace

TEST_CASE("an image manifest gives its config and layers, bottom first") {
    auto manifest = parse_manifest(
        image_json(R"("mediaType": "application/vnd.oci.image.manifest.v1+json",)"), "", "img");
    CHECK(manifest.kind == ManifestDocument::Kind::Image);
    CHECK(manifest.config.digest == kA);
    CHECK(manifest.config.size == 7);
    REQUIRE(manifest.layers.size() == 1);
    CHECK(manifest.layers[0].digest == kB);
    CHECK(manifest.layers[0].media_type == "application/vnd.oci.image.layer.v1.tar+zstd");
    CHECK(is_supported_layer(manifest.layers[0].media_type));
    CHECK_FALSE(is_supported_layer("application/vnd.oci.image.layer.nondistributable.v1.tar"));
}

TEST_CASE("a manifest's type comes from its mediaType, else the Content-Type, else its fields") {
    CHECK(parse_manifest(image_json(""), std::string(media_type::kDockerManifest), "img")
              .media_type == media_type::kDockerManifest);
    CHECK(parse_manifest(image_json(""), "", "img").media_type == media_type::kOciManifest);
    CHECK(parse_manifest(kIndex, "", "img").kind == ManifestDocument::Kind::Index);
    CHECK_THROWS_WITH_AS(parse_manifest(R"({"schemaVersion": 1})",
                                        "application/vnd.docker.distribution.manifest.v1+prettyjws",
                                        "img"),
                         "img: a Docker schema 1 manifest; push the image again with a current "
                         "tool (schema 2 or OCI)",
                         ksx::InputError);
    CHECK_THROWS_WITH_AS(parse_manifest("[1]", "", "img"), "img: the manifest is not a JSON object",
                         ksx::InputError);
    CHECK_THROWS_WITH_AS(parse_manifest(R"({"mediaType": "text/plain"})", "", "img"),
                         "img: unsupported manifest media type \"text/plain\"", ksx::InputError);
    CHECK_THROWS_WITH_AS(
        parse_manifest(R"({"mediaType": "application/vnd.oci.image.manifest.v1+json",
                           "config": {"digest": "sha512:00"}, "layers": []})",
                       "", "img"),
        "img: config has digest \"sha512:00\"; only sha256 digests are supported", ksx::InputError);
}

TEST_CASE("an index entry is chosen by platform, attestations passed over") {
    auto index = parse_manifest(kIndex, "", "img");
    REQUIRE(index.manifests.size() == 3);
    CHECK(select_platform(index, {"linux", "amd64", ""})->digest == kA);
    CHECK(select_platform(index, {"linux", "arm64", ""})->digest == kC);
    CHECK(select_platform(index, {"linux", "arm64", "v8"})->digest == kC);
    CHECK_FALSE(select_platform(index, {"linux", "arm64", "v9"}));
    CHECK_FALSE(select_platform(index, {"linux", "riscv64", ""}));
    CHECK(offered_platforms(index) == "linux/amd64, linux/arm64/v8");
}

TEST_CASE("an image configuration names its platform") {
    auto platform =
        config_platform(R"({"os": "linux", "architecture": "arm", "variant": "v7"})", "img");
    CHECK(platform.text() == "linux/arm/v7");
    CHECK_THROWS_AS(config_platform("nope", "img"), ksx::InputError);
}
