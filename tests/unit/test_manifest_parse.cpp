// Valid manifests: what they parse into, defaults, and how paths are resolved.
#include "manifest/manifest.hpp"
#include "manifest/manifest_error.hpp"

#include <doctest/doctest.h>
#include <filesystem>
#include <fstream>
#include <string>

namespace fs = std::filesystem;
using namespace ksx::manifest;

namespace {

const fs::path source_dir = KSX_SOURCE_DIR;

void write(const fs::path& path, const std::string& text) {
    fs::create_directories(path.parent_path().empty() ? "." : path.parent_path());
    std::ofstream(path) << text;
}

// The smallest valid manifest, in `dir` (created with its source directory).
std::string minimal(const fs::path& dir) {
    fs::create_directories(dir / "src");
    return "apiVersion: kmod-sysext/v1\n"
           "name: demo\n"
           "version: 1.0.0\n"
           "target: {id: debian, version_id: \"12\", architecture: x86-64}\n"
           "kernels: [{release: 6.1.0-28-amd64}]\n"
           "source: {path: src}\n"
           "build: {commands: [make]}\n"
           "modules: [{name: demo}]\n";
}

} // namespace

TEST_CASE("the built-in hello manifest parses into what it says") {
    auto m = load(source_dir / "manifests/hello.yaml");
    CHECK(m.file == source_dir / "manifests/hello.yaml");
    CHECK(m.name == "hello");
    CHECK(m.version == "1.0.0");
    CHECK(m.target.id == "debian");
    CHECK(m.target.version_id == "13");
    CHECK(m.target.sysext_level.empty());
    CHECK(m.target.architecture == "x86-64");
    REQUIRE(m.kernels.size() == 1);
    CHECK(m.kernels[0].kind == KernelSpec::Kind::DebianPackage);
    CHECK(m.kernels[0].value == "linux-headers-amd64");
    CHECK(m.kernels[0].where.line == 13);
    CHECK(m.kernels[0].where.column == 5);
    CHECK(m.container.kind == ContainerSpec::Kind::Debian);
    CHECK(m.container.debian.suite == "trixie");
    CHECK(m.container.debian.mirror == "http://deb.debian.org/debian");
    CHECK(m.container.debian.components == std::vector<std::string>{"main"});
    CHECK(m.container.debian.packages.empty());
    CHECK(m.container.kernel_source == "/usr/src/linux-headers-${KERNEL_RELEASE}");
    CHECK(m.source_dir == source_dir / "manifests/hello");
    CHECK(m.build_commands == std::vector<std::string>{
                                  R"(make -C "$KERNEL_SOURCE" M="$SOURCE_DIR" -j"$JOBS" modules)"});
    REQUIRE(m.modules.size() == 2);
    CHECK(m.modules[0].name == "hello_core");
    CHECK(m.modules[0].options == R"(greeting="hello from kmod-sysext")");
    CHECK(m.modules[0].path.empty());
    CHECK(m.modules[0].load);
    CHECK(m.modules[1].name == "hello");
    CHECK(m.modules[1].options.empty());
    REQUIRE(m.files.size() == 1);
    CHECK(m.files[0].source == source_dir / "manifests/hello/hello.conf");
    CHECK(m.files[0].destination == "/usr/share/hello-sysext/hello.conf");
    CHECK(m.files[0].mode == 0644);
    CHECK(m.image.compression == Compression::Zstd);
    CHECK_FALSE(m.image.level.has_value());
    CHECK_FALSE(m.image.timestamp.has_value());
}

