// Reading apt-get's --print-uris answer.
#include "build/apt_source.hpp"
#include "util/error.hpp"

#include <doctest/doctest.h>

using namespace ksx::build;

TEST_CASE("apt's print-uris line gives the file and its SHA-256") {
    const std::string output =
        "'http://deb.debian.org/debian/pool/contrib/z/zfs-linux/"
        "zfs-dkms_2.3.2-2%7ebpo12%2b2_all.deb' zfs-dkms_2.3.2-2~bpo12+2_all.deb 2446968 "
        "SHA256:b403a37d32cc677a74dab31587a2f04072f981c7fcd9c5773f6c8c5f69646e92\n";
    auto uri = parse_print_uris(output, "zfs-dkms");
    CHECK(uri.file == "zfs-dkms_2.3.2-2~bpo12+2_all.deb");
    CHECK(uri.sha256 == "b403a37d32cc677a74dab31587a2f04072f981c7fcd9c5773f6c8c5f69646e92");
    CHECK_THROWS_AS(parse_print_uris(output, "zfs"), ksx::Error);
}

TEST_CASE("the apt argument names a version or a release") {
    CHECK(apt_argument({"zfs-dkms", "", "bookworm-backports", ""}) ==
          "zfs-dkms/bookworm-backports");
    CHECK(apt_argument({"zfs-dkms", "2.1.11-1", "", ""}) == "zfs-dkms=2.1.11-1");
    CHECK(apt_argument({"zfs-dkms", "", "", ""}) == "zfs-dkms");
}
