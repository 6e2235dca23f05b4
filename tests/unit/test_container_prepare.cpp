#include "container/container.hpp"
#include "container/tar_extract.hpp"
#include "util/entry_lock.hpp"
#include "util/error.hpp"
#include "util/file_io.hpp"
#include "util/progress.hpp"
#include "util/sha256.hpp"

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdlib>
#include <doctest/doctest.h>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <regex>
#include <stdio.h>
#include <thread>
#include <vector>

namespace fs = std::filesystem;
using namespace ksx;
using manifest::KernelSpec;

namespace {

bool slow_tests() {
    const char* value = std::getenv("KSX_SLOW_TESTS");
    return value && std::string(value) == "1";
}

void write(const fs::path& path, const std::string& text) {
    fs::create_directories(path.parent_path());
    std::ofstream(path) << text;
}

// A rootfs with just enough for resolve_kernel(): a dpkg database and build trees.
fs::path fake_rootfs(const std::string& name) {
    fs::path root = fs::absolute(name);
    write(root / "var/lib/dpkg/status",
          "Package: linux-headers-amd64\n"
          "Status: install ok installed\n"
          "Version: 6.1.128-1\n"
          "Depends: linux-headers-6.1.0-31-amd64 (= 6.1.128-1)\n"
          "\n"
          "Package: linux-headers-6.1.0-31-amd64\n"
          "Status: install ok installed\n"
          "Depends: linux-headers-6.1.0-31-common (= 6.1.128-1), linux-kbuild-6.1 (= 6.1.128-1)\n"
          "\n"
          "Package: linux-headers-6.1.0-31-common\n"
          "Status: install ok installed\n"
          "\n"
          "Package: linux-headers-cloud-amd64\n"
          "Status: deinstall ok config-files\n"
          "Depends: linux-headers-6.1.0-31-cloud-amd64\n");
    write(root / "usr/src/linux-headers-6.1.0-31-amd64/Makefile", "include x\n");
    return root;
}

container::Rootfs rootfs_at(const fs::path& root) {
    return {root, "test", "/usr/src/linux-headers-${KERNEL_RELEASE}"};
}

KernelSpec package(const std::string& name) {
    return {KernelSpec::Kind::DebianPackage, name, {"/m/kmod.yaml", 7, 14}, {}};
}

} // namespace

TEST_CASE("a headers metapackage resolves to the release it depends on") {
    auto rootfs = rootfs_at(fake_rootfs("r1"));
    CHECK(container::resolve_kernel(rootfs, package("linux-headers-amd64")) == "6.1.0-31-amd64");
    CHECK(container::resolve_kernel(rootfs, package("linux-headers-6.1.0-31-amd64")) ==
          "6.1.0-31-amd64");
}

TEST_CASE("a kernel package that is not installed is reported at its manifest position") {
    auto rootfs = rootfs_at(fake_rootfs("r2"));
    CHECK_THROWS_WITH_AS(container::resolve_kernel(rootfs, package("linux-headers-rt-amd64")),
                         "/m/kmod.yaml:7:14: error: kernel package linux-headers-rt-amd64: "
                         "package linux-headers-rt-amd64 is not installed in the developer "
                         "container",
                         InputError);
    CHECK_THROWS_WITH_AS(container::resolve_kernel(rootfs, package("linux-headers-cloud-amd64")),
                         "/m/kmod.yaml:7:14: error: kernel package linux-headers-cloud-amd64: "
                         "package linux-headers-cloud-amd64 is not installed in the developer "
                         "container (dpkg status: deinstall ok config-files)",
                         InputError);
}

TEST_CASE("a release without a build tree in the container is an input error") {
    auto rootfs = rootfs_at(fake_rootfs("r3"));
    KernelSpec kernel{KernelSpec::Kind::Release, "6.1.0-99-amd64", {"/m/kmod.yaml", 4, 14}, {}};
    CHECK_THROWS_WITH_AS(container::resolve_kernel(rootfs, kernel),
                         "/m/kmod.yaml:4:14: error: kernel 6.1.0-99-amd64: no build tree in the "
                         "developer container (looked for /usr/src/linux-headers-6.1.0-99-amd64)",
                         InputError);
    kernel.value = "6.1.0-31-amd64";
    CHECK(container::resolve_kernel(rootfs, kernel) == "6.1.0-31-amd64");
}