TEST_CASE("a manifest that sets every field gets each value") {
    const auto dir = source_dir / "tests/data/manifests";
    auto m = load(dir / "full.yaml");
    CHECK(m.name == "full-example");
    CHECK(m.version == "2.1+git3~rc1");
    CHECK(m.target.id == "_any");
    CHECK(m.target.version_id.empty());
    CHECK(m.target.sysext_level == "1.0");
    CHECK(m.target.architecture == "arm64");
    REQUIRE(m.kernels.size() == 2);
    CHECK(m.kernels[0].kind == KernelSpec::Kind::Release);
    CHECK(m.kernels[0].value == "6.1.0-28-arm64");
    CHECK(m.kernels[1].kind == KernelSpec::Kind::DebianPackage);
    CHECK(m.kernels[1].value == "linux-headers-arm64");
    CHECK(m.kernels[1].where.file == dir / "full.yaml");
    CHECK(m.kernels[1].where.line == 11);
    CHECK(m.container.kind == ContainerSpec::Kind::Directory);
    CHECK(m.container.path == dir / "full/rootfs");
    CHECK(m.container.kernel_source == "/usr/src/kernels/${KERNEL_RELEASE}");
    CHECK(m.container.where.line == 13);
    CHECK(m.source_dir == dir / "full/src");
    REQUIRE(m.build_commands.size() == 2);
    CHECK(m.build_commands[0] == R"(./configure --kernel "$KERNEL_RELEASE")");
    CHECK(m.build_commands[1] == "make -C \"$KERNEL_SOURCE\" M=\"$SOURCE_DIR\" -j\"$JOBS\" "
                                 "modules\ncp build/*.ko \"$INSTALL_DIR\"\n");
    REQUIRE(m.modules.size() == 2);
    CHECK(m.modules[0].name == "full-core");
    CHECK(m.modules[0].path == "build/full_core.ko");
    CHECK(m.modules[0].options == R"(debug=1 greeting="x y")");
    CHECK_FALSE(m.modules[0].load);
    CHECK(m.modules[0].where.line == 24);
    CHECK(m.modules[0].where.column == 5);
    CHECK(m.modules[1].name == "full_extra");
    CHECK(m.modules[1].load);
    REQUIRE(m.files.size() == 3);
    CHECK(m.files[0].source == dir / "full/data.conf");
    CHECK(m.files[1].source == dir / "full/data.conf");
    CHECK(m.files[1].destination == "/opt/full/bin/tool");
    CHECK(m.files[1].mode == 0755);
    CHECK(m.files[2].mode == 04750);
    CHECK(m.image.compression == Compression::Xz);
    CHECK(m.image.level == 9);
    CHECK(m.image.timestamp == 1700000000);
}

TEST_CASE("relative paths are resolved against the manifest's directory, not the cwd") {
    write("resolve/sub/extra.conf", "x\n");
    fs::create_directories("resolve/tree");
    write("resolve/rootfs.tar", "not checked here\n");
    auto text = minimal("resolve") +
                "container: {tarball: rootfs.tar}\n"
                "files: [{source: sub/extra.conf, destination: /usr/share/demo/extra.conf}]\n";
    write("resolve/demo.yaml", text);
    auto m = load("resolve/demo.yaml");
    const auto dir = fs::current_path() / "resolve";
    CHECK(m.file == dir / "demo.yaml");
    CHECK(m.source_dir == dir / "src");
    CHECK(m.container.kind == ContainerSpec::Kind::Tarball);
    CHECK(m.container.path == dir / "rootfs.tar");
    CHECK(m.files[0].source == dir / "sub/extra.conf");
    CHECK(m.kernels[0].where.file == "resolve/demo.yaml");
}

TEST_CASE("absolute paths in a manifest are kept, made lexically normal") {
    fs::create_directories("absolute/src");
    const auto tree = fs::current_path() / "absolute/tree";
    fs::create_directories(tree);
    auto text = minimal("absolute") + "container: {rootfs: " + (tree / "../tree/").string() + "}\n";
    auto m = parse(text, "absolute/demo.yaml");
    CHECK(m.container.kind == ContainerSpec::Kind::Directory);
    CHECK(m.container.path == tree);
}

TEST_CASE("parse resolves against the directory of the file name it is given") {
    auto m = parse(minimal("named"), "named/demo.yaml");
    CHECK(m.file == fs::current_path() / "named/demo.yaml");
    CHECK(m.source_dir == fs::current_path() / "named/src");
}

