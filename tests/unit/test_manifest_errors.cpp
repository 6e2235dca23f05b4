// Bad manifests: each problem gives one exact message with its position, the line and a caret.
#include "manifest/manifest.hpp"
#include "manifest/manifest_error.hpp"

#include <doctest/doctest.h>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <utility>

namespace fs = std::filesystem;
using ksx::manifest::ManifestError;
using ksx::manifest::parse;

namespace {

// A valid manifest in sections; a test replaces or adds sections. Line numbers of the base:
//  1 apiVersion, 2 name, 3 version, 4-7 target, 8-9 kernels, (container), 10-11 source,
//  12-14 build, 15-16 modules, then files and image when given.
const std::vector<std::pair<std::string, std::string>> base_sections{
    {"apiVersion", "apiVersion: kmod-sysext/v1\n"},
    {"name", "name: demo\n"},
    {"version", "version: 1.0.0\n"},
    {"target", "target:\n  id: debian\n  version_id: \"12\"\n  architecture: x86-64\n"},
    {"kernels", "kernels:\n  - release: 6.1.0-28-amd64\n"},
    {"container", ""},
    {"source", "source:\n  path: src\n"},
    {"build", "build:\n  commands:\n    - make\n"},
    {"modules", "modules:\n  - name: demo\n"},
    {"files", ""},
    {"image", ""},
};

std::string manifest(const std::map<std::string, std::string>& replace = {}) {
    std::string text;
    for (const auto& [key, section] : base_sections) {
        auto found = replace.find(key);
        text += found == replace.end() ? section : found->second;
    }
    return text;
}

// The message parse() throws for `text` read as bad/m.yaml, or "no error".
std::string error_of(const std::string& text) {
    fs::create_directories("bad/src");
    fs::create_directories("bad/dir.tar");
    std::ofstream("bad/data.conf") << "x\n";
    try {
        parse(text, "bad/m.yaml");
    } catch (const ManifestError& e) {
        return e.what();
    }
    return "no error";
}

std::string error_with(const std::string& key, const std::string& section) {
    return error_of(manifest({{key, section}}));
}

} // namespace

TEST_CASE("the base manifest of these tests is valid") {
    CHECK(error_of(manifest()) == "no error");
}

TEST_CASE("a manifest error is an input error") {
    CHECK_THROWS_AS(parse("name: [", "m.yaml"), ksx::InputError);
}

TEST_CASE("invalid YAML is reported at the parser's position") {
    CHECK(error_with("kernels", "kernels: [{release: 6.1.0}\n") ==
          "bad/m.yaml:9:1: error: invalid YAML: end of sequence flow not found\n"
          "source:\n"
          "^");
}

TEST_CASE("an empty manifest is an error at its first line") {
    CHECK(error_of("# nothing here\n") ==
          "bad/m.yaml:1:1: error: expected a map, got an empty document\n"
          "# nothing here\n"
          "^");
}

TEST_CASE("a ',' that no YAML node can start with is an error at its position") {
    // yaml-cpp 0.7's LoadAll collected empty documents before it forever (tests/fuzz found it).
    CHECK(error_of(",\n") == "bad/m.yaml:1:1: error: invalid YAML: unexpected \",\"\n"
                             ",\n"
                             "^");
    CHECK(error_of("- name: demo\n, apt: more\n") ==
          "bad/m.yaml:2:1: error: invalid YAML: unexpected \",\"\n"
          ", apt: more\n"
          "^");
}

TEST_CASE("a second YAML document is an error") {
    CHECK(error_of(manifest() + "---\nname: other\n") ==
          "bad/m.yaml:18:1: error: expected one YAML document, got 2\n"
          "name: other\n"
          "^");
}

TEST_CASE("a manifest that is not a map is an error") {
    CHECK(error_of("- name: demo\n") == "bad/m.yaml:1:1: error: expected a map, got a sequence\n"
                                        "- name: demo\n"
                                        "^");
}

TEST_CASE("an unknown top-level key lists the keys a manifest may have") {
    CHECK(error_with("image", "imgae:\n  compression: xz\n") ==
          "bad/m.yaml:17:1: error: unknown key \"imgae\" (expected one of: apiVersion, name, "
          "version, target, kernels, container, targets, source, sources, patches, build, "
          "modules, packages, relocate, files, userspace, image, signing)\n"
          "imgae:\n"
          "^");
}

TEST_CASE("a missing top-level field points at the start of the manifest") {
    CHECK(error_with("version", "") == "bad/m.yaml:1:1: error: missing required field \"version\"\n"
                                       "apiVersion: kmod-sysext/v1\n"
                                       "^");
}

TEST_CASE("a key given twice is an error at its second occurrence") {
    CHECK(error_with("version", "version: 1.0.0\nname: again\n") ==
          "bad/m.yaml:4:1: error: duplicate key \"name\"\n"
          "name: again\n"
          "^");
}

TEST_CASE("a map or sequence as a key is an error") {
    CHECK(error_with("files", "[a, b]: 1\n") ==
          "bad/m.yaml:17:1: error: expected a scalar key, got a sequence\n"
          "[a, b]: 1\n"
          "^");
}

TEST_CASE("another apiVersion is reported before anything else") {
    CHECK(error_with("apiVersion", "apiVersion: kmod-sysext/v2\nnew_field: 1\n") ==
          "bad/m.yaml:1:13: error: apiVersion: unsupported \"kmod-sysext/v2\" (expected "
          "\"kmod-sysext/v1\")\n"
          "apiVersion: kmod-sysext/v2\n"
          "            ^");
}

TEST_CASE("a name with upper-case letters or '_' is an error") {
    CHECK(error_with("name", "name: Hello_World\n") ==
          "bad/m.yaml:2:7: error: name: \"Hello_World\" is not a valid name (lower-case letters, "
          "digits and '-', starting with a letter or digit)\n"
          "name: Hello_World\n"
          "      ^");
}

TEST_CASE("a name longer than 64 characters is an error") {
    const std::string name(65, 'a');
    CHECK(error_with("name", "name: " + name + "\n") ==
          "bad/m.yaml:2:7: error: name: \"" + name + "\" is too long (at most 64 characters)\n" +
              "name: " + name + "\n" + "      ^");
}

TEST_CASE("a version with '_' or '/' is an error") {
    CHECK(error_with("version", "version: \"1.0_rc1\"\n") ==
          "bad/m.yaml:3:10: error: version: \"1.0_rc1\" is not a valid version (letters, digits "
          "and \".+~-\", starting with a letter or digit)\n"
          "version: \"1.0_rc1\"\n"
          "         ^");
    CHECK(error_with("version", "version: 1/2\n") ==
          "bad/m.yaml:3:10: error: version: \"1/2\" is not a valid version (letters, digits and "
          "\".+~-\", starting with a letter or digit)\n"
          "version: 1/2\n"
          "         ^");
}