TEST_CASE("a package of another suite resolves to what that suite offered, not the installed one") {
    auto root = fake_rootfs("r5");
    // The container's own linux-headers-amd64 (6.1) is installed; backports offered 6.12, whose
    // versioned package is installed beside it.
    std::ofstream(root / "var/lib/dpkg/status", std::ios::app)
        << "\nPackage: linux-headers-6.12.9+bpo-amd64\n"
           "Status: install ok installed\n";
    write(root / "usr/src/linux-headers-6.12.9+bpo-amd64/Makefile", "include x\n");
    write(root / "var/lib/kmod-sysext/offered/linux-headers-amd64@bookworm-backports",
          "Package: linux-headers-amd64\n"
          "Version: 6.12.9-1~bpo12+1\n"
          "Depends: linux-headers-6.12.9+bpo-amd64 (= 6.12.9-1~bpo12+1)\n\n");
    auto rootfs = rootfs_at(root);
    auto kernel = package("linux-headers-amd64");
    CHECK(container::resolve_kernel(rootfs, kernel) == "6.1.0-31-amd64");
    kernel.suite = "bookworm-backports";
    CHECK(container::resolve_kernel(rootfs, kernel) == "6.12.9+bpo-amd64");

    // A suite whose offer the container does not record (one not made by kmod-sysext).
    kernel.suite = "bookworm-updates";
    CHECK_THROWS_WITH_AS(container::resolve_kernel(rootfs, kernel),
                         "/m/kmod.yaml:7:14: error: kernel package "
                         "linux-headers-amd64/bookworm-updates: the developer container does not "
                         "say what bookworm-updates offered (a suite is for the default Debian "
                         "container, which records it when it installs the headers)",
                         InputError);
    // Offered but not installed.
    write(root / "var/lib/kmod-sysext/offered/linux-headers-cloud-amd64@bookworm-backports",
          "Package: linux-headers-cloud-amd64\n"
          "Depends: linux-headers-6.12.9+bpo-cloud-amd64\n");
    kernel.value = "linux-headers-cloud-amd64";
    kernel.suite = "bookworm-backports";
    CHECK_THROWS_WITH_AS(container::resolve_kernel(rootfs, kernel),
                         "/m/kmod.yaml:7:14: error: kernel package "
                         "linux-headers-cloud-amd64/bookworm-backports: package "
                         "linux-headers-6.12.9+bpo-cloud-amd64 is not installed in the developer "
                         "container",
                         InputError);
}

TEST_CASE("a build tree reached through absolute symlinks is looked up inside the container") {
    auto root = fake_rootfs("r4");
    fs::create_directories(root / "usr/lib/modules/6.1.0-31-amd64");
    fs::create_symlink("usr/lib", root / "lib");
    fs::create_symlink("/usr/src/linux-headers-6.1.0-31-amd64",
                       root / "usr/lib/modules/6.1.0-31-amd64/build");
    container::Rootfs rootfs{root, "test", "/lib/modules/${KERNEL_RELEASE}/build"};
    CHECK(container::kernel_source_in_container(rootfs, "6.1.0-31-amd64") ==
          "/lib/modules/6.1.0-31-amd64/build");
    CHECK(container::resolve_kernel(rootfs, package("linux-headers-amd64")) == "6.1.0-31-amd64");
}

TEST_CASE("a directory container must hold a shell") {
    manifest::ContainerSpec spec;
    spec.kind = manifest::ContainerSpec::Kind::Directory;
    spec.path = fs::absolute("empty-root");
    spec.where = {"/m/kmod.yaml", 12, 3};
    fs::create_directories(spec.path / "usr/bin");
    CHECK_THROWS_WITH_AS(container::prepare(spec, {}, {}),
                         ("/m/kmod.yaml:12:3: error: container: " + spec.path.string() +
                          " is not a root filesystem: it has no /bin/sh")
                             .c_str(),
                         InputError);
    fs::create_symlink("usr/bin", spec.path / "bin");
    fs::create_symlink("dash", spec.path / "usr/bin/sh");
    write(spec.path / "usr/bin/dash", "");
    auto rootfs = container::prepare(spec, {}, {});
    CHECK(rootfs.root == spec.path);
    CHECK(rootfs.kernel_source == "/usr/src/linux-headers-${KERNEL_RELEASE}");
}

TEST_CASE("a tarball container is extracted once into the cache and reused") {
    fs::create_directories("tree/usr/bin");
    write("tree/usr/bin/sh", "#!\n");
    fs::create_symlink("usr/bin", "tree/bin");
    REQUIRE(std::system("tar -C tree -cf rootfs.tar .") == 0);
    manifest::ContainerSpec spec;
    spec.kind = manifest::ContainerSpec::Kind::Tarball;
    spec.path = fs::absolute("rootfs.tar");
    container::PrepareOptions options{fs::absolute("cache"), false};
    auto first = container::prepare(spec, {}, options);
    CHECK(first.root.parent_path().parent_path() == fs::absolute("cache/tarballs"));
    CHECK(first.root.filename() == "rootfs");
    CHECK(read_file(first.root / "usr/bin/sh") == "#!\n");
    write(first.root / "marker", "kept");
    auto second = container::prepare(spec, {}, options);
    CHECK(second.root == first.root);
    CHECK(read_file(second.root / "marker") == "kept");
    CHECK(second.description.starts_with("tarball " + spec.path.string() + " (cache "));
}

