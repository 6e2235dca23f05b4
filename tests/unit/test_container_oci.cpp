// Developer containers pulled from a real registry (docker-registry on 127.0.0.1), from images
// the tests build as OCI layouts and push with skopeo.
#include "container/container.hpp"
#include "container/oci_container.hpp"
#include "fetch/registry_client.hpp"
#include "fetch/transfer_error.hpp"
#include "registry_fixture.hpp"
#include "util/error.hpp"
#include "util/file_io.hpp"
#include "util/image_reference.hpp"

#include <algorithm>
#include <cstdio>
#include <doctest/doctest.h>
#include <filesystem>
#include <string>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

namespace fs = std::filesystem;
using ksx::test::failure;
using ksx::test::listing;
using ksx::test::mode_of;
using namespace ksx::test;

namespace {

const ksx::OciPlatform kAmd64{"linux", "amd64", ""};
const ksx::OciPlatform kArm64{"linux", "arm64", "v8"};

ksx::manifest::OciContainer oci(const std::string& reference,
                                const ksx::OciPlatform& platform = kAmd64) {
    auto parsed = ksx::parse_image_reference(reference);
    REQUIRE_MESSAGE(parsed.problem.empty(), parsed.problem);
    return {parsed.reference, platform, true};
}

ksx::container::PrepareOptions options(ksx::Progress& progress = ksx::Progress::quiet()) {
    return {.cache_dir = fs::absolute("cache"), .progress = progress};
}

// No image root filesystem (complete or partial) in the cache.
bool no_rootfs_cached() {
    const fs::path containers = fs::absolute("cache/containers");
    if (!fs::exists(containers)) {
        return true;
    }
    for (const auto& e : fs::directory_iterator(containers)) {
        if (e.path().filename() != "oci-tags") {
            return false;
        }
    }
    return true;
}

// The three layers of the main test image.
void three_layer_image(OciLayout& layout) {
    auto base = layout.layer({dir_entry("bin"),
                              file_entry("bin/sh", "#!shell\n", 0755),
                              dir_entry("etc"),
                              file_entry("etc/keep", "keep"),
                              file_entry("etc/gone", "gone"),
                              dir_entry("opt"),
                              dir_entry("opt/old"),
                              file_entry("opt/old/a", "a"),
                              dir_entry("opt/old/sub"),
                              file_entry("opt/old/sub/b", "b"),
                              dir_entry("var"),
                              dir_entry("var/cache"),
                              file_entry("var/cache/x", "x"),
                              dir_entry("usr"),
                              dir_entry("usr/lib"),
                              file_entry("usr/lib/file", "lib"),
                              symlink_entry("lib", "usr/lib"),
                              dir_entry("data", 0750),
                              file_entry("data/f", "one", 0600),
                              dir_entry("srv"),
                              file_entry("srv/x", "x")},
                             TarCompression::Gzip);
    auto middle =
        layout.layer({file_entry("etc/.wh.gone", ""), file_entry("var/.wh.cache", ""),
                      // New content of an opaque directory before its marker.
                      file_entry("opt/old/new", "new"), file_entry("opt/old/.wh..wh..opq", ""),
                      // Through the symbolic link lib -> usr/lib of the layer below.
                      file_entry("lib/added", "via link"), file_entry("data/f", "two", 0640),
                      hardlink_entry("data/h", "data/f")},
                     TarCompression::Zstd);
    auto top = layout.layer({file_entry("etc/gone", "back"), file_entry("var/cache", "now a file"),
                             symlink_entry("opt/l", "old"), file_entry("etc/both", "same layer"),
                             file_entry("etc/.wh.both", ""),
                             file_entry("srv", "a file replacing a directory")});
    layout.tag("v1", layout.image({base, middle, top}, kAmd64));
}

} // namespace