TEST_CASE("a map where a scalar belongs is a wrong-type error") {
    CHECK(error_with("name", "name: {first: demo}\n") ==
          "bad/m.yaml:2:7: error: name: expected a scalar, got a map\n"
          "name: {first: demo}\n"
          "      ^");
}

TEST_CASE("an empty value where a map belongs points at its key") {
    CHECK(error_with("target", "target:\n") ==
          "bad/m.yaml:4:1: error: target: expected a map, got null\n"
          "target:\n"
          "^");
}

TEST_CASE("a target without architecture names the missing field") {
    CHECK(error_with("target", "target:\n  id: debian\n  version_id: \"12\"\n") ==
          "bad/m.yaml:5:3: error: target: missing required field \"architecture\"\n"
          "  id: debian\n"
          "  ^");
}

TEST_CASE("a target needs exactly one of version_id and sysext_level") {
    const std::string expected = "bad/m.yaml:5:3: error: target: set exactly one of "
                                 "\"version_id\" and \"sysext_level\"\n"
                                 "  id: debian\n"
                                 "  ^";
    CHECK(error_with("target", "target:\n  id: debian\n  architecture: x86-64\n") == expected);
    CHECK(error_with("target", "target:\n  id: debian\n  version_id: \"12\"\n  sysext_level: "
                               "\"1\"\n  architecture: x86-64\n") == expected);
}

TEST_CASE("an os-release ID with upper-case letters is an error") {
    CHECK(error_with("target", "target: {id: Debian, version_id: 12, architecture: x86-64}\n") ==
          "bad/m.yaml:4:14: error: target.id: \"Debian\" is not a valid os-release ID (lower-case "
          "letters, digits and \"._-\", or \"_any\")\n"
          "target: {id: Debian, version_id: 12, architecture: x86-64}\n"
          "             ^");
}

TEST_CASE("a VERSION_ID or SYSEXT_LEVEL with other characters is an error") {
    CHECK(error_with("target", "target: {id: debian, version_id: 12/1, architecture: arm64}\n") ==
          "bad/m.yaml:4:34: error: target.version_id: \"12/1\" is not a valid VERSION_ID "
          "(letters, digits and \"._~-\")\n"
          "target: {id: debian, version_id: 12/1, architecture: arm64}\n"
          "                                 ^");
    CHECK(error_with("target", "target: {id: debian, sysext_level: 1 2, architecture: arm64}\n") ==
          "bad/m.yaml:4:36: error: target.sysext_level: \"1 2\" is not a valid SYSEXT_LEVEL "
          "(letters, digits and \"._~-\")\n"
          "target: {id: debian, sysext_level: 1 2, architecture: arm64}\n"
          "                                   ^");
}

TEST_CASE("an architecture systemd does not know is an error") {
    CHECK(error_with("target", "target:\n  id: debian\n  version_id: \"12\"\n  architecture: "
                               "amd64\n") ==
          "bad/m.yaml:7:17: error: target.architecture: \"amd64\" is not a systemd architecture "
          "(expected one of: x86-64, x86, arm64, arm, ppc64-le, s390x, riscv64, loongarch64)\n"
          "  architecture: amd64\n"
          "                ^");
}

TEST_CASE("kernels given as a scalar is a wrong-type error") {
    CHECK(error_with("kernels", "kernels: 6.1.0-28-amd64\n") ==
          "bad/m.yaml:8:10: error: kernels: expected a sequence, got a scalar\n"
          "kernels: 6.1.0-28-amd64\n"
          "         ^");
}

TEST_CASE("an empty kernel list is an error") {
    CHECK(error_with("kernels", "kernels: []\n") == "bad/m.yaml:8:10: error: kernels: must not "
                                                    "be empty\n"
                                                    "kernels: []\n"
                                                    "         ^");
}

TEST_CASE("a misspelt kernel key lists the keys a kernel may have") {
    CHECK(error_with("kernels", "kernels:\n  - relase: 6.1.0-28-amd64\n") ==
          "bad/m.yaml:9:5: error: kernels[0]: unknown key \"relase\" (expected one of: release, "
          "package, suite)\n"
          "  - relase: 6.1.0-28-amd64\n"
          "    ^");
}

TEST_CASE("a kernel listed twice is an error at the second") {
    CHECK(error_with("kernels", "kernels:\n  - release: 6.1.0-28-amd64\n  - package: "
                                "linux-headers-amd64\n  - release: 6.1.0-28-amd64\n") ==
          "bad/m.yaml:11:5: error: kernels[2]: duplicate of kernels[0]\n"
          "  - release: 6.1.0-28-amd64\n"
          "    ^");
}

TEST_CASE("a kernel with both release and package is an error") {
    CHECK(error_with("kernels", "kernels:\n  - {release: 6.1.0, package: linux-headers-amd64}\n") ==
          "bad/m.yaml:9:5: error: kernels[0]: set exactly one of \"release\" and \"package\"\n"
          "  - {release: 6.1.0, package: linux-headers-amd64}\n"
          "    ^");
}

TEST_CASE("an empty kernel item points at its dash") {
    CHECK(error_with("kernels", "kernels:\n  - release: 6.1.0\n  -   # to do\n") ==
          "bad/m.yaml:10:3: error: kernels[1]: expected a map, got null\n"
          "  -   # to do\n"
          "  ^");
}

TEST_CASE("a kernel release with '/' or made of dots is an error") {
    CHECK(error_with("kernels", "kernels:\n  - release: ../6.1\n") ==
          "bad/m.yaml:9:14: error: kernels[0].release: \"../6.1\" is not a valid kernel release "
          "(letters, digits and \"._+~-\")\n"
          "  - release: ../6.1\n"
          "             ^");
    CHECK(error_with("kernels", "kernels:\n  - release: ..\n") ==
          "bad/m.yaml:9:14: error: kernels[0].release: \"..\" is not a valid kernel release "
          "(letters, digits and \"._+~-\")\n"
          "  - release: ..\n"
          "             ^");
}

TEST_CASE("a kernel package that is not a Debian package name is an error") {
    CHECK(error_with("kernels", "kernels:\n  - package: Linux_Headers\n") ==
          "bad/m.yaml:9:14: error: kernels[0].package: \"Linux_Headers\" is not a valid Debian "
          "package name (lower-case letters, digits and \"+.-\", starting with a letter or digit, "
          "at least 2 characters)\n"
          "  - package: Linux_Headers\n"
          "             ^");
}

