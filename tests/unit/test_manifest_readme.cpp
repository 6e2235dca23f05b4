// manifests/README.md shows a complete manifest and an error message: both must stay true.
#include "manifest/manifest.hpp"
#include "manifest/manifest_error.hpp"
#include "util/file_io.hpp"

#include <doctest/doctest.h>
#include <filesystem>
#include <string>

namespace fs = std::filesystem;
using namespace ksx::manifest;

namespace {

const fs::path manifests_dir = fs::path(KSX_SOURCE_DIR) / "manifests";

// The body of the first fenced block that starts with "```" + `kind` after `after`.
std::string fenced_block(const std::string& kind, const std::string& after) {
    auto text = ksx::read_file(manifests_dir / "README.md");
    auto start = text.find("```" + kind + "\n", text.find(after));
    REQUIRE(start != std::string::npos);
    start = text.find('\n', start) + 1;
    auto end = text.find("```", start);
    REQUIRE(end != std::string::npos);
    return text.substr(start, end - start);
}

} // namespace

TEST_CASE("the complete example in the manifest documentation is valid") {
    // Parsed as if it sat next to hello.yaml, whose sources it names.
    auto m = parse(fenced_block("yaml", "## A complete example"), manifests_dir / "example.yaml");
    CHECK(m.name == "hello");
    CHECK(m.kernels.size() == 2);
    CHECK(m.container.debian.packages == std::vector<std::string>{"bc"});
    CHECK(m.source_dir == manifests_dir / "hello");
    CHECK(m.image.level == 19);
}

TEST_CASE("the error shown in the manifest documentation is the one kmod-sysext prints") {
    auto shown = fenced_block("", "## Errors");
    auto manifest = fenced_block("yaml", "## A complete example");
    // The documented file has a misspelt first kernel on line 9.
    auto at = manifest.find("  - package: linux-headers-amd64");
    REQUIRE(at != std::string::npos);
    manifest.replace(at, manifest.find('\n', at) - at, "  - relase: 6.1.0-28-amd64");
    try {
        parse(manifest, "manifests/nvidia.yaml");
        FAIL("no error");
    } catch (const ManifestError& e) {
        CHECK(std::string(e.what()) + "\n" == shown);
    }
}

TEST_CASE("the targets: example in the manifest documentation is valid") {
    auto targets = fenced_block("yaml", "### `targets`");
    auto m =
        parse("apiVersion: kmod-sysext/v1\nname: hello\nversion: 1.0.0\n" + targets +
                  "source: {path: hello}\nbuild: {commands: [make]}\nmodules: [{name: hello}]\n",
              manifests_dir / "example.yaml");
    REQUIRE(m.targets.size() == 2);
    CHECK(m.targets[0].kernels.size() == 2);
    CHECK(m.targets[1].container.debian.suite == "trixie");
}

TEST_CASE("the multi-release example manifest is valid") {
    auto m = load(manifests_dir / "multi-release.yaml");
    REQUIRE(m.targets.size() == 2);
    CHECK(m.targets[0].name == "debian-12");
    CHECK(m.targets[0].os.version_id == "12");
    CHECK(m.targets[0].container.debian.suite == "bookworm");
    CHECK(m.targets[1].name == "debian-13");
    CHECK(m.targets[1].os.version_id == "13");
    CHECK(m.targets[1].container.debian.suite == "trixie");
}