TEST_CASE("an image of three layers is applied with its whiteouts, opaque directories and links") {
    LocalRegistry registry("registry");
    OciLayout layout("layout");
    three_layer_image(layout);
    push(layout, "v1", registry.host() + "/kmod-sysext/dev:v1");

    auto image =
        ksx::container::oci_rootfs(oci(registry.host() + "/kmod-sysext/dev:v1"), options());
    const fs::path root = image.root;
    CHECK(root.parent_path().parent_path() == fs::absolute("cache/containers"));
    CHECK(root.parent_path().filename().string().starts_with("oci-"));
    CHECK(image.description.starts_with("oci " + registry.host() +
                                        "/kmod-sysext/dev:v1 for linux/amd64 (sha256:"));
    CHECK(listing(root) == std::vector<std::string>{
                               "bin",      "bin/sh",   "data",          "data/f",       "data/h",
                               "etc",      "etc/both", "etc/gone",      "etc/keep",     "lib",
                               "opt",      "opt/l",    "opt/old",       "opt/old/new",  "srv",
                               "usr",      "usr/lib",  "usr/lib/added", "usr/lib/file", "var",
                               "var/cache"});
    CHECK(ksx::read_file(root / "etc/gone") == "back");
    CHECK(ksx::read_file(root / "etc/both") == "same layer");
    CHECK(ksx::read_file(root / "var/cache") == "now a file");
    CHECK(ksx::read_file(root / "srv") == "a file replacing a directory");
    CHECK(ksx::read_file(root / "usr/lib/added") == "via link");
    CHECK(fs::read_symlink(root / "lib") == "usr/lib");
    CHECK(fs::read_symlink(root / "opt/l") == "old");
    CHECK(ksx::read_file(root / "data/f") == "two");
    CHECK(mode_of(root / "data/f") == 0640);
    CHECK(mode_of(root / "data") == 0750);
    CHECK(mode_of(root / "bin/sh") == 0755);
    CHECK(mode_of(root) == 0755);
    CHECK(fs::equivalent(root / "data/h", root / "data/f"));

    // The root filesystem is the container of a manifest: /bin/sh is found, and no partial
    // directory is left next to it.
    ksx::manifest::ContainerSpec spec;
    spec.kind = ksx::manifest::ContainerSpec::Kind::Oci;
    spec.oci = oci(registry.host() + "/kmod-sysext/dev:v1");
    auto rootfs = ksx::container::prepare(spec, {}, options());
    CHECK(rootfs.root == root);
    for (const auto& e : fs::directory_iterator(root.parent_path())) {
        CHECK(e.path().filename() == "rootfs");
    }

    // Without the registry, the tag's last digest is used from the cache, with a message.
    registry.stop();
    std::FILE* out = std::tmpfile();
    REQUIRE(out != nullptr);
    {
        ksx::Progress progress(ksx::Progress::Mode::Plain, out);
        auto again = ksx::container::oci_rootfs(oci(registry.host() + "/kmod-sysext/dev:v1"),
                                                options(progress));
        CHECK(again.root == root);
    }
    std::rewind(out);
    std::string printed;
    for (int c; (c = std::fgetc(out)) != EOF;) {
        printed += static_cast<char>(c);
    }
    std::fclose(out);
    CHECK(printed.find("registry " + registry.host() + " cannot be reached") != std::string::npos);
    CHECK(printed.find("using the cached image sha256:") != std::string::npos);
    CHECK(printed.find("that tag v1 named when last resolved") != std::string::npos);
}

