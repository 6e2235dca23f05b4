// plan(): one entry per kernel spec, sorted, with cache keys over everything a build reads
// locally; the three output shapes.
#include "plan/local_inputs.hpp"
#include "plan/plan.hpp"
#include "util/error.hpp"
#include "util/file_io.hpp"
#include "util/sha256.hpp"

#include <doctest/doctest.h>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace fs = std::filesystem;
using ksx::plan::PlanInputs;

namespace {

// manifests/hello.yaml with absolute source paths and `kernels` as its kernel list.
std::string hello_text(const std::string& kernels) {
    auto text = ksx::read_file(fs::path(KSX_SOURCE_DIR) / "manifests/hello.yaml");
    auto replace = [&](const std::string& from, const std::string& to) {
        auto at = text.find(from);
        REQUIRE(at != std::string::npos);
        text.replace(at, from.size(), to);
    };
    replace("  - package: linux-headers-amd64\n", kernels);
    replace("  path: hello\n", "  path: " KSX_SOURCE_DIR "/manifests/hello\n");
    replace("source: hello/hello.conf", "source: " KSX_SOURCE_DIR "/manifests/hello/hello.conf");
    return text;
}

struct Loaded {
    std::string text;
    ksx::manifest::Manifest manifest;
    PlanInputs inputs() const { return {text, ksx::plan::local_inputs(manifest, {}), {}}; }
};

Loaded load(const std::string& kernels) {
    Loaded result;
    result.text = hello_text(kernels);
    std::ofstream("plan.yaml") << result.text;
    // The sources stay in the source tree, which the command line would allow.
    ksx::manifest::LoadOptions options;
    options.allowed_paths = {fs::path(KSX_SOURCE_DIR) / "manifests/hello"};
    result.manifest = ksx::manifest::load(fs::absolute("plan.yaml"), options);
    return result;
}

const char* two_kernels = "  - package: linux-headers-amd64\n"
                          "  - release: 6.12.117+deb12-amd64\n";

// A checkout in `dir`: manifests/hello.yaml with its relative paths, manifests/hello/, a patch
// and a signing section; `key` and `cert` files next to it.
fs::path checkout(const fs::path& dir) {
    fs::remove_all(dir);
    fs::create_directories(dir);
    fs::copy(fs::path(KSX_SOURCE_DIR) / "manifests/hello", dir / "hello",
             fs::copy_options::recursive);
    std::ofstream(dir / "fix.patch") << "--- a/Makefile\n+++ b/Makefile\n";
    std::ofstream(dir / "key.pem") << "private";
    std::ofstream(dir / "cert.pem") << "certificate";
    auto text = ksx::read_file(fs::path(KSX_SOURCE_DIR) / "manifests/hello.yaml");
    text += "patches:\n  - fix.patch\nsigning:\n  modules:\n    key: key.pem\n    cert: cert.pem\n";
    std::ofstream(dir / "hello.yaml") << text;
    return fs::absolute(dir / "hello.yaml");
}

std::string key_of(const fs::path& manifest_file) {
    auto manifest = ksx::manifest::load(manifest_file);
    PlanInputs inputs{ksx::read_file(manifest_file), ksx::plan::local_inputs(manifest, {}), {}};
    auto entries = ksx::plan::plan(manifest, inputs);
    REQUIRE(entries.size() == 1);
    return entries[0].cache_key;
}

} // namespace

TEST_CASE("a plan has one entry per kernel spec, sorted by id") {
    auto loaded = load(two_kernels);
    auto inputs = loaded.inputs();
    auto entries = ksx::plan::plan(loaded.manifest, inputs);
    REQUIRE(entries.size() == 2);
    CHECK(entries[0].id == "6.12.117-deb12-amd64");
    CHECK(entries[0].kernel == "6.12.117+deb12-amd64");
    CHECK(entries[0].release == "6.12.117+deb12-amd64");
    CHECK(entries[1].id == "package-linux-headers-amd64");
    CHECK(entries[1].kernel == "package:linux-headers-amd64");
    CHECK(entries[1].release.empty()); // not resolved
    auto nul = std::string(1, '\0');
    CHECK(entries[1].cache_key ==
          ksx::sha256_hex("kmod-sysext " KSX_VERSION + nul + loaded.text + nul +
                          inputs.local_inputs + nul + "package:linux-headers-amd64" + nul));
}

