// Several OS releases in one manifest: `targets:`, `targets:` selectors on sources, patches and
// packages, `unsupported:` source entries, and image names that would collide.
#include "build/source_select.hpp"
#include "manifest/image_version.hpp"
#include "manifest/kernel_selector.hpp"
#include "manifest/manifest.hpp"
#include "manifest/manifest_error.hpp"
#include "util/error.hpp"

#include <doctest/doctest.h>
#include <filesystem>
#include <fstream>
#include <string>

namespace fs = std::filesystem;
using namespace ksx::manifest;

namespace {

const std::string head = "apiVersion: kmod-sysext/v1\n"
                         "name: demo\n"
                         "version: 1.0.0\n"; // 3 lines

// Debian 12 with 6.1 and 6.12, Debian 13 with its 6.12 (lines 4-20).
const std::string two_targets = "targets:\n"
                                "  - name: debian-12\n"
                                "    id: debian\n"
                                "    version_id: \"12\"\n"
                                "    architecture: x86-64\n"
                                "    kernels:\n"
                                "      - release: 6.1.0-56-amd64\n"
                                "      - release: 6.12.117+deb12-amd64\n"
                                "    container:\n"
                                "      debian: {suite: bookworm}\n"
                                "  - id: debian\n"
                                "    version_id: \"13\"\n"
                                "    architecture: x86-64\n"
                                "    kernels:\n"
                                "      - release: 6.12.118+deb13-amd64\n"
                                "    container: {debian: {suite: trixie}}\n";

const std::string build = "build:\n"
                          "  commands: [make]\n"
                          "modules:\n"
                          "  - name: demo\n";

Manifest parsed(const std::string& body) {
    fs::create_directories("t/src");
    std::ofstream("t/fix.patch") << "--- a/x\n+++ b/x\n";
    return parse(head + body, "t/m.yaml");
}

std::string error_of(const std::string& body) {
    try {
        parsed(body);
    } catch (const ManifestError& e) {
        return e.what();
    }
    return "no error";
}

} // namespace

TEST_CASE("a targets: list gives each target its identity, kernels and container") {
    auto m = parsed(two_targets + "source: {path: src}\n" + build);
    CHECK(m.target_list);
    REQUIRE(m.targets.size() == 2);
    CHECK(m.targets[0].name == "debian-12");
    CHECK(m.targets[0].field == "targets[0]");
    CHECK(m.targets[0].os.version_id == "12");
    CHECK(m.targets[0].kernels.size() == 2);
    CHECK(m.targets[0].container.debian.suite == "bookworm");
    CHECK(m.targets[1].name == "debian-13"); // <id>-<version_id> by default
    CHECK(m.targets[1].os.version_id == "13");
    REQUIRE(m.targets[1].kernels.size() == 1);
    CHECK(m.targets[1].kernels[0].value == "6.12.118+deb13-amd64");
    CHECK(m.targets[1].kernels[0].where.line == 18);
    CHECK(m.targets[1].container.debian.suite == "trixie");
    // The manifest works on the first target until with_target() picks another.
    CHECK(m.target_name == "debian-12");
    auto second = with_target(m, 1);
    CHECK(second.target_name == "debian-13");
    CHECK(second.target.version_id == "13");
    CHECK(second.kernels.size() == 1);
    CHECK(second.container.debian.suite == "trixie");
    CHECK(find_target(m, "debian-13", "--target") == 1);
    CHECK_THROWS_WITH_AS(find_target(m, "debian-14", "--target"),
                         "--target: m.yaml has no target \"debian-14\" (targets: debian-12, "
                         "debian-13)",
                         ksx::InputError);
}

TEST_CASE("the single-target form is one target named after its identity") {
    auto m = parsed("target: {id: debian, sysext_level: \"1.0\", architecture: arm64}\n"
                    "kernels: [{release: 6.1.0-56-arm64}]\n"
                    "source: {path: src}\n" +
                    build);
    CHECK_FALSE(m.target_list);
    REQUIRE(m.targets.size() == 1);
    CHECK(m.targets[0].name == "debian-1.0");
    CHECK(m.targets[0].field == "target");
    CHECK(m.target_name == "debian-1.0");
    CHECK(m.target.sysext_level == "1.0");
    CHECK(m.kernels.size() == 1);
    CHECK(m.container.kind == ContainerSpec::Kind::Debian);
}

