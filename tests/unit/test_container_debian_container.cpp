#include "container/bwrap.hpp"
#include "container/debian_container.hpp"

#include <doctest/doctest.h>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

using namespace ksx::container;
using ksx::manifest::DebianContainer;
using ksx::manifest::KernelSpec;

TEST_CASE("kernels name their headers packages, sorted and once each") {
    std::vector<KernelSpec> kernels{
        {KernelSpec::Kind::DebianPackage, "linux-headers-amd64", {}, {}},
        {KernelSpec::Kind::Release, "6.1.0-28-amd64", {}, {}},
        {KernelSpec::Kind::DebianPackage, "linux-headers-amd64", {}, {}}};
    CHECK(header_packages(kernels) ==
          std::vector<std::string>{"linux-headers-6.1.0-28-amd64", "linux-headers-amd64"});
}

TEST_CASE("a kernel package of another suite is named package/suite") {
    KernelSpec backports{KernelSpec::Kind::DebianPackage, "linux-headers-amd64", {}, {}};
    backports.suite = "trixie-backports";
    std::vector<KernelSpec> kernels{
        {KernelSpec::Kind::DebianPackage, "linux-headers-amd64", {}, {}}, backports};
    CHECK(header_packages(kernels) ==
          std::vector<std::string>{"linux-headers-amd64", "linux-headers-amd64/trixie-backports"});
    CHECK(suite_package_record("linux-headers-amd64", "trixie-backports") ==
          "/var/lib/kmod-sysext/offered/linux-headers-amd64@trixie-backports");
}

TEST_CASE("apt options go to mmdebstrap as apt.conf lines, which it keeps in the container") {
    CHECK(apt_conf_line("Acquire::Check-Valid-Until=false") ==
          "Acquire::Check-Valid-Until \"false\";");
    CHECK(apt_conf_line("Acquire::http::Proxy=http://proxy:3142/?a=b") ==
          "Acquire::http::Proxy \"http://proxy:3142/?a=b\";");
    DebianContainer debian;
    debian.suite = "forky";
    debian.components = {"main", "contrib"};
    CHECK(mmdebstrap_argv(debian, "/c/rootfs") ==
          std::vector<std::string>{
              "mmdebstrap", "--variant=minbase",
              "--include=gcc,make,libc6-dev,bc,kmod,libelf-dev,ca-certificates,ccache",
              "--components=contrib,main", "forky", "/c/rootfs", "http://deb.debian.org/debian"});
    debian.apt_options = {"Acquire::Check-Valid-Until=false", "Acquire::Retries=5"};
    CHECK(mmdebstrap_argv(debian, "/c/rootfs") ==
          std::vector<std::string>{
              "mmdebstrap", "--variant=minbase",
              "--include=gcc,make,libc6-dev,bc,kmod,libelf-dev,ca-certificates,ccache",
              "--components=contrib,main", "--aptopt=Acquire::Check-Valid-Until \"false\";",
              "--aptopt=Acquire::Retries \"5\";", "forky", "/c/rootfs",
              "http://deb.debian.org/debian"});
}

TEST_CASE("apt options are part of the recipe, in any order, and only when set") {
    const std::vector<std::string> headers{"linux-headers-amd64"};
    DebianContainer plain;
    auto with = plain;
    with.apt_options = {"Acquire::Retries=5", "Acquire::Check-Valid-Until=false"};
    CHECK(recipe_text(plain, headers).find("apt option") == std::string::npos);
    CHECK(recipe_text(with, headers)
              .ends_with("apt option: Acquire::Check-Valid-Until=false\n"
                         "apt option: Acquire::Retries=5\n"));
    CHECK(cache_key(plain, headers) != cache_key(with, headers));
    auto reordered = with;
    reordered.apt_options = {"Acquire::Check-Valid-Until=false", "Acquire::Retries=5"};
    CHECK(cache_key(reordered, headers) == cache_key(with, headers));
    reordered.apt_options = {"Acquire::Check-Valid-Until=true", "Acquire::Retries=5"};
    CHECK(cache_key(reordered, headers) != cache_key(with, headers));
}

TEST_CASE("the recipe text is canonical and its key does not depend on list order") {
    DebianContainer debian;
    debian.components = {"main", "contrib"};
    debian.packages = {"zstd", "dkms", "zstd"};
    const std::vector<std::string> headers{"linux-headers-amd64", "linux-headers-6.12-amd64"};
    CHECK(recipe_text(debian, headers) ==
          "kmod-sysext debian container 1\n"
          "suite: trixie\n"
          "mirror: http://deb.debian.org/debian\n"
          "components: contrib main\n"
          "base: gcc,make,libc6-dev,bc,kmod,libelf-dev,ca-certificates,ccache\n"
          "packages: dkms zstd\n"
          "headers: linux-headers-6.12-amd64 linux-headers-amd64\n");

    DebianContainer reordered = debian;
    reordered.components = {"contrib", "main"};
    reordered.packages = {"dkms", "zstd"};
    reordered.mirror = "http://deb.debian.org/debian/";
    CHECK(cache_key(reordered, {"linux-headers-6.12-amd64", "linux-headers-amd64"}) ==
          cache_key(debian, headers));
    CHECK(cache_key(debian, headers).size() == 16);
}

