// The build cache's keys as `build` composes them: which change of a manifest, its local inputs
// or the environment invalidates a kernel's image set, and which the shared userspace image.
#include "container/container.hpp"
#include "manifest/manifest.hpp"
#include "pack/build_signing.hpp"
#include "pack/cached_builds.hpp"
#include "scoped_env.hpp"
#include "util/atomic_file.hpp"

#include <cstdlib>
#include <doctest/doctest.h>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace fs = std::filesystem;

namespace {

// What a test varies in the manifest.
struct Variant {
    std::string userspace = "shared";
    std::string kernels = "  - package: linux-headers-amd64\n";
    std::string module_options = "a=1";
    std::string package_version = "1.0-1";
    std::string comment;
};

const char* const kKernel = "package:linux-headers-amd64";
const char* const kRelease = "6.12.118+deb13-amd64";

// Writes the manifest (with a local source tree src/ and a shipped file conf/) into the current
// directory and loads it.
ksx::manifest::Manifest write(const Variant& v) {
    fs::create_directories("src");
    fs::create_directories("conf");
    if (!fs::exists("src/hello.c")) {
        ksx::write_file_atomic("src/hello.c", "int hello;\n");
    }
    if (!fs::exists("conf/hello.conf")) {
        ksx::write_file_atomic("conf/hello.conf", "greeting=hi\n");
    }
    ksx::write_file_atomic("m.yaml", v.comment +
                                         "apiVersion: kmod-sysext/v1\n"
                                         "name: hello\n"
                                         "version: 1.0.0\n"
                                         "target: {id: debian, version_id: \"13\", "
                                         "architecture: x86-64}\n"
                                         "kernels:\n" +
                                         v.kernels +
                                         "container: {debian: {suite: trixie}}\n"
                                         "source: {path: src}\n"
                                         "build: {commands: [make]}\n"
                                         "modules:\n"
                                         "  - name: hello\n"
                                         "    options: " +
                                         v.module_options +
                                         "\n"
                                         "packages:\n"
                                         "  - apt: hello\n"
                                         "    version: " +
                                         v.package_version +
                                         "\n"
                                         "files:\n"
                                         "  - source: conf/hello.conf\n"
                                         "    destination: /usr/share/hello/hello.conf\n"
                                         "userspace: " +
                                         v.userspace + "\n");
    return ksx::manifest::load(fs::absolute("m.yaml"));
}

struct Keys {
    std::string kernel;
    std::string userspace;
};

Keys keys_of(const Variant& v, const std::string& container = "debian-0123456789abcdef") {
    auto manifest = write(v);
    ksx::pack::BuildSigners signers; // unsigned
    ksx::pack::CachedBuilds cached(manifest, fs::absolute("cache"), signers, "", true);
    ksx::container::Rootfs rootfs;
    rootfs.identity = container;
    return {cached.key(manifest, rootfs, kKernel, kRelease),
            cached.userspace_key(manifest, rootfs, "1.0.0", {"packages[0]"})};
}

} // namespace

TEST_CASE("userspace: shared: a package or file change keeps the kernels' keys") {
    const auto base = keys_of({});
    CHECK(base.kernel.size() == 64);
    CHECK(base.userspace.size() == 64);
    CHECK(base.kernel != base.userspace);
    CHECK(keys_of({}).kernel == base.kernel);
    CHECK(keys_of({}).userspace == base.userspace);

    Variant package;
    package.package_version = "1.0-2";
    CHECK(keys_of(package).kernel == base.kernel);
    CHECK(keys_of(package).userspace != base.userspace);

    ksx::write_file_atomic("conf/hello.conf", "greeting=hello\n");
    const auto file = keys_of({});
    CHECK(file.kernel == base.kernel);
    CHECK(file.userspace != base.userspace);
}

TEST_CASE("userspace: shared: a source or module change keeps the shared image's key") {
    const auto base = keys_of({});
    Variant option;
    option.module_options = "a=2";
    CHECK(keys_of(option).kernel != base.kernel);
    CHECK(keys_of(option).userspace == base.userspace);

    ksx::write_file_atomic("src/hello.c", "int hello = 1;\n");
    const auto source = keys_of({});
    CHECK(source.kernel != base.kernel);
    CHECK(source.userspace == base.userspace);
}

TEST_CASE("another kernel in the list, or a comment, rebuilds nothing") {
    for (const char* mode : {"shared", "per-kernel"}) {
        CAPTURE(mode);
        Variant v;
        v.userspace = mode;
        const auto base = keys_of(v);
        Variant more = v;
        more.kernels += "  - release: 6.1.0-57-amd64\n";
        CHECK(keys_of(more).kernel == base.kernel);
        CHECK(keys_of(more).userspace == base.userspace);
        Variant commented = v;
        commented.comment = "# a note\n";
        CHECK(keys_of(commented).kernel == base.kernel);
    }
}

TEST_CASE("userspace: per-kernel: a package change rebuilds the kernels") {
    Variant v;
    v.userspace = "per-kernel";
    const auto base = keys_of(v);
    v.package_version = "1.0-2";
    CHECK(keys_of(v).kernel != base.kernel);
    // The same manifest split: its modules images say KMOD_SYSEXT_USERSPACE, so they differ.
    CHECK(keys_of({}).kernel != base.kernel);
}

TEST_CASE("SOURCE_DATE_EPOCH and the container change both images' keys") {
    ScopedEnv first("SOURCE_DATE_EPOCH", "1700000000");
    const auto base = keys_of({});
    {
        ScopedEnv second("SOURCE_DATE_EPOCH", "1700000001");
        const auto dated = keys_of({});
        CHECK(dated.kernel != base.kernel);
        CHECK(dated.userspace != base.userspace);
    }
    CHECK(keys_of({}).kernel == base.kernel);
    const auto other = keys_of({}, "debian-fedcba9876543210");
    CHECK(other.kernel != base.kernel);
    CHECK(other.userspace != base.userspace);
}

TEST_CASE("the shared image's key follows its version and the packages chosen for it") {
    auto manifest = write({});
    ksx::pack::BuildSigners signers;
    ksx::pack::CachedBuilds cached(manifest, fs::absolute("cache"), signers, "", true);
    ksx::container::Rootfs rootfs;
    rootfs.identity = "debian-0123456789abcdef";
    const auto base = cached.userspace_key(manifest, rootfs, "1.0.0", {"packages[0]"});
    CHECK(cached.userspace_key(manifest, rootfs, "1.0.1", {"packages[0]"}) != base);
    CHECK(cached.userspace_key(manifest, rootfs, "1.0.0", {}) != base);
}