TEST_CASE("targets: excludes target:, kernels: and container: and names both") {
    CHECK(error_of("target: {id: debian, version_id: \"12\", architecture: x86-64}\n" +
                   two_targets + "source: {path: src}\n" + build) ==
          "t/m.yaml:4:9: error: target: not with \"targets\" (line 6): each item of targets has "
          "its own id, kernels and container; move \"target\" into them\n"
          "target: {id: debian, version_id: \"12\", architecture: x86-64}\n"
          "        ^");
    CHECK(error_of(two_targets + "kernels: [{release: 6.1.0-56-amd64}]\nsource: {path: src}\n" +
                   build) ==
          "t/m.yaml:20:10: error: kernels: not with \"targets\" (line 5): each item of targets "
          "has its own id, kernels and container; move \"kernels\" into them\n"
          "kernels: [{release: 6.1.0-56-amd64}]\n"
          "         ^");
    CHECK(error_of("source: {path: src}\n" + build) ==
          "t/m.yaml:1:1: error: missing required field \"target\" (or \"targets\" for several OS "
          "releases)\n"
          "apiVersion: kmod-sysext/v1\n"
          "^");
}

TEST_CASE("target names are unique, defaults included") {
    auto dup = two_targets;
    dup.replace(dup.find("version_id: \"13\""), 16, "version_id: \"12\"");
    CHECK(error_of(dup + "source: {path: src}\n" + build) ==
          "t/m.yaml:14:5: error: targets[1]: target name \"debian-12\" is already used by "
          "targets[0] (names default to <id>-<version_id>: set \"name\" on one of them)\n"
          "  - id: debian\n"
          "    ^");
    auto named = two_targets;
    named.replace(named.find("  - id: debian\n"), 15, "  - name: debian-12\n    id: debian\n");
    CHECK(error_of(named + "source: {path: src}\n" + build)
              .starts_with("t/m.yaml:14:11: error: targets[1].name: target name \"debian-12\" is "
                           "already used by "
                           "targets[0]\n"));
    CHECK(error_of("targets:\n  - name: \"-x\"\n    id: debian\n    version_id: \"12\"\n"
                   "    architecture: x86-64\n    kernels: [{release: 6.1.0-56-amd64}]\n"
                   "source: {path: src}\n" +
                   build)
              .starts_with("t/m.yaml:5:11: error: targets[0].name: \"-x\" is not a valid target "
                           "name"));
}

TEST_CASE("a targets: selector must name a target") {
    CHECK(error_of(two_targets + "sources:\n  - path: src\n    targets: [debian-12, debian-14]\n" +
                   build) ==
          "t/m.yaml:22:26: error: sources[0].targets[1]: no target is called \"debian-14\" "
          "(targets: debian-12, debian-13)\n"
          "    targets: [debian-12, debian-14]\n"
          "                         ^");
    CHECK(error_of(two_targets +
                   "source: {path: src}\npatches:\n  - file: fix.patch\n"
                   "    targets: [debian]\n" +
                   build)
              .starts_with("t/m.yaml:23:15: error: patches[0].targets[0]: no target is called "
                           "\"debian\""));
    CHECK(error_of(two_targets +
                   "source: {path: src}\npackages:\n  - apt: nvidia-smi\n"
                   "    targets: []\n" +
                   build)
              .starts_with("t/m.yaml:23:14: error: packages[0].targets: must not be empty"));
}

