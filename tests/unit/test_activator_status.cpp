#include "activator/json.hpp"
#include "activator/select.hpp"
#include "activator/status.hpp"

#include <doctest/doctest.h>
#include <filesystem>
#include <fstream>
#include <string>

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
}

TEST_CASE("status reports the store, the selection, what is merged and what is loaded") {
    fs::path root = fs::absolute("status-root");
    fs::remove_all(root);
    auto store = root / "var/lib/kmod-sysext/hello";
    fs::create_directories(store);
    std::ofstream(store / "hello_1.0.0_6.1.0-28-amd64.raw") << "x";
    std::ofstream(store / "hello_1.0.0_6.12.5+deb12-amd64.raw") << "x";
    std::vector<std::string> lines;
    Log log{[&](const std::string& line) { lines.push_back(line); }};
    Context context;
    context.root = root;
    context.kernel = "6.1.0-28-amd64";
    REQUIRE(select_images(context, log) == 0);
    fs::create_directories(root / "usr/lib/extension-release.d");
    std::ofstream(root / "usr/lib/extension-release.d/extension-release.hello")
        << "ID=debian\nVERSION_ID=12\nKMOD_SYSEXT_VERSION=1.0.0\n"
           "KMOD_SYSEXT_KERNEL=6.1.0-28-amd64\n";
    fs::create_directories(root / "usr/lib/kmod-sysext/hello");
    std::ofstream(root / "usr/lib/kmod-sysext/hello/modules.load")
        << "# kernel 6.1.0-28-amd64\n"
           "hello_core\t/usr/lib/m/hello_core.ko\t-\tboot\t\n"
           "hello-x\t/usr/lib/m/hello-x.ko\thello_core\tdemand\t\n";
    fs::create_directories(root / "sys/module/hello_core");
    fs::create_directories(root / "sys/module/hello_x");
    std::ofstream(root / "usr/lib/extension-release.d/extension-release.\"odd\"") << "ID=debian\n";

    auto status = gather_status(context, log);
    CHECK(format_status_json(status) ==
          "{\"kernel\":\"6.1.0-28-amd64\",\"store\":\"/var/lib/kmod-sysext\",\"extensions\":["
          "{\"name\":\"\\\"odd\\\"\",\"images\":[],\"selected\":null,"
          "\"merged\":{\"version\":\"\",\"kernel\":\"\"},\"modules\":[],"
          "\"verification\":null},"
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