TEST_CASE("the cache key changes with the manifest text and not with the kernel order") {
    auto a = load(two_kernels);
    auto b = load("  - release: 6.12.117+deb12-amd64\n  - package: linux-headers-amd64\n");
    auto pa = ksx::plan::plan(a.manifest, a.inputs());
    auto pb = ksx::plan::plan(b.manifest, b.inputs());
    REQUIRE(pb.size() == 2);
    CHECK(pa[0].id == pb[0].id);
    CHECK(pa[1].id == pb[1].id);
    CHECK(pa[0].cache_key != pb[0].cache_key); // the text differs
    CHECK(ksx::plan::plan(a.manifest, a.inputs())[0].cache_key == pa[0].cache_key);
}

TEST_CASE("local inputs are listed by field with their digests, never a private key") {
    auto file = checkout("inputs-a");
    auto manifest = ksx::manifest::load(file);
    auto text = ksx::plan::local_inputs(
        manifest, {fs::absolute("inputs-a/cert.pem"), fs::absolute("inputs-a/missing.pem")});
    auto dir = fs::absolute("inputs-a");
    CHECK(text == "source tree " + ksx::plan::tree_digest(dir / "hello") + "\n" +
                      "patches[0] file " + ksx::sha256_file_hex(dir / "fix.patch") + "\n" +
                      "files[0] file " + ksx::sha256_file_hex(dir / "hello/hello.conf") + "\n" +
                      "signing.modules cert " + ksx::sha256_hex("certificate") + "\n" +
                      "--sign-cert cert " + ksx::sha256_hex("certificate") + "\n" +
                      "--sign-cert cert absent\n");
    CHECK(text.find(ksx::sha256_hex("private")) == std::string::npos);
    CHECK(text.find(dir.string()) == std::string::npos); // by field, not by path
}

TEST_CASE("editing a local source, patch, file or certificate changes the cache key") {
    auto file = checkout("edits");
    auto dir = file.parent_path();
    auto key = key_of(file);
    CHECK(key_of(file) == key);
    auto changes = [&](const std::string& what) {
        INFO(what);
        auto now = key_of(file);
        CHECK(now != key);
        key = now;
    };
    std::ofstream(dir / "hello/hello.c", std::ios::app) << "/* edited */\n";
    changes("a source file's content");
    std::ofstream(dir / "hello/new.h") << "#pragma once\n";
    changes("a new source file");
    fs::permissions(dir / "hello/Makefile", fs::perms::owner_exec, fs::perm_options::add);
    changes("a source file's executable bit");
    fs::create_symlink("hello.c", dir / "hello/link.c");
    changes("a symlink in the source tree");
    std::ofstream(dir / "fix.patch", std::ios::app) << "@@ -1 +1 @@\n";
    changes("a patch");
    std::ofstream(dir / "hello/hello.conf", std::ios::app) << "more\n";
    changes("a files: entry");
    std::ofstream(dir / "cert.pem") << "another certificate";
    changes("the signing certificate");

    std::ofstream(dir / "key.pem") << "another private key";
    fs::permissions(dir / "hello/hello.c", fs::perms::group_write, fs::perm_options::add);
    fs::create_directories(dir / "hello/.git/objects");
    std::ofstream(dir / "hello/.git/HEAD") << "ref: refs/heads/main\n";
    CHECK(key_of(file) == key); // the private key, non-exec mode bits and .git are not inputs
}

TEST_CASE("the same checkout in two directories has the same cache keys") {
    CHECK(key_of(checkout("checkout-one")) == key_of(checkout("elsewhere/checkout-two")));
}

TEST_CASE("a missing local input names its field") {
    auto file = checkout("missing");
    auto manifest = ksx::manifest::load(file);
    fs::remove(file.parent_path() / "fix.patch");
    CHECK_THROWS_WITH_AS(
        ksx::plan::local_inputs(manifest, {}),
        ("patches[0]: " + (file.parent_path() / "fix.patch").string() + " does not exist").c_str(),
        ksx::InputError);
}