TEST_CASE("two runs preparing one tarball container at once extract it once and share it") {
    // Enough files that an extraction takes a while.
    for (int i = 0; i < 400; ++i) {
        write("big/usr/share/doc/file" + std::to_string(i), std::string(4096, 'x'));
    }
    write("big/usr/bin/sh", "#!\n");
    REQUIRE(std::system("tar -C big -cf big.tar .") == 0);
    manifest::ContainerSpec spec;
    spec.kind = manifest::ContainerSpec::Kind::Tarball;
    spec.path = fs::absolute("big.tar");
    const auto digest = sha256_file_hex(spec.path);
    const auto entry = fs::absolute("cache/tarballs") / digest;

    struct Run {
        char* text = nullptr;
        std::size_t size = 0;
        std::FILE* out = nullptr;
        std::optional<Progress> progress;
        container::Rootfs rootfs;
        std::string error;
    };
    std::array<Run, 2> runs;
    {
        std::vector<std::jthread> threads; // joined after `held` is released
        // Held here first: both runs must wait for it, whatever the scheduler does.
        auto held = std::make_unique<EntryLock>(fs::absolute("cache"), "tarball-" + digest);
        for (auto& run : runs) {
            run.out = ::open_memstream(&run.text, &run.size);
            REQUIRE(run.out != nullptr);
            run.progress.emplace(Progress::Mode::Plain, run.out);
            threads.emplace_back([&run, &spec] {
                try {
                    container::PrepareOptions options{fs::absolute("cache"), false, *run.progress};
                    run.rootfs = container::prepare(spec, {}, options);
                } catch (const std::exception& e) {
                    run.error = e.what();
                }
            });
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
        CHECK_FALSE(fs::exists(entry / "rootfs")); // nobody extracts while the lock is held
        held.reset();
    }
    int extractions = 0;
    for (auto& run : runs) {
        run.progress.reset();
        std::fclose(run.out);
        std::string text(run.text, run.size);
        std::free(run.text);
        CHECK(run.error.empty());
        CHECK(run.rootfs.root == entry / "rootfs");
        extractions += text.find("container: extracting big.tar") != std::string::npos ? 1 : 0;
    }
    CHECK(extractions == 1);
    CHECK(read_file(entry / "rootfs/usr/share/doc/file399") == std::string(4096, 'x'));
    // The lock file lives apart; nothing but the entry is left in the tarballs' directory.
    CHECK(fs::exists(EntryLock::lock_file(fs::absolute("cache"), "tarball-" + digest)));
    std::vector<std::string> names;
    for (const auto& item : fs::directory_iterator("cache/tarballs")) {
        names.push_back(item.path().filename().string());
    }
    CHECK(names == std::vector<std::string>{digest});
}

TEST_CASE("the default Debian container resolves both kernels and runs commands isolated" *
          doctest::skip(!slow_tests())) {
    using clock = std::chrono::steady_clock;
    Progress progress(Progress::Mode::Plain);
    manifest::ContainerSpec spec;
    spec.debian.suite = "bookworm"; // Debian 12's two kernel lines
    std::vector<KernelSpec> kernels{package("linux-headers-amd64"),
                                    package("linux-headers-6.12-amd64")};
    container::PrepareOptions options{cache_dir(), false, progress};
    auto start = clock::now();
    auto rootfs = container::prepare(spec, kernels, options);
    std::cerr << "prepare: " << std::chrono::duration<double>(clock::now() - start).count()
              << " s, " << rootfs.description << "\n";
    auto release61 = container::resolve_kernel(rootfs, kernels[0]);
    auto release612 = container::resolve_kernel(rootfs, kernels[1]);
    std::cerr << "kernels: " << release61 << " " << release612 << "\n";
    CHECK(std::regex_match(release61, std::regex(R"(6\.1\.0-[0-9]+-amd64)")));
    CHECK(std::regex_match(release612, std::regex(R"(6\.12\.[0-9]+\+deb12-amd64)")));

    container::RunSpec run;
    run.log_file = fs::absolute("run.log");
    run.argv = {"sh", "-c", "gcc --version && ls /usr/src && test ! -e /etc/hostname-of-host"};
    CHECK(container::run(rootfs, run) == 0);
    auto log = read_file(run.log_file);
    CHECK(log.find("gcc (Debian 12") != std::string::npos);
    CHECK(log.find("linux-headers-" + release61 + "\n") != std::string::npos);
    CHECK(log.find("linux-headers-" + release612 + "\n") != std::string::npos);

    run.argv = {"getent", "hosts", "deb.debian.org"};
    CHECK(container::run(rootfs, run) != 0);
    run.argv = {"touch", "/usr/x"};
    CHECK(container::run(rootfs, run) != 0);
    CHECK_FALSE(fs::exists(rootfs.root / "usr/x"));

    write("in/data", "from the host\n");
    fs::create_directories("out");
    run.binds = {{fs::absolute("in"), "/mnt/in", false}, {fs::absolute("out"), "/mnt/out", true}};
    run.argv = {"sh", "-c", "cat /mnt/in/data > /mnt/out/copy && ! touch /mnt/in/x"};
    CHECK(container::run(rootfs, run) == 0);
    CHECK(read_file("out/copy") == "from the host\n");
    CHECK_FALSE(fs::exists("in/x"));
}
