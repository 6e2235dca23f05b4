// Image references and platforms as Docker's tools normalize them.
#include "util/image_reference.hpp"
#include "util/oci_platform.hpp"

#include <doctest/doctest.h>
#include <string>

using ksx::parse_image_reference;
using ksx::parse_oci_platform;

namespace {

const std::string kDigest = "sha256:" + std::string(64, 'c');

std::string problem(const std::string& text) {
    return parse_image_reference(text).problem;
}

} // namespace

TEST_CASE("an image reference is split into registry, repository, tag and digest") {
    auto full = parse_image_reference("registry.example.org/org/devcontainer:tag").reference;
    CHECK(full.registry == "registry.example.org");
    CHECK(full.repository == "org/devcontainer");
    CHECK(full.tag == "tag");
    CHECK(full.digest.empty());
    CHECK(full.manifest_reference() == "tag");
    CHECK(full.api_host() == "registry.example.org");

    auto port = parse_image_reference("127.0.0.1:5000/a/b/c@" + kDigest).reference;
    CHECK(port.registry == "127.0.0.1:5000");
    CHECK(port.repository == "a/b/c");
    CHECK(port.tag.empty());
    CHECK(port.manifest_reference() == kDigest);
    CHECK(port.text() == "127.0.0.1:5000/a/b/c@" + kDigest);

    auto both = parse_image_reference("localhost/dev:1.0@" + kDigest).reference;
    CHECK(both.registry == "localhost");
    CHECK(both.tag == "1.0");
    CHECK(both.manifest_reference() == kDigest);
}

TEST_CASE("a reference without a registry is Docker Hub's, official images under library/") {
    auto official = parse_image_reference("debian").reference;
    CHECK(official.registry == "docker.io");
    CHECK(official.repository == "library/debian");
    CHECK(official.tag == "latest");
    CHECK(official.api_host() == "registry-1.docker.io");
    CHECK(official.text() == "docker.io/library/debian:latest");

    auto user = parse_image_reference("flatcar/developer-container:3815.2.0").reference;
    CHECK(user.registry == "docker.io");
    CHECK(user.repository == "flatcar/developer-container");
    CHECK(user.tag == "3815.2.0");
    // A first component without '.' or ':' is a path, not a host.
    CHECK(parse_image_reference("quay/dev").reference.registry == "docker.io");
    CHECK(parse_image_reference("docker.io/a-b.c__d---e/f").reference.repository ==
          "a-b.c__d---e/f");
}

TEST_CASE("malformed references say what is wrong") {
    CHECK(problem("") == "is empty");
    CHECK(problem("Dev") == "has an invalid name component \"Dev\" (lower-case letters and "
                            "digits, separated by \".\", \"_\", \"__\" or dashes)");
    CHECK(problem("r.example.org/a..b").starts_with("has an invalid name component \"a..b\""));
    CHECK(problem("r.example.org/a___b").starts_with("has an invalid name component \"a___b\""));
    CHECK(problem("r.example.org/-a").starts_with("has an invalid name component \"-a\""));
    CHECK(problem("r.example.org//a").starts_with("has an invalid name component \"\""));
    CHECK(problem("dev:").starts_with("has an invalid tag \"\""));
    CHECK(problem("dev:-x").starts_with("has an invalid tag \"-x\""));
    CHECK(problem("dev:" + std::string(129, 'x')).starts_with("has an invalid tag"));
    CHECK(problem("dev@sha512:" + std::string(128, 'a')) ==
          "has a digest that is not sha256:<64 hex digits>");
    CHECK(problem("dev@sha256:" + std::string(64, 'A')) ==
          "has a digest that is not sha256: followed by 64 lower-case hex digits");
    CHECK(problem("bad_host.org:5000/dev") == "has an invalid registry \"bad_host.org:5000\"");
    CHECK(problem("host.org:50a/dev") == "has an invalid registry \"host.org:50a\"");
    CHECK(problem("r.example.org/" + std::string(256, 'a')) ==
          "has a name longer than 255 characters");
}

TEST_CASE("platforms are os/architecture[/variant]") {
    auto amd64 = parse_oci_platform("linux/amd64");
    CHECK(amd64.problem.empty());
    CHECK(amd64.platform.text() == "linux/amd64");
    auto arm = parse_oci_platform("linux/arm64/v8").platform;
    CHECK(arm.variant == "v8");
    CHECK(parse_oci_platform("linux").problem ==
          "is not os/architecture[/variant] (e.g. linux/amd64)");
    CHECK(parse_oci_platform("linux/arm/v7/x").problem ==
          "has more than three parts (os/architecture[/variant])");
    CHECK(parse_oci_platform("Linux/amd64").problem ==
          "has an invalid part \"Linux\" (lower-case letters, digits and '_')");
    CHECK(parse_oci_platform("linux//v7").problem.starts_with("has an invalid part \"\""));
}

TEST_CASE("a platform without a variant accepts any variant of its architecture") {
    const ksx::OciPlatform arm64{"linux", "arm64", ""};
    CHECK(arm64.accepts({"linux", "arm64", "v8"}));
    CHECK(arm64.accepts({"linux", "arm64", ""}));
    CHECK_FALSE(arm64.accepts({"linux", "amd64", ""}));
    CHECK_FALSE(arm64.accepts({"windows", "arm64", ""}));
    const ksx::OciPlatform v7{"linux", "arm", "v7"};
    CHECK(v7.accepts({"linux", "arm", "v7"}));
    CHECK_FALSE(v7.accepts({"linux", "arm", "v6"}));
    CHECK(ksx::host_oci_platform().os == "linux");
    CHECK_FALSE(ksx::host_oci_platform().architecture.empty());
}