TEST_CASE("a resolved package: kernel carries its release into the entry and the key") {
    auto loaded = load(two_kernels);
    auto inputs = loaded.inputs();
    auto unresolved = ksx::plan::plan(loaded.manifest, inputs);
    inputs.releases[ksx::plan::release_key(loaded.manifest.target_name,
                                           "package:linux-headers-amd64")] = "6.1.0-56-amd64";
    auto resolved = ksx::plan::plan(loaded.manifest, inputs);
    CHECK(resolved[1].release == "6.1.0-56-amd64");
    CHECK(resolved[1].id == unresolved[1].id); // `build --only` still finds it
    CHECK(resolved[1].cache_key != unresolved[1].cache_key);
    CHECK(resolved[0].cache_key == unresolved[0].cache_key); // a literal release: as before
    inputs.releases[ksx::plan::release_key(loaded.manifest.target_name,
                                           "package:linux-headers-amd64")] =
        "6.1.0-57-amd64"; // Debian's ABI bump
    CHECK(ksx::plan::plan(loaded.manifest, inputs)[1].cache_key != resolved[1].cache_key);
}

TEST_CASE("plan prints the JSON, GitHub and GitLab shapes exactly") {
    auto loaded = load("  - release: 6.1.0-56-amd64\n");
    auto entries = ksx::plan::plan(loaded.manifest, loaded.inputs());
    REQUIRE(entries.size() == 1);
    const auto& key = entries[0].cache_key;
    CHECK(ksx::plan::plan_json(loaded.manifest, entries) ==
          "{\n  \"name\": \"hello\",\n  \"version\": \"1.0.0\",\n  \"include\": [\n    {\n"
          "      \"entry\": \"6.1.0-56-amd64\",\n      \"kernel\": \"6.1.0-56-amd64\",\n"
          "      \"release\": \"6.1.0-56-amd64\",\n"
          "      \"cache_key\": \"" +
              key + "\"\n    }\n  ]\n}\n");
    CHECK(ksx::plan::plan_github(entries) ==
          "matrix={\"include\":[{\"entry\":\"6.1.0-56-amd64\",\"kernel\":\"6.1.0-56-amd64\","
          "\"release\":\"6.1.0-56-amd64\",\"cache_key\":\"" +
              key + "\"}]}\n");
    CHECK(ksx::plan::plan_gitlab(entries) ==
          "# Generated by `kmod-sysext plan --format gitlab`: a child pipeline.\n"
          "kmod-sysext-build:\n"
          "  extends: .kmod-sysext-build\n"
          "  parallel:\n"
          "    matrix:\n"
          "      - KSX_ENTRY: \"6.1.0-56-amd64\"\n"
          "        KSX_KERNEL: \"6.1.0-56-amd64\"\n"
          "        KSX_RELEASE: \"6.1.0-56-amd64\"\n"
          "        KSX_CACHE_KEY: \"" +
              key + "\"\n");
}

TEST_CASE("an unresolved package: kernel has no release in any shape") {
    auto loaded = load("  - package: linux-headers-amd64\n");
    auto entries = ksx::plan::plan(loaded.manifest, loaded.inputs());
    REQUIRE(entries.size() == 1);
    const auto& key = entries[0].cache_key;
    CHECK(ksx::plan::plan_json(loaded.manifest, entries)
              .find("      \"kernel\": \"package:linux-headers-amd64\",\n"
                    "      \"release\": null,\n") != std::string::npos);
    CHECK(ksx::plan::plan_github(entries) ==
          "matrix={\"include\":[{\"entry\":\"package-linux-headers-amd64\","
          "\"kernel\":\"package:linux-headers-amd64\",\"release\":null,\"cache_key\":\"" +
              key + "\"}]}\n");
    CHECK(ksx::plan::plan_gitlab(entries).find("        KSX_RELEASE: \"\"\n") != std::string::npos);
}

TEST_CASE("an unknown entry id names the entries there are") {
    auto loaded = load(two_kernels);
    auto entries = ksx::plan::plan(loaded.manifest, {});
    CHECK(&ksx::plan::find_entry(entries, "package-linux-headers-amd64") == &entries[1]);
    CHECK_THROWS_WITH_AS(ksx::plan::find_entry(entries, "6.1"),
                         "--only: no plan entry \"6.1\" (entries: 6.12.117-deb12-amd64, "
                         "package-linux-headers-amd64)",
                         ksx::InputError);
}