TEST_CASE("a kernel's suite goes with package and is a suite name") {
    CHECK(error_with("kernels",
                     "kernels:\n  - {suite: trixie-backports, release: 7.3.4+deb13-amd64}\n") ==
          "bad/m.yaml:9:13: error: kernels[0].suite: goes with package: a release's headers "
          "package is installed from whichever suite has it\n"
          "  - {suite: trixie-backports, release: 7.3.4+deb13-amd64}\n"
          "            ^");
    CHECK(error_with("kernels", "kernels:\n  - {package: linux-headers-amd64, suite: Trixie}\n") ==
          "bad/m.yaml:9:43: error: kernels[0].suite: \"Trixie\" is not a valid suite (lower-case "
          "letters, digits and '-')\n"
          "  - {package: linux-headers-amd64, suite: Trixie}\n"
          "                                          ^");
    CHECK(error_with("kernels", "kernels:\n  - {suite: trixie-backports}\n") ==
          "bad/m.yaml:9:5: error: kernels[0]: set exactly one of \"release\" and \"package\"\n"
          "  - {suite: trixie-backports}\n"
          "    ^");
    // The same package from the container's suite and from backports are two kernels.
    CHECK(error_with("kernels", "kernels:\n  - package: linux-headers-amd64\n"
                                "  - {package: linux-headers-amd64, suite: trixie-backports}\n") ==
          "no error");
    CHECK(error_with("kernels",
                     "kernels:\n  - {package: linux-headers-amd64, suite: trixie-backports}\n"
                     "  - {suite: trixie-backports, package: linux-headers-amd64}\n") ==
          "bad/m.yaml:10:5: error: kernels[1]: duplicate of kernels[0]\n"
          "  - {suite: trixie-backports, package: linux-headers-amd64}\n"
          "    ^");
}

TEST_CASE("apt options are Name=value with a name apt knows how to spell, each name once") {
    auto apt = [](const std::string& items) {
        return error_with("container", "container:\n  debian:\n    apt_options: " + items + "\n");
    };
    CHECK(apt("[Acquire::Check-Valid-Until=false, \"Acquire::http::Proxy=http://p:3142/\"]") ==
          "no error");
    CHECK(apt("[Acquire::Check-Valid-Until]") ==
          "bad/m.yaml:12:19: error: container.debian.apt_options[0]: "
          "\"Acquire::Check-Valid-Until\" is not an apt option \"Name=value\" (a name such as "
          "Acquire::Check-Valid-Until: letters, digits and \"_.+-\" in parts joined by \"::\")\n"
          "    apt_options: [Acquire::Check-Valid-Until]\n"
          "                  ^");
    CHECK(apt("[\"Acquire:::x=1\"]") ==
          "bad/m.yaml:12:19: error: container.debian.apt_options[0]: \"Acquire:::x=1\" is not an "
          "apt option \"Name=value\" (a name such as Acquire::Check-Valid-Until: letters, digits "
          "and \"_.+-\" in parts joined by \"::\")\n"
          "    apt_options: [\"Acquire:::x=1\"]\n"
          "                  ^");
    CHECK(
        apt("['APT::Foo=a\"b']") ==
        "bad/m.yaml:12:19: error: container.debian.apt_options[0]: \"APT::Foo=a\\\"b\": the value "
        "must not hold '\"' or control characters (apt's configuration files cannot quote "
        "them)\n"
        "    apt_options: ['APT::Foo=a\"b']\n"
        "                  ^");
    CHECK(apt("[Acquire::Retries=3, Acquire::Retries=5]") ==
          "bad/m.yaml:12:39: error: container.debian.apt_options[1]: sets Acquire::Retries again "
          "(container.debian.apt_options[0] sets it)\n"
          "    apt_options: [Acquire::Retries=3, Acquire::Retries=5]\n"
          "                                      ^");
    CHECK(apt("Acquire::Retries=3") ==
          "bad/m.yaml:12:18: error: container.debian.apt_options: expected a sequence, got a "
          "scalar\n"
          "    apt_options: Acquire::Retries=3\n"
          "                 ^");
}

TEST_CASE("a container needs exactly one of debian, rootfs, tarball, oci and ostree") {
    CHECK(error_with("container", "container:\n  kernel_source: /src/${KERNEL_RELEASE}\n") ==
          "bad/m.yaml:11:3: error: container: set exactly one of \"debian\", \"rootfs\", "
          "\"tarball\", \"oci\" and \"ostree\"\n"
          "  kernel_source: /src/${KERNEL_RELEASE}\n"
          "  ^");
    CHECK(error_with("container", "container: {debian: {}, rootfs: src}\n") ==
          "bad/m.yaml:10:12: error: container: set exactly one of \"debian\", \"rootfs\", "
          "\"tarball\", \"oci\" and \"ostree\"\n"
          "container: {debian: {}, rootfs: src}\n"
          "           ^");
}

TEST_CASE("a Debian suite with upper-case letters is an error") {
    CHECK(error_with("container", "container:\n  debian:\n    suite: Bookworm\n") ==
          "bad/m.yaml:12:12: error: container.debian.suite: \"Bookworm\" is not a valid suite "
          "(lower-case letters, digits and '-')\n"
          "    suite: Bookworm\n"
          "           ^");
}

TEST_CASE("a mirror that is not an http or https URL is an error") {
    CHECK(error_with("container", "container:\n  debian:\n    mirror: ftp://ftp.debian.org/\n") ==
          "bad/m.yaml:12:13: error: container.debian.mirror: \"ftp://ftp.debian.org/\" is not an "
          "http:// or https:// URL\n"
          "    mirror: ftp://ftp.debian.org/\n"
          "            ^");
}

TEST_CASE("an unknown, repeated or missing Debian component is an error") {
    CHECK(error_with("container", "container:\n  debian:\n    components: [main, universe]\n") ==
          "bad/m.yaml:12:24: error: container.debian.components[1]: \"universe\" is not a Debian "
          "component (expected one of: main, contrib, non-free, non-free-firmware)\n"
          "    components: [main, universe]\n"
          "                       ^");
    CHECK(
        error_with("container", "container:\n  debian:\n    components: [main, contrib, main]\n") ==
        "bad/m.yaml:12:33: error: container.debian.components[2]: duplicate of "
        "container.debian.components[0]\n"
        "    components: [main, contrib, main]\n"
        "                                ^");
    CHECK(error_with("container", "container:\n  debian:\n    components: []\n") ==
          "bad/m.yaml:12:17: error: container.debian.components: must not be empty\n"
          "    components: []\n"
          "                ^");
}