TEST_CASE("a multi-platform index gives the image of the platform asked for") {
    LocalRegistry registry("registry");
    OciLayout layout("layout");
    auto amd64 = layout.image(
        {layout.layer({file_entry("bin/sh", "sh", 0755), file_entry("arch", "amd64")})}, kAmd64);
    auto arm64 = layout.image(
        {layout.layer({file_entry("bin/sh", "sh", 0755), file_entry("arch", "arm64")})}, kArm64);
    layout.tag("multi", layout.index({amd64, arm64}));
    layout.tag("single", amd64);
    push(layout, "multi", registry.host() + "/dev:multi");
    push(layout, "single", registry.host() + "/dev:single");

    auto on_arm =
        ksx::container::oci_rootfs(oci(registry.host() + "/dev:multi", kArm64), options());
    CHECK(ksx::read_file(on_arm.root / "arch") == "arm64");
    auto on_amd = ksx::container::oci_rootfs(oci(registry.host() + "/dev:multi"), options());
    CHECK(ksx::read_file(on_amd.root / "arch") == "amd64");
    CHECK(on_arm.root != on_amd.root);
    // An arm64 request without a variant takes the v8 image too.
    auto any_arm = ksx::container::oci_rootfs(
        oci(registry.host() + "/dev:multi", {"linux", "arm64", ""}), options());
    CHECK(any_arm.root == on_arm.root);

    CHECK(failure<ksx::InputError>([&] {
              ksx::container::oci_rootfs(
                  oci(registry.host() + "/dev:multi", {"linux", "s390x", ""}), options());
          }) == registry.host() + "/dev:multi: the image has no manifest for linux/s390x (it has: "
                                  "linux/amd64, linux/arm64/v8)");
    CHECK(failure<ksx::InputError>([&] {
              ksx::container::oci_rootfs(oci(registry.host() + "/dev:single", kArm64), options());
          }) == registry.host() + "/dev:single: the image is for linux/amd64, not linux/arm64/v8 "
                                  "(set container.oci.platform to pull it anyway)");
}

TEST_CASE("a digest reference is pulled, and once cached needs no registry") {
    LocalRegistry registry("registry");
    OciLayout layout("layout");
    auto image = layout.image({layout.layer({file_entry("bin/sh", "sh", 0755)})}, kAmd64);
    layout.tag("v1", image);
    push(layout, "v1", registry.host() + "/pinned:v1");

    ksx::fetch::RegistryOptions registry_options;
    registry_options.insecure = true;
    registry_options.download.cache_dir = fs::absolute("cache");
    ksx::fetch::RegistryClient client(oci(registry.host() + "/pinned:v1").image, registry_options);
    const std::string digest = client.resolve(kAmd64).digest;

    const std::string pinned = registry.host() + "/pinned@" + digest;
    auto first = ksx::container::oci_rootfs(oci(pinned), options());
    CHECK(first.root.parent_path().filename() == "oci-" + digest.substr(7));
    registry.stop();
    auto second = ksx::container::oci_rootfs(oci(pinned), options());
    CHECK(second.root == first.root);
}

TEST_CASE("unknown images, tags and digests are input errors; an unreachable registry is not") {
    LocalRegistry registry("registry");
    OciLayout layout("layout");
    layout.tag("v1", layout.image({layout.layer({file_entry("bin/sh", "sh", 0755)})}, kAmd64));
    push(layout, "v1", registry.host() + "/known:v1");

    CHECK(failure<ksx::InputError>([&] {
              ksx::container::oci_rootfs(oci(registry.host() + "/unknown:v1"), options());
          }) == registry.host() + "/unknown:v1: no such image in the registry (HTTP 404, "
                                  "MANIFEST_UNKNOWN: manifest unknown)");
    CHECK(failure<ksx::InputError>([&] {
              ksx::container::oci_rootfs(oci(registry.host() + "/known:v2"), options());
          }) == registry.host() + "/known:v2: no such image in the registry (HTTP 404, "
                                  "MANIFEST_UNKNOWN: manifest unknown)");
    const std::string zeros = "sha256:" + std::string(64, '0');
    CHECK(failure<ksx::InputError>([&] {
              ksx::container::oci_rootfs(oci(registry.host() + "/known@" + zeros), options());
          })
              .starts_with(registry.host() + "/known@" + zeros +
                           ": no such image in the registry (HTTP 404"));

    ksx::fetch::RegistryOptions quick;
    quick.download.cache_dir = fs::absolute("cache");
    quick.download.retries = 1;
    quick.download.retry_base_s = 0.01;
    const std::string closed = "127.0.0.1:" + free_port();
    ksx::fetch::RegistryClient nowhere(oci(closed + "/known:v1").image, quick);
    std::string message;
    try {
        nowhere.resolve(kAmd64);
    } catch (const ksx::fetch::TransferError& e) {
        message = e.what();
        CHECK(e.unreachable());
    }
    CHECK(message.starts_with("registry " + closed + " cannot be reached: https://" + closed +
                              "/v2/: request failed after 2 attempts: "));

    // A plain HTTP registry is not spoken to in plain HTTP unless the manifest says insecure.
    ksx::fetch::RegistryClient strict(oci(registry.host() + "/known:v1").image, quick);
    try {
        strict.resolve(kAmd64);
        FAIL("a plain HTTP registry was used without insecure");
    } catch (const ksx::fetch::TransferError& e) {
        CHECK(e.tls_failure());
        CHECK(std::string(e.what()).starts_with("registry " + registry.host() +
                                                " cannot be reached"));
    }
    CHECK(no_rootfs_cached());
}