TEST_CASE("two kernel specs that make the same id are refused") {
    auto loaded = load("  - release: 6.1.0+x\n  - release: 6.1.0-x\n");
    CHECK_THROWS_WITH_AS(ksx::plan::plan(loaded.manifest, {}),
                         "kernels \"6.1.0+x\" and \"6.1.0-x\" both make the plan entry \"6.1.0-x\"",
                         ksx::InputError);
}

namespace {

// hello for Debian 12 (6.1 literal, 6.12 by package) and Debian 13 (its kernel by package),
// with `sources` as given.
Loaded load_targets(const std::string& sources) {
    Loaded result;
    result.text = "apiVersion: kmod-sysext/v1\n"
                  "name: hello\n"
                  "version: 1.0.0\n"
                  "targets:\n"
                  "  - name: debian-12\n"
                  "    id: debian\n"
                  "    version_id: \"12\"\n"
                  "    architecture: x86-64\n"
                  "    kernels:\n"
                  "      - release: 6.1.0-56-amd64\n"
                  "      - package: linux-headers-6.12-amd64\n"
                  "    container: {debian: {suite: bookworm}}\n"
                  "  - name: debian-13\n"
                  "    id: debian\n"
                  "    version_id: \"13\"\n"
                  "    architecture: x86-64\n"
                  "    kernels:\n"
                  "      - package: linux-headers-amd64\n"
                  "    container: {debian: {suite: trixie}}\n" +
                  sources + "build:\n  commands: [make]\nmodules:\n  - name: hello\n";
    std::ofstream("targets.yaml") << result.text;
    // The sources stay in the source tree, which the command line would allow.
    ksx::manifest::LoadOptions options;
    options.allowed_paths = {fs::path(KSX_SOURCE_DIR) / "manifests/hello"};
    result.manifest = ksx::manifest::load(fs::absolute("targets.yaml"), options);
    return result;
}

const std::string hello_source = "source:\n  path: " KSX_SOURCE_DIR "/manifests/hello\n";

} // namespace

TEST_CASE("a manifest with targets: plans one entry per target and kernel") {
    auto loaded = load_targets(hello_source);
    auto inputs = loaded.inputs();
    auto entries = ksx::plan::plan(loaded.manifest, inputs);
    REQUIRE(entries.size() == 3);
    CHECK(entries[0].id == "debian-12_6.1.0-56-amd64");
    CHECK(entries[0].target == "debian-12");
    CHECK(entries[0].kernel == "6.1.0-56-amd64");
    CHECK(entries[1].id == "debian-12_package-linux-headers-6.12-amd64");
    CHECK(entries[2].id == "debian-13_package-linux-headers-amd64");
    CHECK(entries[2].target == "debian-13");
    CHECK(entries[2].kernel == "package:linux-headers-amd64");
    auto nul = std::string(1, '\0');
    CHECK(entries[2].cache_key ==
          ksx::sha256_hex("kmod-sysext " KSX_VERSION + nul + loaded.text + nul +
                          inputs.local_inputs + nul + "package:linux-headers-amd64" + nul + nul +
                          "debian-13"));
    CHECK(ksx::plan::find_entry(entries, "debian-13_package-linux-headers-amd64").target ==
          "debian-13");
    // Each target's entry is in the JSON and the GitLab matrix with its target.
    auto json = ksx::plan::plan_json(loaded.manifest, entries);
    CHECK(json.find("      \"entry\": \"debian-13_package-linux-headers-amd64\",\n"
                    "      \"target\": \"debian-13\",\n"
                    "      \"kernel\": \"package:linux-headers-amd64\",\n") != std::string::npos);
    CHECK(json.find("skipped") == std::string::npos);
    CHECK(ksx::plan::plan_gitlab(entries).find("      - KSX_ENTRY: \"debian-12_6.1.0-56-amd64\"\n"
                                               "        KSX_TARGET: \"debian-12\"\n"
                                               "        KSX_KERNEL: \"6.1.0-56-amd64\"\n") !=
          std::string::npos);
}