TEST_CASE("a bad or repeated extra package is an error") {
    CHECK(error_with("container", "container:\n  debian:\n    packages:\n      - gcc-12\n      - "
                                  "\"zfs dkms\"\n") ==
          "bad/m.yaml:14:9: error: container.debian.packages[1]: \"zfs dkms\" is not a valid "
          "Debian package name (lower-case letters, digits and \"+.-\", starting with a letter or "
          "digit, at least 2 characters)\n"
          "      - \"zfs dkms\"\n"
          "        ^");
    CHECK(error_with("container", "container:\n  debian:\n    packages: [bc, bc]\n") ==
          "bad/m.yaml:12:20: error: container.debian.packages[1]: duplicate of "
          "container.debian.packages[0]\n"
          "    packages: [bc, bc]\n"
          "                   ^");
}

TEST_CASE("a rootfs that does not exist or is a file is an error") {
    CHECK(error_with("container", "container:\n  rootfs: nope\n") ==
          "bad/m.yaml:11:11: error: container.rootfs: \"nope\" does not exist\n"
          "  rootfs: nope\n"
          "          ^");
    CHECK(error_with("container", "container:\n  rootfs: data.conf\n") ==
          "bad/m.yaml:11:11: error: container.rootfs: \"data.conf\" is not a directory\n"
          "  rootfs: data.conf\n"
          "          ^");
}

TEST_CASE("an oci container needs a valid image reference and platform") {
    CHECK(error_with("container", "container:\n  oci: {platform: linux/amd64}\n") ==
          "bad/m.yaml:11:8: error: container.oci: missing required field \"image\"\n"
          "  oci: {platform: linux/amd64}\n"
          "       ^");
    CHECK(error_with("container", "container:\n  oci:\n    image: Example.org/Dev:1\n") ==
          "bad/m.yaml:12:12: error: container.oci.image: \"Example.org/Dev:1\" is not an image "
          "reference: it has an invalid name component \"Dev\" (lower-case letters and digits, "
          "separated by \".\", \"_\", \"__\" or dashes)\n"
          "    image: Example.org/Dev:1\n"
          "           ^");
    CHECK(error_with("container",
                     "container:\n  oci:\n    image: \"r.example.org/dev@sha256:12\"\n") ==
          "bad/m.yaml:12:12: error: container.oci.image: \"r.example.org/dev@sha256:12\" is not an "
          "image reference: it has a digest that is not sha256: followed by 64 lower-case hex "
          "digits\n"
          "    image: \"r.example.org/dev@sha256:12\"\n"
          "           ^");
    CHECK(error_with("container", "container:\n  oci:\n    image: r.example.org/dev\n"
                                  "    platform: amd64\n") ==
          "bad/m.yaml:13:15: error: container.oci.platform: \"amd64\" is not a platform: it is "
          "not os/architecture[/variant] (e.g. linux/amd64)\n"
          "    platform: amd64\n"
          "              ^");
    CHECK(error_with("container", "container:\n  oci:\n    image: r.example.org/dev\n"
                                  "    insecure: yes\n") ==
          "bad/m.yaml:13:15: error: container.oci.insecure: expected true or false, got \"yes\"\n"
          "    insecure: yes\n"
          "              ^");
}

TEST_CASE("an ostree container needs a repository, a ref and a well-formed commit") {
    CHECK(error_with("container", "container:\n  ostree: {repo: src}\n") ==
          "bad/m.yaml:11:11: error: container.ostree: missing required field \"ref\"\n"
          "  ostree: {repo: src}\n"
          "          ^");
    CHECK(error_with("container", "container:\n  ostree: {repo: nope, ref: a/b}\n") ==
          "bad/m.yaml:11:18: error: container.ostree.repo: \"nope\" does not exist\n"
          "  ostree: {repo: nope, ref: a/b}\n"
          "                 ^");
    CHECK(error_with("container", "container:\n  ostree: {repo: \"ftp://x/repo\", ref: a}\n") ==
          "bad/m.yaml:11:18: error: container.ostree.repo: \"ftp://x/repo\" is neither an http:// "
          "or https:// URL nor a path\n"
          "  ostree: {repo: \"ftp://x/repo\", ref: a}\n"
          "                 ^");
    CHECK(error_with("container", "container:\n  ostree: {repo: src, ref: a//b}\n") ==
          "bad/m.yaml:11:28: error: container.ostree.ref: \"a//b\" is not an OSTree ref "
          "(components of letters, digits and \"._-\" separated by '/')\n"
          "  ostree: {repo: src, ref: a//b}\n"
          "                           ^");
    CHECK(error_with("container", "container:\n  ostree: {repo: src, ref: a, commit: ABC}\n") ==
          "bad/m.yaml:11:39: error: container.ostree.commit: \"ABC\" is not an OSTree commit "
          "checksum (64 lower-case hex digits)\n"
          "  ostree: {repo: src, ref: a, commit: ABC}\n"
          "                                      ^");
    CHECK(error_with("container",
                     "container:\n  ostree: {repo: src, ref: a, gpg_keys: [nope.asc]}\n") ==
          "bad/m.yaml:11:42: error: container.ostree.gpg_keys[0]: \"nope.asc\" does not exist\n"
          "  ostree: {repo: src, ref: a, gpg_keys: [nope.asc]}\n"
          "                                         ^");
}

TEST_CASE("a tarball that is a directory is an error") {
    CHECK(error_with("container", "container:\n  tarball: dir.tar\n") ==
          "bad/m.yaml:11:12: error: container.tarball: \"dir.tar\" is not a regular file\n"
          "  tarball: dir.tar\n"
          "           ^");
}

TEST_CASE("a kernel_source must be absolute and contain ${KERNEL_RELEASE}") {
    CHECK(error_with("container",
                     "container:\n  debian:\n  kernel_source: usr/src/${KERNEL_RELEASE}\n") ==
          "bad/m.yaml:12:18: error: container.kernel_source: \"usr/src/${KERNEL_RELEASE}\" must be "
          "an absolute path\n"
          "  kernel_source: usr/src/${KERNEL_RELEASE}\n"
          "                 ^");
    CHECK(error_with("container", "container:\n  debian:\n  kernel_source: /usr/src/linux\n") ==
          "bad/m.yaml:12:18: error: container.kernel_source: \"/usr/src/linux\" must contain "
          "${KERNEL_RELEASE}\n"
          "  kernel_source: /usr/src/linux\n"
          "                 ^");
}

TEST_CASE("a source path that does not exist is an error") {
    CHECK(error_with("source", "source:\n  path: nope\n") ==
          "bad/m.yaml:11:9: error: source.path: \"nope\" does not exist\n"
          "  path: nope\n"
          "        ^");
}

TEST_CASE("a source path that is empty or a file is an error") {
    CHECK(error_with("source", "source:\n  path: \"\"\n") ==
          "bad/m.yaml:11:9: error: source.path: must not be empty\n"
          "  path: \"\"\n"
          "        ^");
    CHECK(error_with("source", "source:\n  path: data.conf\n") ==
          "bad/m.yaml:11:9: error: source.path: \"data.conf\" is not a directory\n"
          "  path: data.conf\n"
          "        ^");
}