TEST_CASE("a blob that does not match its digest is refused before use") {
    LocalRegistry registry("registry");
    OciLayout layout("layout");
    auto layer = layout.layer({file_entry("bin/sh", "sh", 0755), file_entry("data", "genuine")},
                              TarCompression::Gzip);
    layout.tag("v1", layout.image({layer}, kAmd64));
    push(layout, "v1", registry.host() + "/corrupt:v1");

    // skopeo compressed the layer on the way: ask the registry which blob it is.
    ksx::fetch::RegistryOptions registry_options;
    registry_options.insecure = true;
    registry_options.download.cache_dir = fs::absolute("manifests-cache");
    ksx::fetch::RegistryClient client(oci(registry.host() + "/corrupt:v1").image, registry_options);
    const std::string digest = client.resolve(kAmd64).manifest.layers.at(0).digest;

    // The same size, one byte changed: only the digest can tell.
    const auto blob = registry.blob_file(digest);
    std::string bytes = ksx::read_file(blob);
    bytes[bytes.size() / 2] = static_cast<char>(bytes[bytes.size() / 2] ^ 0x20);
    std::ofstream(blob, std::ios::binary | std::ios::trunc) << bytes;

    const std::string message = failure<ksx::Error>(
        [&] { ksx::container::oci_rootfs(oci(registry.host() + "/corrupt:v1"), options()); });
    CHECK(message.find("sha256 mismatch: expected " + digest.substr(7)) != std::string::npos);
    CHECK_FALSE(fs::exists(fs::absolute("cache/downloads") / digest.substr(7)));
    CHECK(no_rootfs_cached());
}