TEST_CASE("optional fields get their defaults") {
    auto m = parse(minimal("defaults"), "defaults/demo.yaml");
    CHECK(m.container.kind == ContainerSpec::Kind::Debian);
    CHECK(m.container.debian.suite == "trixie");
    CHECK(m.container.debian.mirror == "http://deb.debian.org/debian");
    CHECK(m.container.debian.components == std::vector<std::string>{"main"});
    CHECK(m.container.debian.packages.empty());
    CHECK(m.container.kernel_source == "/usr/src/linux-headers-${KERNEL_RELEASE}");
    CHECK(m.container.where.line == 1);
    CHECK(m.modules[0].path.empty());
    CHECK(m.modules[0].options.empty());
    CHECK(m.modules[0].load);
    CHECK(m.files.empty());
    CHECK(m.image.compression == Compression::Zstd);
    CHECK_FALSE(m.image.level.has_value());
    CHECK_FALSE(m.image.timestamp.has_value());
}

TEST_CASE("an empty debian container map means every debian default") {
    auto m = parse(minimal("debian-null") + "container:\n  debian:\n", "debian-null/demo.yaml");
    CHECK(m.container.kind == ContainerSpec::Kind::Debian);
    CHECK(m.container.debian.suite == "trixie");
    CHECK(m.container.where.line == 10);
    CHECK(m.container.where.column == 3);
}

TEST_CASE("a debian container takes its suite, mirror, components and packages") {
    auto m = parse(minimal("debian-full") +
                       "container:\n"
                       "  debian:\n"
                       "    suite: trixie\n"
                       "    mirror: https://mirror.example.org/debian/\n"
                       "    components: [main, contrib, non-free, non-free-firmware]\n"
                       "    packages: [nvidia-kernel-source, libc6-dev, g++]\n"
                       "  kernel_source: /lib/modules/${KERNEL_RELEASE}/build\n",
                   "debian-full/demo.yaml");
    CHECK(m.container.debian.suite == "trixie");
    CHECK(m.container.debian.mirror == "https://mirror.example.org/debian/");
    CHECK(m.container.debian.components ==
          std::vector<std::string>{"main", "contrib", "non-free", "non-free-firmware"});
    CHECK(m.container.debian.packages ==
          std::vector<std::string>{"nvidia-kernel-source", "libc6-dev", "g++"});
    CHECK(m.container.kernel_source == "/lib/modules/${KERNEL_RELEASE}/build");
}

TEST_CASE("an oci container takes its image, platform and insecure flag") {
    auto m = parse(minimal("oci") + "container:\n"
                                    "  oci:\n"
                                    "    image: \"registry.example.org:5000/org/dev:6.1\"\n"
                                    "    platform: linux/arm64/v8\n"
                                    "    insecure: true\n"
                                    "  kernel_source: /usr/src/kernels/${KERNEL_RELEASE}\n",
                   "oci/demo.yaml");
    CHECK(m.container.kind == ContainerSpec::Kind::Oci);
    CHECK(m.container.oci.image.registry == "registry.example.org:5000");
    CHECK(m.container.oci.image.repository == "org/dev");
    CHECK(m.container.oci.image.tag == "6.1");
    CHECK(m.container.oci.platform.text() == "linux/arm64/v8");
    CHECK(m.container.oci.insecure);
    CHECK(m.container.kernel_source == "/usr/src/kernels/${KERNEL_RELEASE}");

    auto pinned = parse(minimal("oci-pinned") + "container:\n  oci:\n    image: \"dev@sha256:" +
                            std::string(64, 'a') + "\"\n",
                        "oci-pinned/demo.yaml");
    CHECK(pinned.container.oci.image.text() ==
          "docker.io/library/dev@sha256:" + std::string(64, 'a'));
    CHECK(pinned.container.oci.platform.text() == ksx::host_oci_platform().text());
    CHECK_FALSE(pinned.container.oci.insecure);
}