TEST_CASE("a source without path, apt or url names the missing field") {
    CHECK(error_with("source", "source: {dir: src}\n") ==
          "bad/m.yaml:10:10: error: source: unknown key \"dir\" (expected one of: path, apt, "
          "url, version, release, sha256, subdir, dkms, patches, image_version)\n"
          "source: {dir: src}\n"
          "         ^");
    CHECK(error_with("source", "source: {}\n") ==
          "bad/m.yaml:10:9: error: source: set exactly one of \"path\", \"apt\" and \"url\"\n"
          "source: {}\n"
          "        ^");
}

TEST_CASE("build commands must be a non-empty list of non-empty strings") {
    CHECK(error_with("build", "build:\n  commands: []\n") ==
          "bad/m.yaml:13:13: error: build.commands: must not be empty\n"
          "  commands: []\n"
          "            ^");
    CHECK(error_with("build", "build:\n  commands:\n    - make\n    - \" \"\n") ==
          "bad/m.yaml:15:7: error: build.commands[1]: must not be empty\n"
          "    - \" \"\n"
          "      ^");
    CHECK(error_with("build", "build:\n  commands:\n    - [make, modules]\n") ==
          "bad/m.yaml:14:7: error: build.commands[0]: expected a scalar, got a sequence\n"
          "    - [make, modules]\n"
          "      ^");
}

TEST_CASE("a module name with other characters or over 55 characters is an error") {
    CHECK(error_with("modules", "modules:\n  - name: hello.ko\n") ==
          "bad/m.yaml:16:11: error: modules[0].name: \"hello.ko\" is not a valid module name "
          "(letters, digits, '_' and '-')\n"
          "  - name: hello.ko\n"
          "          ^");
    const std::string name(56, 'm');
    CHECK(error_with("modules", "modules:\n  - name: " + name + "\n") ==
          "bad/m.yaml:16:11: error: modules[0].name: \"" + name +
              "\" is too long (at most 55 characters)\n  - name: " + name + "\n          ^");
}

TEST_CASE("module names that differ only in '-' and '_' are duplicates") {
    CHECK(error_with("modules", "modules:\n  - name: hello_core\n  - name: hello\n  - name: "
                                "hello-core\n") ==
          "bad/m.yaml:18:11: error: modules[2].name: duplicate of modules[0].name ('-' and '_' are "
          "the same in module names)\n"
          "  - name: hello-core\n"
          "          ^");
}

TEST_CASE("a module without a name names the missing field") {
    CHECK(error_with("modules", "modules:\n  - path: hello.ko\n") ==
          "bad/m.yaml:16:5: error: modules[0]: missing required field \"name\"\n"
          "  - path: hello.ko\n"
          "    ^");
}

TEST_CASE("a module path must be relative, inside SOURCE_DIR and end in .ko") {
    CHECK(error_with("modules", "modules:\n  - {name: m, path: /lib/m.ko}\n") ==
          "bad/m.yaml:16:21: error: modules[0].path: \"/lib/m.ko\" must be relative to SOURCE_DIR\n"
          "  - {name: m, path: /lib/m.ko}\n"
          "                    ^");
    CHECK(error_with("modules", "modules:\n  - {name: m, path: build/../../m.ko}\n") ==
          "bad/m.yaml:16:21: error: modules[0].path: \"build/../../m.ko\" must not contain "
          "\"..\"\n"
          "  - {name: m, path: build/../../m.ko}\n"
          "                    ^");
    CHECK(error_with("modules", "modules:\n  - {name: m, path: m.ko.xz}\n") ==
          "bad/m.yaml:16:21: error: modules[0].path: \"m.ko.xz\" must end in \".ko\"\n"
          "  - {name: m, path: m.ko.xz}\n"
          "                    ^");
}

TEST_CASE("module options with a tab or line break are an error") {
    CHECK(error_with("modules", "modules:\n  - name: m\n    options: \"a=1\\tb=2\"\n") ==
          "bad/m.yaml:17:14: error: modules[0].options: must not contain control characters "
          "(tabs, line breaks)\n"
          "    options: \"a=1\\tb=2\"\n"
          "             ^");
}

TEST_CASE("load takes true or false only") {
    CHECK(error_with("modules", "modules:\n  - name: m\n    load: yes\n") ==
          "bad/m.yaml:17:11: error: modules[0].load: expected true or false, got \"yes\"\n"
          "    load: yes\n"
          "          ^");
}

TEST_CASE("a file destination outside /usr and /opt is an error") {
    CHECK(error_with("files", "files:\n  - source: data.conf\n    destination: /etc/x\n") ==
          "bad/m.yaml:19:18: error: files[0].destination: \"/etc/x\" must be under /usr/ or "
          "/opt/\n"
          "    destination: /etc/x\n"
          "                 ^");
}

TEST_CASE("a file destination must be absolute and normal") {
    CHECK(error_with("files", "files:\n  - {source: data.conf, destination: usr/share/x}\n") ==
          "bad/m.yaml:18:38: error: files[0].destination: \"usr/share/x\" must be an absolute "
          "path\n"
          "  - {source: data.conf, destination: usr/share/x}\n"
          "                                     ^");
    for (const char* bad : {"/usr//share/x", "/usr/share/../x", "/usr/share/./x", "/usr/share/"}) {
        CAPTURE(bad);
        CHECK(error_with("files", std::string("files:\n  - {source: data.conf, destination: ") +
                                      bad + "}\n") ==
              std::string("bad/m.yaml:18:38: error: files[0].destination: \"") + bad +
                  "\" is not a normal path (no \".\" or \"..\" components, no \"//\", no "
                  "trailing \"/\")\n  - {source: data.conf, destination: " +
                  bad + "}\n                                     ^");
    }
}

