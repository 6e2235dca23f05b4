// Image file names: the modules image "<name>_<version>_<kernel>.raw" and the shared userspace
// image "<name>-userspace_<version>.raw" of a split build, written and parsed by one rule.
#include "contract/image_name.hpp"

#include <doctest/doctest.h>
#include <string>
#include <vector>

using namespace ksx;

TEST_CASE("a shared userspace image's name round-trips and has no kernel") {
    contract::ImageName shared{"nvidia-open", "550.163.01-2", ""};
    CHECK(shared.is_userspace());
    CHECK(shared.sysext_name() == "nvidia-open-userspace");
    CHECK(shared.stem() == "nvidia-open-userspace_550.163.01-2");
    CHECK(shared.file_name() == "nvidia-open-userspace_550.163.01-2.raw");
    auto read = contract::parse_image_name(shared.file_name());
    REQUIRE(read);
    CHECK(read->extension == "nvidia-open");
    CHECK(read->version == "550.163.01-2");
    CHECK(read->kernel.empty());
    CHECK(read->is_userspace());
    CHECK(read->file_name() == shared.file_name());
}

TEST_CASE("a modules image's name round-trips as before; its sysext name is the extension") {
    contract::ImageName modules{"zfs", "2.3.2-2", "6.12.57+deb13-amd64"};
    CHECK_FALSE(modules.is_userspace());
    CHECK(modules.sysext_name() == "zfs");
    CHECK(modules.file_name() == "zfs_2.3.2-2_6.12.57+deb13-amd64.raw");
    auto read = contract::parse_image_name(modules.file_name());
    REQUIRE(read);
    CHECK(read->extension == "zfs");
    CHECK(read->version == "2.3.2-2");
    CHECK(read->kernel == "6.12.57+deb13-amd64");
    // A kernel may hold '_': still a modules image, never a shared one.
    auto underscore = contract::parse_image_name("zfs-userspace_2.3_6.1_custom.raw");
    CHECK_FALSE(underscore); // "<x>-userspace" as a modules image's extension: ambiguous
    auto custom = contract::parse_image_name("zfs_2.3_6.1_custom.raw");
    REQUIRE(custom);
    CHECK(custom->kernel == "6.1_custom");
}

TEST_CASE("two-field names other than <name>-userspace_<version> are refused") {
    for (const auto& bad : std::vector<std::string>{
             "hello_1.0.raw", "-userspace_1.0.raw", "hello-userspace_.raw", "hello-userspace.raw",
             "hello-userspace_1.0", "Hello-userspace_1.0.raw", "hello-userspace_1 0.raw",
             "hello-userspace_-1.raw", "hello-userspace_1.0_.raw",
             "hello-userspace_" + std::string(65, '1') + ".raw",
             std::string(65, 'h') + "-userspace_1.0.raw"}) {
        CAPTURE(bad);
        CHECK_FALSE(contract::parse_image_name(bad));
    }
    // The longest extension name and version still parse.
    CHECK(contract::parse_image_name(std::string(64, 'h') + "-userspace_" + std::string(64, '1') +
                                     ".raw"));
}
