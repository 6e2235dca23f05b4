// Split builds on the node: a modules image and the shared userspace image it names, each a real
// squashfs image with its extension-release, verity data and signature; linked as a pair,
// refused with one line when the pair does not match, reported by status and prefetched from a
// release made by publish.
#include "activator/prefetch.hpp"
#include "activator/select.hpp"
#include "activator/status.hpp"
#include "activator_fixture.hpp"
#include "contract/extension_release.hpp"
#include "contract/image_name.hpp"
#include "image/squashfs_writer.hpp"
#include "publish/publish.hpp"
#include "util/file_io.hpp"

#include <algorithm>
#include <doctest/doctest.h>
#include <filesystem>
#include <fstream>
#include <string>

using namespace ksx;
using namespace ksx::activator;
namespace fs = std::filesystem;

namespace {

const std::string kKernel = test::kNodeKernel;
const std::string kStore = "/var/lib/kmod-sysext/hello/";
const std::string kModules = "hello_1.0.0_" + kKernel + ".raw";
const std::string kShared = "hello-userspace_1.0.0.raw";

const test::TestKey& signer() {
    static const test::TestKey key = test::make_key(fs::absolute("split-keys"), "ksx-split");
    return key;
}

// A signed image of hello `version` in `dir`, as a split build writes it: for `kernel` the
// modules image (needing shared image `userspace`, none when empty), without a kernel the shared
// image with hello's configuration file. Returns its root hash.
std::string make_image(const fs::path& dir, const std::string& version, const std::string& kernel,
                       const std::string& userspace = "") {
    contract::ImageName name{"hello", version, kernel};
    contract::ExtensionRelease release{
        {"debian", "13", "", "x86-64"}, "hello", version, kernel, userspace};
    image::Tree tree;
    tree.add_file_content(contract::extension_release_path(name.sysext_name()),
                          contract::format_extension_release(release));
    if (name.is_userspace()) {
        tree.add_file_content("usr/share/hello-sysext/hello.conf", "greeting=hello\n");
    } else {
        auto module = "/usr/lib/modules/" + kernel + "/extra/hello/hello.ko";
        tree.add_file_content(module.substr(1), "module");
        tree.add_file_content("usr/lib/kmod-sysext/hello/modules.load",
                              "# kmod-sysext load order, format 1\nhello\t" + module +
                                  "\t-\tboot\t\n");
    }
    fs::create_directories(dir);
    image::write_squashfs(tree, dir / name.file_name(), {});
    auto hash = test::add_verity(dir / name.file_name());
    test::sign_root_hash(dir / name.file_name(), signer());
    return hash;
}

// A Debian 13 node that trusts the signer (systemd-sysext checks signatures again in
// /etc/verity.d).
struct SplitNode : test::ActivatorNode {
    explicit SplitNode(const std::string& name) : ActivatorNode(name) {
        write("etc/os-release", "ID=debian\nVERSION_ID=\"13\"\n");
        fs::create_directories(root / "etc/verity.d");
        fs::copy_file(signer().cert, root / "etc/verity.d/ksx-split.crt");
    }
    fs::path dir() const { return store() / "hello"; }
    int select() { return select_images(context, fresh_log()); }
    // Lines that speak of the shared image.
    long userspace_lines() const {
        return std::count_if(lines.begin(), lines.end(), [](const std::string& line) {
            return line.find("userspace") != std::string::npos;
        });
    }
};

void remove_image(const fs::path& image) {
    auto stem = image.string().substr(0, image.string().size() - 4);
    for (const char* suffix : {".raw", ".verity", ".roothash", ".roothash.p7s"}) {
        fs::remove(stem + suffix);
    }
}

} // namespace