TEST_CASE("layers that would write outside the root filesystem are refused") {
    LocalRegistry registry("registry");
    const std::string marker = "ksx-oci-escape-" + std::to_string(::getpid());
    struct Case {
        std::string tag;
        std::vector<TarEntry> entries;
        std::string refusal;
    };
    std::vector<Case> cases = {
        {"dotdot",
         {file_entry("../" + marker, "evil")},
         "entry \"../" + marker + "\": path contains \"..\""},
        {"absolute",
         {file_entry("/tmp/" + marker, "evil")},
         "entry \"/tmp/" + marker + "\": path is absolute"},
        {"hardlink",
         {hardlink_entry("passwd", "../../../../etc/passwd")},
         "entry \"passwd\": hard link target \"../../../../etc/passwd\" contains \"..\""},
        {"whiteout",
         {file_entry("etc/.wh...", "")},
         "entry \"etc/.wh...\": is a whiteout of \"..\""},
    };
    for (const auto& c : cases) {
        CAPTURE(c.tag);
        OciLayout layout("layout-" + c.tag);
        auto bottom = layout.layer({file_entry("bin/sh", "sh", 0755), dir_entry("etc")});
        auto hostile = layout.layer(c.entries);
        layout.tag(c.tag, layout.image({bottom, hostile}, kAmd64));
        push(layout, c.tag, registry.host() + "/hostile:" + c.tag);
        const std::string message = failure<ksx::InputError>([&] {
            ksx::container::oci_rootfs(oci(registry.host() + "/hostile:" + c.tag), options());
        });
        CHECK(message.find("layer 2 of 2") != std::string::npos);
        CHECK(message.ends_with(c.refusal));
        CHECK(no_rootfs_cached());
    }
    CHECK_FALSE(fs::exists(fs::path("/tmp") / marker));

    // A symbolic link of a lower layer that points out of the root is followed inside it, as
    // the container would see it.
    OciLayout layout("layout-link");
    auto bottom = layout.layer({file_entry("bin/sh", "sh", 0755),
                                symlink_entry("up", "../../../tmp"), symlink_entry("abs", "/tmp")});
    auto through = layout.layer(
        {file_entry("up/" + marker, "inside"), file_entry("abs/" + marker + "-2", "inside")});
    layout.tag("link", layout.image({bottom, through}, kAmd64));
    push(layout, "link", registry.host() + "/hostile:link");
    auto image = ksx::container::oci_rootfs(oci(registry.host() + "/hostile:link"), options());
    CHECK(ksx::read_file(image.root / "tmp" / marker) == "inside");
    CHECK(ksx::read_file(image.root / "tmp" / (marker + "-2")) == "inside");
    CHECK_FALSE(fs::exists(fs::path("/tmp") / marker));
    CHECK_FALSE(fs::exists(fs::path("/tmp") / (marker + "-2")));
}

TEST_CASE("a Docker v2 schema 2 image is pulled like an OCI one") {
    LocalRegistry registry("registry");
    OciLayout layout("layout");
    layout.tag(
        "v1",
        layout.image({layout.layer({file_entry("bin/sh", "sh", 0755), file_entry("kind", "docker")},
                                   TarCompression::Gzip)},
                     kAmd64));
    push(layout, "v1", registry.host() + "/docker:v1", {"--format", "v2s2"});

    ksx::fetch::RegistryOptions registry_options;
    registry_options.insecure = true;
    registry_options.download.cache_dir = fs::absolute("cache");
    ksx::fetch::RegistryClient client(oci(registry.host() + "/docker:v1").image, registry_options);
    auto resolved = client.resolve(kAmd64);
    CHECK(resolved.manifest.media_type == ksx::fetch::media_type::kDockerManifest);
    CHECK(resolved.manifest.layers.at(0).media_type ==
          "application/vnd.docker.image.rootfs.diff.tar.gzip");
    auto image = ksx::container::oci_rootfs(oci(registry.host() + "/docker:v1"), options());
    CHECK(ksx::read_file(image.root / "kind") == "docker");
}

TEST_CASE("a tag is resolved again on every run and follows a new image") {
    LocalRegistry registry("registry");
    OciLayout layout("layout");
    layout.tag(
        "one",
        layout.image({layout.layer({file_entry("bin/sh", "sh", 0755), file_entry("release", "1")})},
                     kAmd64));
    layout.tag(
        "two",
        layout.image({layout.layer({file_entry("bin/sh", "sh", 0755), file_entry("release", "2")})},
                     kAmd64));
    push(layout, "one", registry.host() + "/moving:stable");
    auto first = ksx::container::oci_rootfs(oci(registry.host() + "/moving:stable"), options());
    CHECK(ksx::read_file(first.root / "release") == "1");

    push(layout, "two", registry.host() + "/moving:stable");
    auto second = ksx::container::oci_rootfs(oci(registry.host() + "/moving:stable"), options());
    CHECK(ksx::read_file(second.root / "release") == "2");
    CHECK(second.root != first.root);
    CHECK(ksx::read_file(first.root / "release") == "1"); // the older image stays cached
}