TEST_CASE("an ostree container takes a URL or a local repository, a ref, a commit and keys") {
    write("ostree/keys/a.asc", "key\n");
    fs::create_directories("ostree/repo");
    auto local = parse(minimal("ostree") +
                           "container:\n"
                           "  ostree:\n"
                           "    repo: repo\n"
                           "    ref: fedora/x86_64/coreos/stable\n"
                           "    commit: \"" +
                           std::string(64, 'b') +
                           "\"\n"
                           "    gpg_keys: [keys/a.asc]\n",
                       "ostree/demo.yaml");
    CHECK(local.container.kind == ContainerSpec::Kind::Ostree);
    CHECK(local.container.ostree.repo == fs::absolute("ostree/repo"));
    CHECK(local.container.ostree.url.empty());
    CHECK(local.container.ostree.ref == "fedora/x86_64/coreos/stable");
    CHECK(local.container.ostree.commit == std::string(64, 'b'));
    CHECK(local.container.ostree.gpg_keys ==
          std::vector<fs::path>{fs::absolute("ostree/keys/a.asc")});

    auto remote = parse(minimal("ostree-url") +
                            "container: {ostree: {repo: \"https://ostree.example.org/repo\", "
                            "ref: dev}}\n",
                        "ostree-url/demo.yaml");
    CHECK(remote.container.ostree.url == "https://ostree.example.org/repo");
    CHECK(remote.container.ostree.repo.empty());
    CHECK(remote.container.ostree.commit.empty());
}

TEST_CASE("numbers where strings belong are taken as written") {
    fs::create_directories("numbers/src");
    auto m = parse("apiVersion: kmod-sysext/v1\n"
                   "name: 42\n"
                   "version: 1.10\n"
                   "target: {id: debian, version_id: 12, architecture: x86-64}\n"
                   "kernels: [{release: 6.1.0}]\n"
                   "source: {path: src}\n"
                   "build: {commands: [make]}\n"
                   "modules: [{name: m1, options: 0x10}]\n",
                   "numbers/demo.yaml");
    CHECK(m.name == "42");
    CHECK(m.version == "1.10");
    CHECK(m.target.version_id == "12");
    CHECK(m.kernels[0].value == "6.1.0");
    CHECK(m.modules[0].options == "0x10");
}

TEST_CASE("a file mode may be an octal string, a YAML octal or a YAML integer written in octal") {
    fs::create_directories("modes");
    write("modes/f", "x");
    auto m = parse(minimal("modes") + "files:\n"
                                      "  - {source: f, destination: /usr/a, mode: \"0600\"}\n"
                                      "  - {source: f, destination: /usr/b, mode: 0o750}\n"
                                      "  - {source: f, destination: /usr/c, mode: 755}\n"
                                      "  - {source: f, destination: /usr/d, mode: 07777}\n"
                                      "  - {source: f, destination: /usr/e, mode: 0}\n",
                   "modes/demo.yaml");
    REQUIRE(m.files.size() == 5);
    CHECK(m.files[0].mode == 0600);
    CHECK(m.files[1].mode == 0750);
    CHECK(m.files[2].mode == 0755);
    CHECK(m.files[3].mode == 07777);
    CHECK(m.files[4].mode == 0);
}

TEST_CASE("each compression accepts the ends of its level range") {
    struct Case {
        const char* image;
        Compression compression;
        int level;
    };
    for (const auto& c : {Case{"{compression: zstd, level: 1}", Compression::Zstd, 1},
                          Case{"{level: 22}", Compression::Zstd, 22},
                          Case{"{level: 0, compression: xz}", Compression::Xz, 0},
                          Case{"{compression: xz, level: 9}", Compression::Xz, 9},
                          Case{"{compression: gzip, level: 1}", Compression::Gzip, 1},
                          Case{"{compression: gzip, level: +9}", Compression::Gzip, 9}}) {
        CAPTURE(c.image);
        auto m = parse(minimal("levels") + "image: " + c.image + "\n", "levels/demo.yaml");
        CHECK(m.image.compression == c.compression);
        CHECK(m.image.level == c.level);
    }
}