TEST_CASE("split: the modules image is linked with the shared image it names, both checked") {
    SplitNode node("split-pair");
    make_image(node.dir(), "1.0.0", kKernel, "1.0.0");
    auto hash = make_image(node.dir(), "1.0.0", "");
    make_image(node.dir(), "0.9.0", ""); // another version: never linked
    CHECK(node.select() == 0);
    CHECK(node.link("hello.raw") == kStore + kModules);
    CHECK(node.link("hello-userspace.raw") == kStore + kShared);
    for (const char* suffix : {".verity", ".roothash", ".roothash.p7s"}) {
        CHECK(node.link(std::string("hello-userspace") + suffix) ==
              kStore + "hello-userspace_1.0.0" + suffix);
    }
    CHECK(node.logged("verified " + kShared + ": signed by ksx-split, root hash " + hash));
    CHECK_FALSE(node.log.failed());
    auto marker = read_file(node.root / "run/kmod-sysext/selected");
    CHECK(marker.find("hello-userspace\thello-userspace.raw\t" + kStore + kShared + "\n") !=
          std::string::npos);
    CHECK(marker.find("0.9.0") == std::string::npos);

    // status: the pair, side by side, as select left it and as systemd merged it.
    node.write("usr/lib/extension-release.d/extension-release.hello",
               "ID=debian\nKMOD_SYSEXT_VERSION=1.0.0\nKMOD_SYSEXT_KERNEL=" + kKernel +
                   "\nKMOD_SYSEXT_USERSPACE=1.0.0\n");
    node.write("usr/lib/extension-release.d/extension-release.hello-userspace",
               "ID=debian\nKMOD_SYSEXT_VERSION=1.0.0\n");
    auto status = gather_status(node.context, node.fresh_log());
    auto text = format_status_text(status);
    CHECK(text.find("\nhello\n  images:\n    " + kModules + "  (this kernel)\n  selected: " +
                    kStore + kModules + "\n  merged: yes, version 1.0.0 for kernel " + kKernel +
                    " with hello-userspace 1.0.0\n") != std::string::npos);
    CHECK(text.find("\nhello-userspace\n  images:\n    " + kShared +
                    "\n    hello-userspace_0.9.0.raw\n  selected: " + kStore + kShared +
                    "\n  merged: yes, version 1.0.0\n  verified: yes, signed by ksx-split\n") !=
          std::string::npos);
    auto json = format_status_json(status);
    CHECK(json.find(R"("merged":{"version":"1.0.0","kernel":")" + kKernel +
                    R"(","userspace":"1.0.0"})") != std::string::npos);
    CHECK(json.find(R"({"name":"hello-userspace","images":[{"file":"hello-userspace_1.0.0.raw",)"
                    R"("version":"1.0.0","kernel":null},{"file":"hello-userspace_0.9.0.raw",)"
                    R"("version":"0.9.0","kernel":null}],"selected":")" +
                    kStore + kShared + R"(","merged":{"version":"1.0.0","kernel":null})") !=
          std::string::npos);

    // The modules image merged without its shared image (or with another version of it):
    // status does not claim the pair.
    for (const char* shared_release : {"", "ID=debian\nKMOD_SYSEXT_VERSION=0.9.0\n"}) {
        fs::remove(node.root / "usr/lib/extension-release.d/extension-release.hello-userspace");
        if (*shared_release != '\0') {
            node.write("usr/lib/extension-release.d/extension-release.hello-userspace",
                       shared_release);
        }
        auto alone = gather_status(node.context, node.fresh_log());
        CHECK(format_status_text(alone).find("\n  merged: yes, version 1.0.0 for kernel " +
                                             kKernel + "\n") != std::string::npos);
        CHECK(format_status_json(alone).find(R"("merged":{"version":"1.0.0","kernel":")" + kKernel +
                                             R"("})") != std::string::npos);
    }
}

TEST_CASE("split: a shared image of another version is not linked, one line, modules linked") {
    SplitNode node("split-mismatch");
    make_image(node.dir(), "1.0.0", kKernel, "1.0.0");
    make_image(node.dir(), "2.0.0", "");
    CHECK(node.select() == 0);
    CHECK(node.link("hello.raw") == kStore + kModules);
    CHECK(node.link("hello-userspace.raw").empty());
    CHECK(node.logged("not linking hello-userspace: " + kModules +
                      " needs version 1.0.0, which is not in the store (the store has 2.0.0); "
                      "hello is linked without it"));
    CHECK(node.userspace_lines() == 1);
    CHECK(read_file(node.root / "run/kmod-sysext/verified").find("2.0.0") == std::string::npos);

    // None at all: the same line without other versions.
    remove_image(node.dir() / "hello-userspace_2.0.0.raw");
    CHECK(node.select() == 0);
    CHECK(node.link("hello.raw") == kStore + kModules);
    CHECK(node.logged("not linking hello-userspace: " + kModules +
                      " needs version 1.0.0, which is not in the store; hello is linked "
                      "without it"));
    CHECK(node.userspace_lines() == 1);
}