TEST_CASE("the cache key of the default container is stable across versions") {
    // A changed key rebuilds every user's cached container: change it only on purpose (last:
    // ccache joined the base packages).
    DebianContainer bookworm;
    bookworm.suite = "bookworm";
    CHECK(cache_key(bookworm, {"linux-headers-6.12-amd64", "linux-headers-amd64"}) ==
          "59ec513c3b28150d");
    CHECK(cache_key(DebianContainer{}, {"linux-headers-amd64"}) == "cb8ca65bd8c2cb71");
}

TEST_CASE("every part of the recipe changes the cache key") {
    const std::vector<std::string> headers{"linux-headers-amd64"};
    const auto base = cache_key(DebianContainer{}, headers);
    DebianContainer other;
    other.suite = "bookworm";
    CHECK(cache_key(other, headers) != base);
    other = {};
    other.mirror = "http://ftp.de.debian.org/debian";
    CHECK(cache_key(other, headers) != base);
    other = {};
    other.components = {"main", "non-free"};
    CHECK(cache_key(other, headers) != base);
    other = {};
    other.packages = {"dkms"};
    CHECK(cache_key(other, headers) != base);
    CHECK(cache_key(DebianContainer{}, {"linux-headers-6.12-amd64"}) != base);
}

TEST_CASE("sources.list adds the updates and security suites for a stable release") {
    DebianContainer debian;
    debian.components = {"main", "contrib", "non-free"};
    CHECK(sources_list(debian) ==
          "deb http://deb.debian.org/debian trixie contrib main non-free\n"
          "deb http://deb.debian.org/debian trixie-updates contrib main non-free\n"
          "deb http://deb.debian.org/debian-security trixie-security contrib main non-free\n");
    debian.suite = "sid";
    debian.components = {"main"};
    CHECK(sources_list(debian) == "deb http://deb.debian.org/debian sid main\n");
}

TEST_CASE("a container for other headers of the same recipe is found to grow a new one from") {
    namespace fs = std::filesystem;
    fs::create_directories("containers");
    auto make = [](const std::string& name, const std::string& recipe, bool complete = true) {
        fs::create_directories("containers/" + name + "/rootfs");
        if (complete) {
            std::ofstream("containers/" + name + "/.complete") << recipe;
        }
    };
    DebianContainer debian;
    DebianContainer other_suite;
    other_suite.suite = "bookworm";
    const std::vector<std::string> both{"linux-headers-6.12-amd64", "linux-headers-amd64"};
    CHECK_FALSE(find_sibling("containers", debian, both).has_value());

    make("debian-other-suite", recipe_text(other_suite, {"linux-headers-amd64"}));
    make("debian-incomplete", recipe_text(debian, {"linux-headers-amd64"}), false);
    CHECK_FALSE(find_sibling("containers", debian, both).has_value());

    make("debian-old", recipe_text(debian, {"linux-headers-amd64"}));
    auto found = find_sibling("containers", debian, both);
    REQUIRE(found.has_value());
    CHECK(found->key == "old");
    CHECK(found->root == fs::path("containers/debian-old/rootfs"));
    CHECK(found->missing == std::vector<std::string>{"linux-headers-6.12-amd64"});

    // A container that already has every wanted package (and more) needs only a copy.
    make("debian-more", recipe_text(debian, {"linux-headers-6.12-amd64", "linux-headers-amd64",
                                             "linux-headers-6.1.0-28-amd64"}));
    found = find_sibling("containers", debian, both);
    REQUIRE(found.has_value());
    CHECK(found->key == "more");
    CHECK(found->missing.empty());
    // Of two with nothing missing, the one with fewer extras.
    make("debian-exact", recipe_text(debian, both));
    CHECK(find_sibling("containers", debian, both)->key == "exact");
}

TEST_CASE("thousands of packages are installed in several apt-get runs within bubblewrap's limit") {
    std::vector<std::string> packages;
    for (int i = 0; i < 4500; ++i) {
        packages.push_back("linux-headers-6.1.0-" + std::to_string(i) + "-amd64");
    }
    const auto commands = install_commands(packages);
    CHECK(commands.size() == 5);
    std::vector<std::string> installed;
    for (const auto& command : commands) {
        REQUIRE(command.size() > 4);
        CHECK(std::vector<std::string>(command.begin(), command.begin() + 4) ==
              std::vector<std::string>{"apt-get", "install", "-y", "--no-install-recommends"});
        // Room for bubblewrap's own options: a few dozen.
        CHECK(command.size() + 100 < ksx::container::kBwrapMaxArgs);
        installed.insert(installed.end(), command.begin() + 4, command.end());
    }
    CHECK(installed == packages);
    CHECK(install_commands({"gcc", "make"}) ==
          std::vector<std::vector<std::string>>{
              {"apt-get", "install", "-y", "--no-install-recommends", "gcc", "make"}});
}