TEST_CASE("sources, patches and packages apply where both kernels: and targets: select") {
    auto m = parsed(two_targets +
                    "sources:\n"
                    "  - path: src\n"
                    "    targets: [debian-13]\n"
                    "    image_version: 1.0.0-trixie\n"
                    "  - path: src\n"
                    "    kernels: {match: \"6.12.*\"}\n"
                    "  - unsupported: \"demo 1.0 does not build on 6.1 (in-kernel API gone)\"\n"
                    "    targets: [debian-12]\n"
                    "patches:\n"
                    "  - file: fix.patch\n"
                    "    kernels: {min: \"6.12\"}\n"
                    "    targets: [debian-12]\n"
                    "packages:\n"
                    "  - apt: demo-tools\n"
                    "    targets: [debian-13]\n" +
                    build);
    auto d12 = with_target(m, 0);
    auto d13 = with_target(m, 1);
    // The first entry that selects wins, as for kernels alone.
    CHECK(source_for(d13, "6.12.118+deb13-amd64") == &d13.sources[0]);
    CHECK(image_version(d13, "6.12.118+deb13-amd64") == "1.0.0-trixie");
    CHECK(source_for(d12, "6.12.117+deb12-amd64") == &d12.sources[1]);
    CHECK(image_version(d12, "6.12.117+deb12-amd64") == "1.0.0");

    auto choice = ksx::build::choose(d12, "6.12.117+deb12-amd64");
    REQUIRE(choice.source == &d12.sources[1]);
    REQUIRE(choice.patches.size() == 1);
    CHECK(choice.packages.empty());
    auto trixie = ksx::build::choose(d13, "6.12.118+deb13-amd64");
    CHECK(trixie.patches.empty()); // the patch is for debian-12 only
    CHECK(trixie.packages.size() == 1);

    // 6.1 on debian-12: the unsupported entry, with its reason, and no image version of its own.
    auto old = ksx::build::choose(d12, "6.1.0-56-amd64");
    CHECK(old.source == nullptr);
    CHECK(old.skip_reason == "demo 1.0 does not build on 6.1 (in-kernel API gone)");
    CHECK(source_for(d12, "6.1.0-56-amd64")->kind == SourceSpec::Kind::Unsupported);
    // The entries tried name their targets when no entry selects a kernel.
    CHECK(describe(KernelSelector{}, {"debian-13"}) == "any kernel, targets debian-13");
}

TEST_CASE("an unsupported: entry takes a reason and only kernels: and targets:") {
    CHECK(error_of(two_targets + "sources:\n  - unsupported: \"\"\n  - path: src\n" + build)
              .starts_with("t/m.yaml:21:18: error: sources[0].unsupported: must not be empty"));
    CHECK(error_of(two_targets +
                   "sources:\n  - unsupported: too new\n    image_version: \"2\"\n"
                   "  - path: src\n" +
                   build)
              .starts_with("t/m.yaml:22:20: error: sources[0].image_version: not with "
                           "\"unsupported\" (which takes only \"kernels\" and \"targets\")"));
    CHECK(error_of(two_targets + "sources:\n  - unsupported: x\n    path: src\n" + build)
              .starts_with("t/m.yaml:21:5: error: sources[0]: set exactly one of \"path\", "
                           "\"apt\", \"url\" and \"unsupported\""));
    // `source:` is one source for every kernel: an unsupported one would build nothing.
    CHECK(error_of(two_targets + "source: {unsupported: x}\n" + build)
              .starts_with("t/m.yaml:20:10: error: source: unknown key \"unsupported\""));
}

TEST_CASE("two kernels whose images would get one file name are an error naming both") {
    auto same = two_targets;
    same.replace(same.find("6.12.118+deb13-amd64"), 20, "6.12.117+deb12-amd64");
    CHECK(error_of(same + "source: {path: src}\n" + build) ==
          "t/m.yaml:18:9: error: targets[1].kernels[0]: target debian-13 kernel "
          "6.12.117+deb12-amd64 and target debian-12 kernel 6.12.117+deb12-amd64 would both make "
          "the image demo_1.0.0_6.12.117+deb12-amd64.raw\n"
          "      - release: 6.12.117+deb12-amd64\n"
          "        ^");
    // Different image versions per target make different names: no collision.
    auto m = parsed(same +
                    "sources:\n  - path: src\n    targets: [debian-13]\n"
                    "    image_version: 1.0.0-trixie\n  - path: src\n" +
                    build);
    CHECK(m.targets.size() == 2);
}