TEST_CASE("a timestamp may be anything from 0 to the largest 32-bit value") {
    auto m = parse(minimal("ts") + "image: {timestamp: 0}\n", "ts/demo.yaml");
    CHECK(m.image.timestamp == 0);
    m = parse(minimal("ts") + "image: {timestamp: 4294967295}\n", "ts/demo.yaml");
    CHECK(m.image.timestamp == 4294967295);
}

TEST_CASE("an empty files list is fine") {
    auto m = parse(minimal("nofiles") + "files: []\n", "nofiles/demo.yaml");
    CHECK(m.files.empty());
}

TEST_CASE("kernels of both kinds mix and modules may name their .ko under the source dir") {
    fs::create_directories("modpath/src");
    auto n = parse("apiVersion: kmod-sysext/v1\nname: demo\nversion: '1'\n"
                   "target: {id: debian, version_id: '12', architecture: x86-64}\n"
                   "kernels: [{release: a}, {package: a1}, {release: b}]\n"
                   "source: {path: src}\nbuild: {commands: [make]}\n"
                   "modules:\n"
                   "  - {name: nv-drm, path: ./kernel/nvidia-drm.ko, load: true}\n"
                   "  - {name: nv_modeset, path: kernel/.hidden/nv.ko}\n",
                   "modpath/demo.yaml");
    CHECK(n.kernels.size() == 3);
    CHECK(n.modules[0].path == "./kernel/nvidia-drm.ko");
    CHECK(n.modules[1].path == "kernel/.hidden/nv.ko");
}

TEST_CASE("a leading document marker and comments are fine") {
    auto m = parse("# comment\n---\n" + minimal("marker") + "# end\n", "marker/demo.yaml");
    CHECK(m.name == "demo");
}

TEST_CASE("compressions have their manifest names") {
    CHECK(std::string(to_string(Compression::Zstd)) == "zstd");
    CHECK(std::string(to_string(Compression::Xz)) == "xz");
    CHECK(std::string(to_string(Compression::Gzip)) == "gzip");
}

TEST_CASE("a missing manifest file is an input error naming the file") {
    try {
        load("nowhere/demo.yaml");
        FAIL("no error");
    } catch (const ksx::InputError& e) {
        CHECK(std::string(e.what()) ==
              "nowhere/demo.yaml: error: cannot read manifest: No such file or directory");
    }
}

TEST_CASE("a directory given as the manifest is an input error") {
    fs::create_directories("a-dir.yaml");
    CHECK_THROWS_WITH_AS(load("a-dir.yaml"),
                         "a-dir.yaml: error: cannot read manifest: Is a directory", ManifestError);
}

TEST_CASE("a Debian container for a suite whose Release file has expired, with backports kernels") {
    auto text =
        minimal("forky") +
        "container:\n"
        "  debian:\n"
        "    suite: forky\n"
        "    backports: true\n"
        "    apt_options: [Acquire::Check-Valid-Until=false, \"APT::Acquire::Retries=3\"]\n";
    const std::string kernels = "kernels: [{release: 6.1.0-28-amd64}]\n";
    text.replace(text.find(kernels), kernels.size(),
                 "kernels:\n  - package: linux-headers-amd64\n"
                 "  - {package: linux-headers-amd64, suite: forky-backports}\n");
    auto m = parse(text, "forky/demo.yaml");
    CHECK(m.container.debian.suite == "forky");
    CHECK(m.container.debian.backports);
    CHECK(m.container.debian.apt_options ==
          std::vector<std::string>{"Acquire::Check-Valid-Until=false", "APT::Acquire::Retries=3"});
    REQUIRE(m.kernels.size() == 2);
    CHECK(m.kernels[0].suite.empty());
    CHECK(m.kernels[1].kind == KernelSpec::Kind::DebianPackage);
    CHECK(m.kernels[1].value == "linux-headers-amd64");
    CHECK(m.kernels[1].suite == "forky-backports");
    CHECK(
        parse(minimal("no-options"), "no-options/demo.yaml").container.debian.apt_options.empty());
}
