#include "activator_fixture.hpp"
#include "contract/modules_load.hpp"
#include "util/error.hpp"

#include <doctest/doctest.h>
#include <string>
#include <vector>

using namespace ksx;

namespace {

const std::string kGood = "# kmod-sysext load order, format 1\n"
                          "# extension hello 1.0.0\n"
                          "# kernel 6.1.0-28-amd64\n"
                          "hello_core\t/usr/lib/modules/6.1.0-28-amd64/extra/hello/hello_core.ko\t-"
                          "\tboot\tgreeting=\"hi there\"\n"
                          "hello\t/usr/lib/modules/6.1.0-28-amd64/extra/hello/hello.ko\t"
                          "hello_core,crc32c\tdemand\t\n";

void check_error(const std::string& text, const std::string& message) {
    CAPTURE(text);
    CHECK_THROWS_WITH_AS(contract::parse_load_order(text, "modules.load"), message.c_str(),
                         InputError);
}

} // namespace

TEST_CASE("the load order written by the image stage parses into modules in order") {
    auto order = contract::parse_load_order(kGood, "modules.load");
    CHECK(order.kernel == "6.1.0-28-amd64");
    REQUIRE(order.modules.size() == 2);
    const auto& core = order.modules[0];
    CHECK(core.name == "hello_core");
    CHECK(core.path == "/usr/lib/modules/6.1.0-28-amd64/extra/hello/hello_core.ko");
    CHECK(core.depends.empty());
    CHECK(core.boot);
    CHECK(core.options == "greeting=\"hi there\"");
    CHECK(core.line == 4);
    const auto& hello = order.modules[1];
    CHECK(hello.depends == std::vector<std::string>{"hello_core", "crc32c"});
    CHECK_FALSE(hello.boot);
    CHECK(hello.options.empty());
    CHECK(order.find("hello") == &hello);
    CHECK(order.find("crc32c") == nullptr);
}

TEST_CASE("an empty load order and one without a kernel line are fine") {
    CHECK(contract::parse_load_order("", "modules.load").modules.empty());
    auto order = contract::parse_load_order("a\t/opt/m/a.ko\t-\tboot\t\n", "modules.load");
    CHECK_FALSE(order.kernel);
    CHECK(order.modules.size() == 1);
}

TEST_CASE("bad load order lines give the file, the line and what is wrong") {
    check_error("# kmod-sysext load order, format 2\n",
                "modules.load:1: unsupported format \"2\" (this activator reads format 1)");
    check_error("\nhello\t/usr/lib/hello.ko\t-\tboot\n",
                "modules.load:2: expected 5 TAB-separated fields (name, path, depends, "
                "boot|demand, options), found 4");
    check_error("hello /usr/lib/hello.ko - boot x\n",
                "modules.load:1: expected 5 TAB-separated fields (name, path, depends, "
                "boot|demand, options), found 1");
    check_error("hel lo\t/usr/lib/hello.ko\t-\tboot\t\n",
                "modules.load:1: invalid module name \"hel lo\"");
    check_error("\t/usr/lib/hello.ko\t-\tboot\t\n", "modules.load:1: invalid module name \"\"");
    check_error("hello\tusr/lib/hello.ko\t-\tboot\t\n",
                "modules.load:1: module path \"usr/lib/hello.ko\" is not an absolute path "
                "inside /usr or /opt");
    check_error("hello\t/usr/../etc/shadow\t-\tboot\t\n",
                "modules.load:1: module path \"/usr/../etc/shadow\" is not an absolute path "
                "inside /usr or /opt");
    check_error("hello\t/etc/hello.ko\t-\tboot\t\n",
                "modules.load:1: module path \"/etc/hello.ko\" is not an absolute path inside "
                "/usr or /opt");
    check_error("hello\t/usr/lib/hello.ko\ta,,b\tboot\t\n",
                "modules.load:1: invalid dependency list \"a,,b\"");
    check_error("hello\t/usr/lib/hello.ko\thello\tboot\t\n",
                "modules.load:1: hello depends on itself");
    check_error("hello\t/usr/lib/hello.ko\t-\tsometimes\t\n",
                "modules.load:1: \"sometimes\" is neither boot nor demand");
    check_error("hello\t/usr/lib/a.ko\t-\tboot\t\n# again\nhello\t/usr/lib/b.ko\t-\tboot\t\n",
                "modules.load:3: hello is listed twice (first on line 1)");
    check_error("a\t/usr/lib/a.ko\tb\tboot\t\nb\t/usr/lib/b.ko\tc\tboot\t\n"
                "c\t/usr/lib/c.ko\ta\tboot\t\n",
                "modules.load:1: dependency cycle: a -> b -> c -> a");
}

TEST_CASE("a 100000-module dependency chain parses and is checked for cycles without recursion") {
    auto text = test::chain_load_order(contract::kMaxLoadOrderModules, "boot");
    auto order = contract::parse_load_order(text, "modules.load");
    REQUIRE(order.modules.size() == contract::kMaxLoadOrderModules);
    CHECK(order.find("m99999")->line == 100000);
    CHECK(order.find("m0")->depends == std::vector<std::string>{"m1"});
}

TEST_CASE("a cycle at the bottom of a long chain is found and named") {
    auto text = test::chain_load_order(50000, "boot");
    text.replace(text.rfind("\t-\t"), 3, "\tm49998\t");
    check_error(text, "modules.load:49999: dependency cycle: m49998 -> m49999 -> m49998");
}

TEST_CASE("a load order past the activator's bounds is refused with the bound") {
    check_error(test::chain_load_order(contract::kMaxLoadOrderModules + 1, "boot"),
                "modules.load:100001: more than 100000 modules, more than the activator loads "
                "from one image");
    check_error(std::string(contract::kMaxLoadOrderBytes + 1, '#'),
                "modules.load: 16777217 bytes, more than the activator reads (16777216)");
}

TEST_CASE("a load order written by format_load_order parses back to the same modules") {
    std::vector<contract::LoadEntry> written(3);
    written[0] = {"core",
                  "/usr/lib/modules/6.12.5-amd64/extra/x/core.ko.xz",
                  {},
                  true,
                  "greeting=\"hi there\" debug=1",
                  0};
    written[1] = {"mid", "/opt/x/mid.ko", {"core", "crc32c"}, false, "", 0};
    written[2] = {"top", "/usr/lib/modules/6.12.5-amd64/extra/x/top.ko.zst", {"mid"}, true, "", 0};
    auto text = contract::format_load_order("x", "1.0.0+6.12", "6.12.5-amd64", written);
    CHECK(text.starts_with("# kmod-sysext load order, format 1\n"
                           "# extension x 1.0.0+6.12\n"
                           "# kernel 6.12.5-amd64\n"
                           "core\t"));
    auto order = contract::parse_load_order(text, "modules.load");
    CHECK(order.kernel == "6.12.5-amd64");
    REQUIRE(order.modules.size() == written.size());
    for (size_t i = 0; i < written.size(); ++i) {
        CAPTURE(i);
        CHECK(order.modules[i].name == written[i].name);
        CHECK(order.modules[i].path == written[i].path);
        CHECK(order.modules[i].depends == written[i].depends);
        CHECK(order.modules[i].boot == written[i].boot);
        CHECK(order.modules[i].options == written[i].options);
        CHECK(order.modules[i].line == static_cast<int>(i) + 4);
    }
    CHECK(contract::format_load_order("x", "1.0.0+6.12", "6.12.5-amd64", order.modules) == text);
}
