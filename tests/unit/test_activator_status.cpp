#include "activator/json.hpp"
#include "activator/printable.hpp"
#include "activator/select.hpp"
#include "activator/status.hpp"
#include "activator_fixture.hpp"
#include "contract/modules_load.hpp"

#include <doctest/doctest.h>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

using namespace ksx::activator;
namespace fs = std::filesystem;

TEST_CASE("JSON strings escape quotes, backslashes, control characters and bad UTF-8") {
    CHECK(json_string("plain") == "\"plain\"");
    CHECK(json_string("a \"b\" \\c") == "\"a \\\"b\\\" \\\\c\"");
    CHECK(json_string("tab\tnl\ncr\r") == "\"tab\\tnl\\ncr\\r\"");
    CHECK(json_string(std::string("\x01\x1f", 2)) == "\"\\u0001\\u001f\"");
    CHECK(json_string(std::string("nul\0x", 5)) == "\"nul\\u0000x\"");
    CHECK(json_string("gr\xc3\xbc\xc3\x9f \xe2\x82\xac \xf0\x9f\x90\xa7") ==
          "\"gr\xc3\xbc\xc3\x9f \xe2\x82\xac \xf0\x9f\x90\xa7\"");
    CHECK(json_string("bad \xff byte") == "\"bad \\ufffd byte\"");
    CHECK(json_string("cut \xe2\x82") == "\"cut \\ufffd\\ufffd\"");
    CHECK(json_string("overlong \xc0\xaf") == "\"overlong \\ufffd\\ufffd\"");
    CHECK(json_string("del \x7f c1 \xc2\x85\xc2\x9b") == "\"del \\u007f c1 \\u0085\\u009b\"");
}

TEST_CASE("text shown from the node's files never holds a control character raw") {
    CHECK(printable("plain gr\xc3\xbc\xc3\x9f \xe2\x82\xac") ==
          "plain gr\xc3\xbc\xc3\x9f \xe2\x82\xac");
    CHECK(printable("a\nb\tc\rd\\e") == "a\\nb\\tc\\rd\\\\e");
    CHECK(printable(std::string("\x1b[2J\0\x7f", 6)) == "\\x1b[2J\\x00\\x7f");
    CHECK(printable("c1 \xc2\x9b bad \xff cut \xe2\x82") ==
          "c1 \\xc2\\x9b bad \\xff cut \\xe2\\x82");
    std::vector<std::string> lines;
    Log log{[&](const std::string& line) { lines.push_back(line); }};
    log.info("two\nlines");
    CHECK(lines == std::vector<std::string>{"kmod-sysext-activate: two\\nlines\n"});
}

TEST_CASE("status lists only well-formed images and escapes what the node's files hold") {
    ksx::test::ActivatorNode node("status-escape");
    node.image("hello", "hello_1.0.0_6.1.0-28-amd64.raw");
    node.image("hello", "hello_2.0\n  images: fake_6.1.0-28-amd64.raw");
    node.image("hello", "hello_3 0_6.1.0-28-amd64.raw");
    node.write("usr/lib/extension-release.d/extension-release.hello",
               "KMOD_SYSEXT_VERSION=1.0\x1b[31m\nKMOD_SYSEXT_KERNEL=6.1\rx\n");
    // Not an extension directory: the activator itself, say.
    node.write("usr/lib/kmod-sysext/kmod-sysext-activate", "\x7f"
                                                           "ELF");
    auto status = gather_status(node.context, node.log);
    CHECK_FALSE(node.log.failed());
    REQUIRE(status.extensions.size() == 1);
    REQUIRE(status.extensions[0].images.size() == 1);
    CHECK(status.extensions[0].images[0].file_name() == "hello_1.0.0_6.1.0-28-amd64.raw");
    auto text = format_status_text(status);
    CHECK(text == "kernel: 6.1.0-28-amd64\nstore: /var/lib/kmod-sysext\n\nhello\n  images:\n"
                  "    hello_1.0.0_6.1.0-28-amd64.raw  (this kernel)\n  selected: no\n"
                  "  merged: yes, version 1.0\\x1b[31m for kernel 6.1\\rx\n");
    auto json = format_status_json(status);
    CHECK(json.find("\"merged\":{\"version\":\"1.0\\u001b[31m\",\"kernel\":\"6.1\\rx\"}") !=
          std::string::npos);
    for (const auto& out : {text, json}) {
        CHECK(std::none_of(out.begin(), out.end(), [](char c) {
            return c != '\n' && (static_cast<unsigned char>(c) < 0x20 || c == 0x7f);
        }));
    }
}