TEST_CASE("a file destination where kmod-sysext writes is an error") {
    CHECK(error_with("files", "files:\n  - {source: data.conf, destination: "
                              "/usr/lib/modules/6.1/x.ko}\n") ==
          "bad/m.yaml:18:38: error: files[0].destination: \"/usr/lib/modules/6.1/x.ko\" is under "
          "/usr/lib/modules/, which kmod-sysext writes\n"
          "  - {source: data.conf, destination: /usr/lib/modules/6.1/x.ko}\n"
          "                                     ^");
    CHECK(error_with("files", "files:\n  - {source: data.conf, destination: "
                              "/usr/lib/extension-release.d/extension-release.demo}\n") ==
          "bad/m.yaml:18:38: error: files[0].destination: "
          "\"/usr/lib/extension-release.d/extension-release.demo\" is under "
          "/usr/lib/extension-release.d/, which kmod-sysext writes\n"
          "  - {source: data.conf, destination: "
          "/usr/lib/extension-release.d/extension-release.demo}\n"
          "                                     ^");
    CHECK(error_with("files",
                     "files:\n  - {source: data.conf, destination: /usr/lib/kmod-sysext}\n") ==
          "bad/m.yaml:18:38: error: files[0].destination: \"/usr/lib/kmod-sysext\" is under "
          "/usr/lib/kmod-sysext/, which kmod-sysext writes\n"
          "  - {source: data.conf, destination: /usr/lib/kmod-sysext}\n"
          "                                     ^");
    CHECK(error_with("files", "files:\n  - {source: data.conf, destination: "
                              "/usr/lib/modprobe.d/kmod-sysext-demo.conf}\n") ==
          "bad/m.yaml:18:38: error: files[0].destination: "
          "\"/usr/lib/modprobe.d/kmod-sysext-demo.conf\" is reserved for kmod-sysext "
          "(/usr/lib/modprobe.d/kmod-sysext-*)\n"
          "  - {source: data.conf, destination: /usr/lib/modprobe.d/kmod-sysext-demo.conf}\n"
          "                                     ^");
}

TEST_CASE("two files with one destination, or one inside the other, are an error") {
    CHECK(error_with("files", "files:\n  - {source: data.conf, destination: /usr/share/a}\n  - "
                              "{source: data.conf, destination: /usr/share/a}\n") ==
          "bad/m.yaml:19:38: error: files[1].destination: duplicate of files[0].destination\n"
          "  - {source: data.conf, destination: /usr/share/a}\n"
          "                                     ^");
    CHECK(error_with("files", "files:\n  - {source: data.conf, destination: /usr/share/a}\n  - "
                              "{source: data.conf, destination: /usr/share/a/b}\n") ==
          "bad/m.yaml:19:38: error: files[1].destination: \"/usr/share/a/b\" and "
          "files[0].destination \"/usr/share/a\" cannot both be files\n"
          "  - {source: data.conf, destination: /usr/share/a/b}\n"
          "                                     ^");
}

TEST_CASE("a file source that is missing or a directory is an error") {
    CHECK(error_with("files", "files:\n  - {source: gone.conf, destination: /usr/share/a}\n") ==
          "bad/m.yaml:18:14: error: files[0].source: \"gone.conf\" does not exist\n"
          "  - {source: gone.conf, destination: /usr/share/a}\n"
          "             ^");
    CHECK(error_with("files", "files:\n  - {source: src, destination: /usr/share/a}\n") ==
          "bad/m.yaml:18:14: error: files[0].source: \"src\" is not a regular file\n"
          "  - {source: src, destination: /usr/share/a}\n"
          "             ^");
}

TEST_CASE("a file mode that is not octal or above 07777 is an error") {
    CHECK(error_with("files", "files:\n  - {source: data.conf, destination: /usr/a, mode: "
                              "rw-r--r--}\n") ==
          "bad/m.yaml:18:52: error: files[0].mode: \"rw-r--r--\" is not an octal mode\n"
          "  - {source: data.conf, destination: /usr/a, mode: rw-r--r--}\n"
          "                                                   ^");
    CHECK(
        error_with("files", "files:\n  - {source: data.conf, destination: /usr/a, mode: 0844}\n") ==
        "bad/m.yaml:18:52: error: files[0].mode: \"0844\" is not an octal mode\n"
        "  - {source: data.conf, destination: /usr/a, mode: 0844}\n"
        "                                                   ^");
    CHECK(error_with("files",
                     "files:\n  - {source: data.conf, destination: /usr/a, mode: 17777}\n") ==
          "bad/m.yaml:18:52: error: files[0].mode: \"17777\" is out of range (at most 07777)\n"
          "  - {source: data.conf, destination: /usr/a, mode: 17777}\n"
          "                                                   ^");
}

TEST_CASE("an empty files value is a wrong-type error at its key") {
    CHECK(error_with("files", "files:   # none yet\n") ==
          "bad/m.yaml:17:1: error: files: expected a sequence, got null\n"
          "files:   # none yet\n"
          "^");
}

TEST_CASE("an unknown compression is an error") {
    CHECK(error_with("image", "image:\n  compression: lz4\n") ==
          "bad/m.yaml:18:16: error: image.compression: \"lz4\" is not supported (expected one of: "
          "zstd, xz, gzip)\n"
          "  compression: lz4\n"
          "               ^");
}

TEST_CASE("a level outside the compressor's range is an error") {
    CHECK(error_with("image", "image:\n  level: 30\n") ==
          "bad/m.yaml:18:10: error: image.level: 30 is out of range for zstd (1..22)\n"
          "  level: 30\n"
          "         ^");
    CHECK(error_with("image", "image:\n  level: 10\n  compression: xz\n") ==
          "bad/m.yaml:18:10: error: image.level: 10 is out of range for xz (0..9)\n"
          "  level: 10\n"
          "         ^");
    CHECK(error_with("image", "image: {compression: gzip, level: 0}\n") ==
          "bad/m.yaml:17:35: error: image.level: 0 is out of range for gzip (1..9)\n"
          "image: {compression: gzip, level: 0}\n"
          "                                  ^");
}

TEST_CASE("a level or timestamp that is not a whole number is an error") {
    CHECK(error_with("image", "image:\n  level: 9.5\n") ==
          "bad/m.yaml:18:10: error: image.level: expected an integer, got \"9.5\"\n"
          "  level: 9.5\n"
          "         ^");
    CHECK(error_with("image", "image:\n  timestamp: 1700000000s\n") ==
          "bad/m.yaml:18:14: error: image.timestamp: expected an integer, got \"1700000000s\"\n"
          "  timestamp: 1700000000s\n"
          "             ^");
    CHECK(error_with("image", "image:\n  timestamp: 99999999999999999999\n") ==
          "bad/m.yaml:18:14: error: image.timestamp: \"99999999999999999999\" is out of range\n"
          "  timestamp: 99999999999999999999\n"
          "             ^");
}

TEST_CASE("a timestamp that is negative or beyond 32 bits is an error") {
    CHECK(error_with("image", "image:\n  timestamp: -1\n") ==
          "bad/m.yaml:18:14: error: image.timestamp: -1 is out of range (0..4294967295)\n"
          "  timestamp: -1\n"
          "             ^");
    CHECK(error_with("image", "image:\n  timestamp: 4294967296\n") ==
          "bad/m.yaml:18:14: error: image.timestamp: 4294967296 is out of range (0..4294967295)\n"
          "  timestamp: 4294967296\n"
          "             ^");
}