TEST_CASE("resolved releases of two targets that would make one image name are an error") {
    auto loaded = load_targets(hello_source);
    auto inputs = loaded.inputs();
    inputs.releases[ksx::plan::release_key("debian-12", "package:linux-headers-6.12-amd64")] =
        "6.12.117+deb12-amd64";
    inputs.releases[ksx::plan::release_key("debian-13", "package:linux-headers-amd64")] =
        "6.12.118+deb13-amd64";
    auto entries = ksx::plan::plan(loaded.manifest, inputs);
    CHECK(entries[1].release == "6.12.117+deb12-amd64");
    CHECK(entries[2].release == "6.12.118+deb13-amd64");
    // A target whose headers resolve to another target's release: both named.
    inputs.releases[ksx::plan::release_key("debian-13", "package:linux-headers-amd64")] =
        "6.12.117+deb12-amd64";
    CHECK_THROWS_WITH_AS(ksx::plan::plan(loaded.manifest, inputs),
                         "targets.yaml: kernel 6.12.117+deb12-amd64 (target debian-12) and kernel "
                         "6.12.117+deb12-amd64 (target debian-13) would both make the image "
                         "hello_1.0.0_6.12.117+deb12-amd64.raw",
                         ksx::InputError);
}

TEST_CASE("kernels an unsupported: entry selects are left out of the matrix, with the reason") {
    auto loaded = load_targets("sources:\n"
                               "  - unsupported: \"hello 1.0 needs 6.12 or later\"\n"
                               "    kernels: {max: \"6.11\"}\n"
                               "  - path: " KSX_SOURCE_DIR "/manifests/hello\n");
    auto entries = ksx::plan::plan(loaded.manifest, loaded.inputs());
    REQUIRE(entries.size() == 3);
    CHECK(entries[0].skipped == "hello 1.0 needs 6.12 or later");
    CHECK(entries[1].skipped.empty()); // release not known: the build decides
    auto json = ksx::plan::plan_json(loaded.manifest, entries);
    CHECK(json.find("\"entry\": \"debian-12_6.1.0-56-amd64\",\n      \"target\"") ==
          json.rfind("\"entry\": \"debian-12_6.1.0-56-amd64\",\n      \"target\"")); // once
    CHECK(json.find("  \"skipped\": [\n    {\n      \"entry\": \"debian-12_6.1.0-56-amd64\",\n"
                    "      \"target\": \"debian-12\",\n      \"kernel\": \"6.1.0-56-amd64\",\n"
                    "      \"release\": \"6.1.0-56-amd64\",\n"
                    "      \"reason\": \"hello 1.0 needs 6.12 or later\"\n    }\n  ]\n") !=
          std::string::npos);
    CHECK(json.find("\"include\": [\n    {\n      \"entry\": \"debian-12_package") !=
          std::string::npos);
    CHECK(ksx::plan::plan_github(entries).find("6.1.0-56-amd64") == std::string::npos);
    CHECK(ksx::plan::skipped_lines(entries) ==
          std::vector<std::string>{"plan: skipped debian-12_6.1.0-56-amd64: kernel 6.1.0-56-amd64 "
                                   "(target debian-12): hello 1.0 needs 6.12 or later"});
}

TEST_CASE("an OCI or OSTree container adds no local input: the manifest names it") {
    auto text = hello_text("  - release: 6.1.0-57-amd64\n");
    auto at = text.find("container:\n  debian:\n    suite: trixie\n");
    REQUIRE(at != std::string::npos);
    text.replace(at, std::string("container:\n  debian:\n    suite: trixie\n").size(),
                 "container:\n  oci:\n    image: registry.example.org/dev:1\n");
    std::ofstream("plan-oci.yaml") << text;
    ksx::manifest::LoadOptions options;
    options.allowed_paths = {fs::path(KSX_SOURCE_DIR) / "manifests/hello"};
    auto manifest = ksx::manifest::load(fs::absolute("plan-oci.yaml"), options);
    std::string inputs;
    REQUIRE_NOTHROW(inputs = ksx::plan::local_inputs(manifest, {}));
    CHECK(inputs.find("container") == std::string::npos);
    CHECK(ksx::plan::plan(manifest, {text, inputs, {}}).size() == 1);
}