TEST_CASE("status reads a 100000-module chain of a merged extension") {
    ksx::test::ActivatorNode node("status-chain");
    node.write("usr/lib/extension-release.d/extension-release.chain", "ID=debian\n");
    node.write("usr/lib/kmod-sysext/chain/modules.load",
               ksx::test::chain_load_order(ksx::contract::kMaxLoadOrderModules, "boot"));
    auto status = gather_status(node.context, node.log);
    CHECK_FALSE(node.log.failed());
    REQUIRE(status.extensions.size() == 1);
    CHECK(status.extensions[0].modules.size() == ksx::contract::kMaxLoadOrderModules);
}

TEST_CASE("status reports the store, the selection, what is merged and what is loaded") {
    ksx::test::ActivatorNode node("status-root");
    node.image("hello", "hello_1.0.0_6.1.0-28-amd64.raw");
    node.image("hello", "hello_1.0.0_6.12.5+deb12-amd64.raw");
    REQUIRE(select_images(node.context, node.log) == 0);
    node.write("usr/lib/extension-release.d/extension-release.hello",
               "ID=debian\nVERSION_ID=12\nKMOD_SYSEXT_VERSION=1.0.0\n"
               "KMOD_SYSEXT_KERNEL=6.1.0-28-amd64\n");
    node.write("usr/lib/kmod-sysext/hello/modules.load",
               "# kernel 6.1.0-28-amd64\n"
               "hello_core\t/usr/lib/m/hello_core.ko\t-\tboot\t\n"
               "hello-x\t/usr/lib/m/hello-x.ko\thello_core\tdemand\t\n");
    fs::create_directories(node.root / "sys/module/hello_core");
    fs::create_directories(node.root / "sys/module/hello_x");
    // Not a name kmod-sysext writes: not reported.
    node.write("usr/lib/extension-release.d/extension-release.\"odd\"", "ID=debian\n");

    auto status = gather_status(node.context, node.log);
    CHECK(format_status_json(status) ==
          "{\"kernel\":\"6.1.0-28-amd64\",\"store\":\"/var/lib/kmod-sysext\",\"extensions\":["
          "{\"name\":\"hello\",\"images\":["
          "{\"file\":\"hello_1.0.0_6.1.0-28-amd64.raw\",\"version\":\"1.0.0\","
          "\"kernel\":\"6.1.0-28-amd64\"},"
          "{\"file\":\"hello_1.0.0_6.12.5+deb12-amd64.raw\",\"version\":\"1.0.0\","
          "\"kernel\":\"6.12.5+deb12-amd64\"}],"
          "\"selected\":\"/var/lib/kmod-sysext/hello/hello_1.0.0_6.1.0-28-amd64.raw\","
          "\"merged\":{\"version\":\"1.0.0\",\"kernel\":\"6.1.0-28-amd64\"},"
          "\"modules\":[{\"name\":\"hello_core\",\"boot\":true,\"loaded\":true},"
          "{\"name\":\"hello-x\",\"boot\":false,\"loaded\":true}],"
          "\"verification\":{\"image\":"
          "\"/var/lib/kmod-sysext/hello/hello_1.0.0_6.1.0-28-amd64.raw\","
          "\"state\":\"unsigned\",\"verified\":false,\"root_hash\":null,\"signer\":null,"
          "\"reason\":\"no verity data (signatures optional)\"}}]}\n");
    auto text = format_status_text(status);
    CHECK(text.find("hello\n  images:\n    hello_1.0.0_6.1.0-28-amd64.raw  (this kernel)\n") !=
          std::string::npos);
    CHECK(text.find("  merged: yes, version 1.0.0 for kernel 6.1.0-28-amd64\n  modules: "
                    "hello_core (loaded) hello-x (loaded)\n") != std::string::npos);
    CHECK(text.find("  verified: no: no verity data (signatures optional)\n") != std::string::npos);
}