TEST_CASE("the first error in document order is the one reported") {
    CHECK(error_of(manifest({{"name", "name: Bad\n"}, {"version", "version: bad_\n"}})) ==
          "bad/m.yaml:2:7: error: name: \"Bad\" is not a valid name (lower-case letters, digits "
          "and '-', starting with a letter or digit)\n"
          "name: Bad\n"
          "      ^");
    CHECK(error_of(manifest({{"name", "version: bad_\nname: Bad\n"}, {"version", ""}})) ==
          "bad/m.yaml:2:10: error: version: \"bad_\" is not a valid version (letters, digits and "
          "\".+~-\", starting with a letter or digit)\n"
          "version: bad_\n"
          "         ^");
}

TEST_CASE("an empty item at the end of the file points at its dash") {
    CHECK(error_with("modules", "modules:\n  - name: demo\n  -\n") ==
          "bad/m.yaml:17:3: error: modules[1]: expected a map, got null\n"
          "  -\n"
          "  ^");
}

TEST_CASE("an error about a flow map spanning lines quotes the line where it starts") {
    CHECK(error_with("target", "target: {id: debian,\n  architecture: x86-64}\n") ==
          "bad/m.yaml:4:9: error: target: set exactly one of \"version_id\" and \"sysext_level\"\n"
          "target: {id: debian,\n"
          "        ^");
}

TEST_CASE("quoted text in messages escapes quotes and control characters") {
    CHECK(error_with("name", "name: \"a\\\"b\\x01\"\n") ==
          "bad/m.yaml:2:7: error: name: \"a\\\"b\\x01\" is not a valid name (lower-case letters, "
          "digits and '-', starting with a letter or digit)\n"
          "name: \"a\\\"b\\x01\"\n"
          "      ^");
}

TEST_CASE("a bad value is reported before the fields missing after it") {
    CHECK(error_of("apiVersion: kmod-sysext/v1\nname: Hello\n") ==
          "bad/m.yaml:2:7: error: name: \"Hello\" is not a valid name (lower-case letters, digits "
          "and '-', starting with a letter or digit)\n"
          "name: Hello\n"
          "      ^");
}

TEST_CASE("an unknown key is reported before the fields missing after it") {
    CHECK(
        error_with("target", "target:\n  id: debian\n  verison_id: 12\n  architecture: x86-64\n") ==
        "bad/m.yaml:6:3: error: target: unknown key \"verison_id\" (expected one of: id, "
        "version_id, sysext_level, architecture)\n"
        "  verison_id: 12\n"
        "  ^");
}

// Local paths: inside the manifest's directory, or a directory the command line allows.

namespace {

// "outside the manifest's directory <abs bad> (...)", the end of every containment message.
std::string outside_bad() {
    return "outside the manifest's directory " + fs::absolute("bad").string() +
           " (local paths must stay inside it; --allow-path DIR allows another directory)";
}

} // namespace

TEST_CASE("a files: source that is a symbolic link to a host file is refused") {
    fs::create_directories("bad");
    fs::remove("bad/shadow");
    fs::create_symlink("/etc/shadow", "bad/shadow");
    CHECK(error_with("files", "files:\n  - source: shadow\n    destination: /usr/share/x\n") ==
          "bad/m.yaml:18:13: error: files[0].source: \"shadow\" leads through a symbolic link "
          "to /etc/shadow, " +
              outside_bad() +
              "\n"
              "  - source: shadow\n"
              "            ^");
}

TEST_CASE("a source path, patch or container with \"..\" or an absolute path outside is refused") {
    CHECK(error_with("source", "source:\n  path: ../../../../etc\n") ==
          "bad/m.yaml:11:9: error: source.path: \"../../../../etc\" is " + outside_bad() +
              "\n"
              "  path: ../../../../etc\n"
              "        ^");
    std::ofstream("outside.patch") << "x\n";
    CHECK(error_with("source", "source:\n  path: src\n  patches: [../outside.patch]\n") ==
          "bad/m.yaml:12:13: error: source.patches[0]: \"../outside.patch\" is " + outside_bad() +
              "\n"
              "  patches: [../outside.patch]\n"
              "            ^");
    CHECK(error_with("container", "container:\n  rootfs: /\n") ==
          "bad/m.yaml:11:11: error: container.rootfs: \"/\" is " + outside_bad() +
              "\n"
              "  rootfs: /\n"
              "          ^");
    // Whether a file outside exists is not revealed.
    CHECK(error_with("files", "files:\n  - source: /etc/no-such-file\n    destination: /usr/x\n") ==
          "bad/m.yaml:18:13: error: files[0].source: \"/etc/no-such-file\" is " + outside_bad() +
              "\n"
              "  - source: /etc/no-such-file\n"
              "            ^");
}

TEST_CASE("a signing key outside the manifest's directory is refused before it is read") {
    CHECK(error_of(manifest() + "signing:\n  image: {key: /root/key.pem, cert: cert.pem}\n") ==
          "bad/m.yaml:18:16: error: signing.image.key: \"/root/key.pem\" is " + outside_bad() +
              "\n"
              "  image: {key: /root/key.pem, cert: cert.pem}\n"
              "               ^");
    // A token's key is not a path.
    CHECK(error_of(manifest() + "signing:\n  image: {key: \"pkcs11:token=t\", cert: c.pem}\n") ==
          "no error");
}

TEST_CASE("a symbolic link directory on the way out is refused like \"..\"") {
    fs::create_directories("bad");
    fs::remove("bad/etc-link");
    fs::create_directory_symlink("/etc", "bad/etc-link");
    CHECK(error_with("files", "files:\n  - source: etc-link/passwd\n    destination: /usr/x\n") ==
          "bad/m.yaml:18:13: error: files[0].source: \"etc-link/passwd\" leads through a "
          "symbolic link to /etc/passwd, " +
              outside_bad() +
              "\n"
              "  - source: etc-link/passwd\n"
              "            ^");
}

TEST_CASE("links and absolute paths that stay inside the manifest's directory are fine") {
    fs::create_directories("bad/src");
    fs::remove("bad/data-link");
    fs::create_symlink("data.conf", "bad/data-link");
    const auto inside = fs::absolute("bad/data.conf").string();
    CHECK(error_with("files", "files:\n  - source: data-link\n    destination: /usr/a\n"
                              "  - source: " +
                                  inside + "\n    destination: /usr/b\n") == "no error");
}

TEST_CASE("--allow-path lets local paths lead into another directory") {
    fs::create_directories("allowed/tree");
    std::ofstream("allowed/data") << "x\n";
    fs::create_directories("bad");
    fs::remove("bad/allowed-link");
    fs::create_symlink(fs::absolute("allowed/data"), "bad/allowed-link");
    const auto text = manifest({{"source", "source:\n  path: ../allowed/tree\n"},
                                {"files", "files:\n  - source: allowed-link\n"
                                          "    destination: /usr/a\n"}});
    CHECK(error_of(text).find("\"../allowed/tree\" is outside the manifest's directory") !=
          std::string::npos);
    ksx::manifest::LoadOptions options;
    options.allowed_paths = {"allowed"};
    auto m = parse(text, "bad/m.yaml", options);
    CHECK(m.sources.at(0).path == fs::absolute("allowed/tree"));
    CHECK(m.files.at(0).source == fs::absolute("bad/allowed-link"));
}