TEST_CASE("split: a tampered shared image is refused, the modules image still linked") {
    SplitNode node("split-tampered");
    make_image(node.dir(), "1.0.0", kKernel, "1.0.0");
    make_image(node.dir(), "1.0.0", "");
    auto shared = node.dir() / kShared;
    auto bytes = read_file(shared);
    bytes[bytes.size() / 2] = static_cast<char>(bytes[bytes.size() / 2] ^ 0xff);
    std::ofstream(shared, std::ios::binary | std::ios::trunc) << bytes;
    CHECK(node.select() == 0);
    CHECK(node.link("hello.raw") == kStore + kModules);
    CHECK(node.link("hello-userspace.raw").empty());
    CHECK(node.logged("refused " + kStore + kShared +
                      ": root hash mismatch: image or .verity changed"));
    CHECK(node.logged("not linking hello-userspace: " + kModules +
                      " needs version 1.0.0, which failed its checks; hello is linked without it"));
    auto status = format_status_json(gather_status(node.context, node.fresh_log()));
    CHECK(status.find(R"("verification":{"image":")" + kStore + kShared +
                      R"(","state":"refused")") != std::string::npos);
}

TEST_CASE("split: a stale shared link is removed; a shared image alone is never linked") {
    SplitNode node("split-stale");
    make_image(node.dir(), "1.0.0", kKernel, "1.0.0");
    make_image(node.dir(), "1.0.0", "");
    CHECK(node.select() == 0);
    CHECK(node.link("hello-userspace.raw") == kStore + kShared);
    // The next version's modules image arrives without its shared image.
    make_image(node.dir(), "1.1.0", kKernel, "1.1.0");
    CHECK(node.select() == 0);
    CHECK(node.link("hello.raw") == kStore + "hello_1.1.0_" + kKernel + ".raw");
    CHECK(node.link("hello-userspace.raw").empty());
    CHECK(node.logged("removed stale " +
                      (node.root / "run/extensions/hello-userspace.raw").string() + " -> " +
                      kStore + kShared));
    CHECK_FALSE(
        fs::exists(fs::symlink_status(node.root / "run/extensions/hello-userspace.verity")));
    CHECK(node.logged("not linking hello-userspace: hello_1.1.0_" + kKernel +
                      ".raw needs version 1.1.0, which is not in the store (the store has 1.0.0); "
                      "hello is linked without it"));

    // No modules image for the running kernel: its shared image is not linked either.
    remove_image(node.dir() / kModules);
    remove_image(node.dir() / ("hello_1.1.0_" + kKernel + ".raw"));
    make_image(node.dir(), "1.0.0", "6.12.5+deb13-amd64", "1.0.0");
    CHECK(node.select() == 0);
    CHECK(
        node.logged("no image of hello for kernel " + kKernel + "; available: 6.12.5+deb13-amd64"));
    CHECK(fs::is_empty(node.root / "run/extensions"));
}

TEST_CASE("split: prefetch fetches each kernel's modules image with its shared image") {
    auto images = test::outside_root("split-images");
    const std::string other = "6.12.5+deb13-amd64";
    make_image(images, "1.0.0", kKernel, "1.0.0");
    make_image(images, "1.0.0", other, "1.0.0");
    make_image(images, "1.0.0", "");
    make_image(images, "0.9.0", ""); // an older release's: not fetched
    auto release = fs::absolute("split-release");
    fs::remove_all(release);
    publish::PublishOptions options;
    options.from = {images};
    options.to = release;
    publish::publish_release(options);

    SplitNode node("split-prefetch");
    CHECK(prefetch_images(node.context, {kKernel, other}, release.string(), node.fresh_log()) == 0);
    for (const auto& file : {kModules, "hello_1.0.0_" + other + ".raw", kShared,
                             std::string("hello-userspace_1.0.0.verity"),
                             std::string("hello-userspace_1.0.0.roothash"),
                             std::string("hello-userspace_1.0.0.roothash.p7s")}) {
        CAPTURE(file);
        CHECK(read_file(node.dir() / file) == read_file(release / file));
    }
    CHECK_FALSE(fs::exists(node.dir() / "hello-userspace_0.9.0.raw"));
    CHECK(node.logged("prefetched " + kShared));
    CHECK(node.logged(kShared + " is already in the store")); // the second kernel's
    // What was fetched is the pair select links.
    CHECK(node.select() == 0);
    CHECK(node.link("hello.raw") == kStore + kModules);
    CHECK(node.link("hello-userspace.raw") == kStore + kShared);
}