// Text that is not text, and values too long to echo.

TEST_CASE("a NUL byte is reported at its line and column with a caret") {
    CHECK(error_with("name", std::string("name: de\0mo\n", 12)) ==
          "bad/m.yaml:2:9: error: a NUL byte: a manifest is UTF-8 text\n"
          "name: de\xef\xbf\xbdmo\n"
          "        ^");
}

TEST_CASE("invalid UTF-8 is reported at its byte with a caret") {
    CHECK(error_with("name", "name: \xc3\xa9\xff\n") ==
          "bad/m.yaml:2:9: error: byte 0xff is not valid UTF-8: a manifest is UTF-8 text\n"
          "name: \xc3\xa9\xef\xbf\xbd\n"
          "       ^");
    // An overlong encoding of '/' and a lone continuation byte.
    CHECK(error_with("name", "name: a\xc0\xaf\n")
              .starts_with("bad/m.yaml:2:8: error: byte 0xc0 is not valid UTF-8"));
    CHECK(error_with("version", "version: 1\x80\n")
              .starts_with("bad/m.yaml:3:11: error: byte 0x80 is not valid UTF-8"));
}

TEST_CASE("a raw control character is reported, with the escape that writes it") {
    CHECK(error_with("name", "name: a\x1b[31mb\n") ==
          "bad/m.yaml:2:8: error: control character 0x1b: only tabs and line breaks may appear "
          "as they are (write \"\\x1b\" in a double-quoted string)\n"
          "name: a\xef\xbf\xbd[31mb\n"
          "       ^");
}

TEST_CASE("a long value is cut in the message and in the quoted line") {
    const std::string value(300, 'a');
    CHECK(error_with("name", "name: " + value + "\n") ==
          "bad/m.yaml:2:7: error: name: \"" + std::string(80, 'a') +
              "\xe2\x80\xa6\" (300 bytes) is too long (at most 64 characters)\n"
              "name: " +
              std::string(94, 'a') +
              "\xe2\x80\xa6\n"
              "      ^");
    const std::string huge(10 << 20, 'a');
    const auto message = error_with("name", "name: " + huge + "\n");
    CHECK(message.find("(10485760 bytes) is too long") != std::string::npos);
    CHECK(message.size() < 500);
}

TEST_CASE("an error far into a long line shows the part around the caret") {
    const std::string long_key(250, 'k');
    const auto message = error_with("target", "target: {id: debian, version_id: \"12\", "
                                              "architecture: x86-64, " +
                                                  long_key + ": 1}\n");
    const auto lines = message.substr(message.find('\n') + 1);
    const auto shown = lines.substr(0, lines.find('\n'));
    const auto caret = lines.substr(lines.find('\n') + 1);
    CHECK(message.starts_with("bad/m.yaml:4:62: error: target: unknown key \"" +
                              std::string(80, 'k') + "\xe2\x80\xa6\" (250 bytes)"));
    // 100 characters around the caret, cut at both ends.
    CHECK(shown.starts_with("\xe2\x80\xa6"));
    CHECK(shown.ends_with("\xe2\x80\xa6"));
    CHECK(shown.size() == 100 + 2 * 3);
    CHECK(caret == std::string(51, ' ') + "^");
}

TEST_CASE("userspace: is per-kernel or shared, nothing else") {
    CHECK(error_of(manifest()) == "no error"); // makes bad/src
    CHECK(parse(manifest(), "bad/m.yaml").userspace == ksx::manifest::Userspace::PerKernel);
    CHECK(error_with("image", "userspace: per-kernel\n") == "no error");
    CHECK(error_with("image", "userspace: shared\n") == "no error");
    CHECK(error_with("image", "userspace: split\n") ==
          "bad/m.yaml:17:12: error: userspace: \"split\" is not supported (expected one of: "
          "per-kernel, shared)\n"
          "userspace: split\n"
          "           ^");
    CHECK(error_with("image", "userspace: [shared]\n") ==
          "bad/m.yaml:17:12: error: userspace: expected a scalar, got a sequence\n"
          "userspace: [shared]\n"
          "           ^");
}

TEST_CASE("a name ending in -userspace is refused: it names a split build's shared image") {
    CHECK(error_with("name", "name: demo-userspace\n") ==
          "bad/m.yaml:2:7: error: name: \"demo-userspace\" ends in \"-userspace\", which names "
          "the shared userspace image of a split build\n"
          "name: demo-userspace\n"
          "      ^");
    CHECK(error_with("name", "name: userspace-demo\n") == "no error");
}

TEST_CASE("two targets whose shared userspace images would have one name are refused") {
    const std::string targets = "targets:\n"
                                "  - id: debian\n"
                                "    version_id: \"12\"\n"
                                "    architecture: x86-64\n"
                                "    kernels: [{release: 6.1.0-28-amd64}]\n"
                                "  - id: debian\n"
                                "    version_id: \"13\"\n"
                                "    architecture: x86-64\n"
                                "    kernels: [{release: 6.12.57+deb13-amd64}]\n";
    auto text = [&](const std::string& sources, const std::string& files) {
        return manifest({{"target", targets},
                         {"kernels", ""},
                         {"source", sources},
                         {"files", files},
                         {"image", "userspace: shared\n"}});
    };
    const std::string one_source = "source:\n  path: src\n";
    const std::string a_file = "files:\n  - source: data.conf\n    destination: /usr/share/x\n";
    CHECK(error_of(text(one_source, a_file)) ==
          "bad/m.yaml:23:12: error: userspace: targets debian-12 and debian-13 would both make "
          "the shared image demo-userspace_1.0.0.raw (give them distinct image versions)\n"
          "userspace: shared\n"
          "           ^");
    // Distinct image versions per target: two shared images.
    CHECK(error_of(text("sources:\n"
                        "  - path: src\n"
                        "    targets: [debian-12]\n"
                        "    image_version: 1.0.0-12\n"
                        "  - path: src\n"
                        "    targets: [debian-13]\n",
                        a_file)) == "no error");
    // No packages and no files: no shared image, nothing to collide.
    CHECK(error_of(text(one_source, "")) == "no error");
    // Per-kernel images never share a name here (the kernels differ).
    CHECK(error_of(manifest(
              {{"target", targets}, {"kernels", ""}, {"source", one_source}, {"files", a_file}})) ==
          "no error");
}
