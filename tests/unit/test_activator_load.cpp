#include "activator/command_line.hpp"
#include "activator/load.hpp"
#include "activator_fixture.hpp"
#include "pack/layout.hpp"
#include "util/error.hpp"

#include <cerrno>
#include <doctest/doctest.h>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <string>
#include <vector>

using namespace ksx;
using namespace ksx::activator;
namespace fs = std::filesystem;

namespace {

// Records what would be loaded; answers with the errors a test sets.
class RecordedModules final : public KernelModules {
public:
    std::vector<std::string> calls;
    std::map<std::string, int> results;                    // by file name or module name
    std::map<std::string, ModuleSignatureInfo> signatures; // by file name; unreadable if absent

    int insert_path(const fs::path& path, const std::string& options) override {
        calls.push_back("path " + path.string() + (options.empty() ? "" : " [" + options + "]"));
        auto it = results.find(path.filename().string());
        return it == results.end() ? 0 : it->second;
    }
    int probe_name(const std::string& name, std::string& path) override {
        calls.push_back("name " + name);
        auto it = results.find(name);
        if (it == results.end()) {
            path = "/lib/modules/k/kernel/" + name + ".ko";
            return 0;
        }
        return it->second;
    }
    ModuleSignatureInfo signature_of(const fs::path& path) override {
        calls.push_back("signature " + path.filename().string());
        auto it = signatures.find(path.filename().string());
        return it == signatures.end() ? ModuleSignatureInfo{} : it->second;
    }
};

struct Node : test::ActivatorNode {
    RecordedModules modules;

    using ActivatorNode::ActivatorNode;
    void load_order(const std::string& extension, const std::string& text) const {
        write("usr/lib/kmod-sysext/" + extension + "/modules.load", text);
    }
    std::string path(const std::string& node_path) const {
        return "path " + (root / node_path.substr(1)).string();
    }
};

const std::string kHello =
    "# kmod-sysext load order, format 1\n"
    "# kernel 6.1.0-28-amd64\n"
    "hello_core\t/usr/lib/modules/6.1.0-28-amd64/extra/hello/hello_core.ko\t-\tdemand\tg=1\n"
    "hello\t/usr/lib/modules/6.1.0-28-amd64/extra/hello/hello.ko\thello_core,crc32c\tboot\t\n"
    "extra\t/usr/lib/modules/6.1.0-28-amd64/extra/hello/extra.ko\t-\tdemand\t\n";

const std::string kDir = "/usr/lib/modules/6.1.0-28-amd64/extra/hello/";

} // namespace

TEST_CASE("load inserts boot modules after their dependencies, by path and by name") {
    Node node("order");
    node.load_order("hello", kHello);
    CHECK(load_boot_modules(node.context, node.modules, node.log) == 0);
    CHECK(node.modules.calls == std::vector<std::string>{node.path(kDir + "hello_core.ko [g=1]"),
                                                         "name crc32c",
                                                         node.path(kDir + "hello.ko")});
    CHECK(node.logged("loaded hello_core from " + kDir + "hello_core.ko with options g=1"));
    CHECK(node.logged("loaded crc32c (needed by hello) from /lib/modules/k/kernel/crc32c.ko"));
    CHECK(node.logged("loaded hello from " + kDir + "hello.ko"));
}

TEST_CASE("already loaded modules are fine") {
    Node node("loaded");
    node.load_order("hello", kHello);
    node.modules.results["hello_core.ko"] = -EEXIST;
    node.modules.results["hello.ko"] = -EEXIST;
    CHECK(load_boot_modules(node.context, node.modules, node.log) == 0);
    CHECK(node.logged("hello is already loaded"));
}

TEST_CASE("a failed module is logged with its path and the kernel's reason, the rest goes on") {
    Node node("failure");
    node.load_order("hello", kHello);
    node.load_order("zfs", "zfs\t/usr/lib/modules/6.1.0-28-amd64/extra/zfs/zfs.ko\t-\tboot\t\n");
    node.modules.results["hello_core.ko"] = -ENOEXEC;
    CHECK(load_boot_modules(node.context, node.modules, node.log) == 1);
    CHECK(
        node.logged("failed to load hello_core from " + kDir + "hello_core.ko: Exec format error"));
    CHECK(node.logged("not loading hello from " + kDir + "hello.ko: a dependency failed"));
    CHECK(node.logged("loaded zfs from /usr/lib/modules/6.1.0-28-amd64/extra/zfs/zfs.ko"));
}

namespace {

// What is logged about hello_core when the kernel refuses it with `err` and its file carries
// `signature` (unreadable when unset); hello, which needs it, is not tried.
std::string refusal(const std::string& dir, int err,
                    std::optional<ModuleSignatureInfo> signature = std::nullopt) {
    Node node(dir);
    node.load_order("hello", kHello);
    node.modules.results["hello_core.ko"] = err;
    if (signature) {
        node.modules.signatures["hello_core.ko"] = *signature;
    }
    CHECK(load_boot_modules(node.context, node.modules, node.log) == 1);
    CHECK(node.logged("not loading hello from " + kDir + "hello.ko: a dependency failed"));
    const std::string prefix = "kmod-sysext-activate: failed to load hello_core from " + kDir;
    for (const auto& line : node.lines) {
        if (line.starts_with(prefix)) {
            return line.substr(prefix.size());
        }
    }
    return {};
}

} // namespace

TEST_CASE("a module refused for its signature says that the kernel enforces signatures") {
    CHECK(refusal("sigenforce", -EKEYREJECTED) ==
          "hello_core.ko: Key was rejected by service (the kernel enforces module signatures and "
          "refused this module: it is unsigned or signed by a key the kernel does not trust)\n");
}

TEST_CASE("a refused unsigned module is reported as carrying no signature") {
    CHECK(refusal("sigenforce-unsigned", -EKEYREJECTED,
                  ModuleSignatureInfo{true, false, "", "", ""}) ==
          "hello_core.ko: Key was rejected by service (the kernel enforces module signatures and "
          "refused this module: it carries no signature)\n");
}

TEST_CASE("a refused signed module names its signer and key") {
    CHECK(refusal("sigenforce-untrusted", -ENOKEY,
                  ModuleSignatureInfo{true, true, "build key", "1A:2B", "sha512"}) ==
          "hello_core.ko: Required key not available (the kernel enforces module signatures and "
          "refused this module: it is signed by \"build key\" (key 1A:2B, sha512), a key that is "
          "not in the kernel's keyring)\n");
    // libkmod without OpenSSL does not name the signer.
    CHECK(refusal("sigenforce-anonymous", -EKEYREJECTED,
                  ModuleSignatureInfo{true, true, "", "", ""}) ==
          "hello_core.ko: Key was rejected by service (the kernel enforces module signatures and "
          "refused this module: it is signed by a key that is not in the kernel's keyring)\n");
}

TEST_CASE("a driver that finds no device says so, and its dependents are not loaded") {
    Node node("nodevice");
    node.load_order("hello", kHello);
    node.modules.results["hello_core.ko"] = -ENODEV;
    CHECK(load_boot_modules(node.context, node.modules, node.log) == 1);
    CHECK(node.logged("failed to load hello_core from " + kDir +
                      "hello_core.ko: No such device (the driver found no device it supports)"));
    CHECK(node.logged("not loading hello from " + kDir + "hello.ko: a dependency failed"));
}

TEST_CASE("a missing host dependency names the kernel it was looked for in") {
    Node node("hostdep");
    node.load_order("hello", kHello);
    node.modules.results["crc32c"] = -ENOENT;
    CHECK(load_boot_modules(node.context, node.modules, node.log) == 1);
    CHECK(node.logged("failed to load crc32c (needed by hello) from the modules of kernel "
                      "6.1.0-28-amd64: not found"));
}

TEST_CASE("an image built for another kernel or with bad metadata is refused by name") {
    Node node("refused");
    node.load_order("hello", "# kernel 6.12.5+deb12-amd64\n");
    node.load_order("broken", "x\t/usr/x.ko\t-\tboot\n");
    CHECK(load_boot_modules(node.context, node.modules, node.log) == 1);
    CHECK(node.modules.calls.empty());
    auto dir = (node.root / "usr/lib/kmod-sysext").string();
    CHECK(node.logged(dir + "/hello/modules.load: built for kernel 6.12.5+deb12-amd64, but the "
                            "running kernel is 6.1.0-28-amd64; not loading the modules of hello"));
    CHECK(node.logged(dir + "/broken/modules.load:1: expected 5 TAB-separated fields (name, path, "
                            "depends, boot|demand, options), found 4; not loading the modules of "
                            "broken"));
}

TEST_CASE("load with nothing merged has nothing to do") {
    Node node("nothing");
    CHECK(load_boot_modules(node.context, node.modules, node.log) == 0);
    CHECK(node.logged("no extension is merged (" + (node.root / "usr/lib/kmod-sysext").string() +
                      " does not exist): nothing to load"));
}

TEST_CASE("modprobe loads a demand module with its dependencies and the caller's options") {
    Node node("modprobe");
    node.load_order("hello", kHello);
    CHECK(modprobe_module(node.context, node.modules, node.log, "hello", "extra", {"a=1", "b=2"}) ==
          0);
    CHECK(node.modules.calls == std::vector<std::string>{node.path(kDir + "extra.ko [a=1 b=2]")});
    node.modules.calls.clear();
    CHECK(modprobe_module(node.context, node.modules, node.log, "hello", "hello", {}) == 0);
    CHECK(node.modules.calls == std::vector<std::string>{node.path(kDir + "hello_core.ko [g=1]"),
                                                         "name crc32c",
                                                         node.path(kDir + "hello.ko")});
    CHECK_THROWS_WITH_AS(modprobe_module(node.context, node.modules, node.log, "hello", "nope", {}),
                         ("nope is not a module of extension hello (" +
                          (node.root / "usr/lib/kmod-sysext/hello/modules.load").string() + ")")
                             .c_str(),
                         InputError);
}

TEST_CASE("the image's modprobe hook calls a command line the activator accepts") {
    manifest::Manifest m;
    m.name = "hello";
    m.version = "1.0.0";
    m.target = {"debian", "12", "", "x86-64"};
    build::KernelBuild b;
    b.kernel_release = "6.1.0-28-amd64";
    build::BuiltModule hello;
    hello.name = "hello";
    hello.file = KSX_SOURCE_DIR "/manifests/hello/hello.c";
    b.modules = {hello};
    auto tree = pack::compose(m, b);
    const auto& conf = tree.nodes().at("usr/lib/modprobe.d/kmod-sysext-hello.conf");
    REQUIRE(conf.content);
    CHECK(conf.content->find("install hello /usr/lib/kmod-sysext/hello/modprobe-hook hello "
                             "$CMDLINE_OPTS\n") != std::string::npos);
    const auto& hook = tree.nodes().at("usr/lib/kmod-sysext/hello/modprobe-hook");
    REQUIRE(hook.content);
    CHECK(hook.content->starts_with("#!/bin/sh\n"));
    CHECK(hook.content->find("\nexec kmod-sysext-activate modprobe --extension hello \"$@\"\n") !=
          std::string::npos);

    // What modprobe runs for `modprobe hello x=1 -v`: the hook with "hello x=1 -v".
    auto invocation =
        parse_command_line({"modprobe", "--extension", "hello", "hello", "x=1", "-v"});
    CHECK(invocation.verb == "modprobe");
    CHECK(invocation.extension == "hello");
    CHECK(invocation.module == "hello");
    CHECK(invocation.args == std::vector<std::string>{"x=1", "-v"});
}

TEST_CASE("the command line rejects unknown verbs and options with a usage error") {
    CHECK_THROWS_WITH_AS(parse_command_line({"frobnicate"}), "unknown verb frobnicate (see --help)",
                         InputError);
    CHECK_THROWS_WITH_AS(parse_command_line({"select", "--json"}),
                         "unknown option --json for select (see --help)", InputError);
    CHECK_THROWS_WITH_AS(parse_command_line({}), "no verb given (see --help)", InputError);
    CHECK_THROWS_WITH_AS(parse_command_line({"select", "--store=relative"}),
                         "--store needs an absolute path (as the node sees it)", InputError);
    auto invocation =
        parse_command_line({"--root", "/tmp/x", "status", "--json", "--kernel=6.1.0-1-amd64"});
    CHECK(invocation.context.root == "/tmp/x");
    CHECK(invocation.context.kernel == "6.1.0-1-amd64");
    CHECK(invocation.json);
}

TEST_CASE("load and modprobe walk a 100000-module dependency chain, deepest module first") {
    const auto chain = "# kernel 6.1.0-28-amd64\n" +
                       test::chain_load_order(contract::kMaxLoadOrderModules, "boot");
    Node node("chain");
    node.load_order("chain", chain);
    CHECK(load_boot_modules(node.context, node.modules, node.log) == 0);
    REQUIRE(node.modules.calls.size() == contract::kMaxLoadOrderModules);
    CHECK(node.modules.calls.front() == node.path("/usr/lib/m/m99999.ko"));
    CHECK(node.modules.calls.back() == node.path("/usr/lib/m/m0.ko"));
    CHECK(node.logged("chain: 100000 boot module(s) handled"));

    Node demand("chain-demand");
    demand.load_order("chain",
                      "# kernel 6.1.0-28-amd64\n" +
                          test::chain_load_order(contract::kMaxLoadOrderModules, "demand"));
    CHECK(modprobe_module(demand.context, demand.modules, demand.log, "chain", "m0", {"x=1"}) == 0);
    REQUIRE(demand.modules.calls.size() == contract::kMaxLoadOrderModules);
    CHECK(demand.modules.calls.front() == demand.path("/usr/lib/m/m99999.ko"));
    CHECK(demand.modules.calls.back() == demand.path("/usr/lib/m/m0.ko [x=1]"));
}

TEST_CASE("a failure deep in a long chain stops every module above it, each logged once") {
    Node node("chain-failure");
    node.load_order("chain", test::chain_load_order(1000, "boot"));
    node.modules.results["m999.ko"] = -ENOEXEC;
    CHECK(load_boot_modules(node.context, node.modules, node.log) == 1);
    CHECK(node.modules.calls == std::vector<std::string>{node.path("/usr/lib/m/m999.ko")});
    CHECK(node.logged("failed to load m999 from /usr/lib/m/m999.ko: Exec format error"));
    CHECK(node.logged("not loading m0 from /usr/lib/m/m0.ko: a dependency failed"));
    CHECK(node.lines.size() == 1001);
}

TEST_CASE("a modules.load larger than the activator reads is refused by name") {
    Node node("huge");
    node.load_order("hello", std::string(contract::kMaxLoadOrderBytes + 1, '#'));
    CHECK(load_boot_modules(node.context, node.modules, node.log) == 1);
    CHECK(node.modules.calls.empty());
    CHECK(node.logged((node.root / "usr/lib/kmod-sysext/hello/modules.load").string() +
                      " is larger than 16777216 bytes, more than the activator reads from it; "
                      "not loading the modules of hello"));
}

TEST_CASE("entries of /usr/lib/kmod-sysext that are not extension directories are left alone") {
    Node node("not-extensions");
    node.load_order("hello", kHello);
    // The activator itself is a natural thing to keep there.
    std::ofstream(node.root / "usr/lib/kmod-sysext/kmod-sysext-activate") << "\x7f"
                                                                             "ELF";
    fs::create_symlink("kmod-sysext-activate", node.root / "usr/lib/kmod-sysext/activate");
    fs::create_directories(node.root / "usr/lib/kmod-sysext/Not_an_extension");
    CHECK(load_boot_modules(node.context, node.modules, node.log) == 0);
    CHECK(node.modules.calls == std::vector<std::string>{node.path(kDir + "hello_core.ko [g=1]"),
                                                         "name crc32c",
                                                         node.path(kDir + "hello.ko")});
    CHECK_FALSE(node.log.failed());
    CHECK(node.logged("hello: 1 boot module(s) handled"));
}

TEST_CASE("a modules.load behind a symlink that leaves --root is not read") {
    Node node("load-beneath");
    auto outside = test::outside_root("load-beneath-outside");
    fs::create_directories(outside / "hello");
    std::ofstream(outside / "hello/modules.load") << kHello;
    fs::create_directories(node.root / "usr/lib/kmod-sysext");
    SUBCASE("an absolute symlink") {
        fs::create_symlink(outside / "hello", node.root / "usr/lib/kmod-sysext/hello");
    }
    SUBCASE("a relative symlink that climbs out") {
        fs::create_symlink("../../../../load-beneath-outside/hello",
                           node.root / "usr/lib/kmod-sysext/hello");
    }
    CHECK(load_boot_modules(node.context, node.modules, node.log) == 0);
    CHECK(node.modules.calls.empty());
    CHECK_THROWS_AS(modprobe_module(node.context, node.modules, node.log, "hello", "hello", {}),
                    Error);
    CHECK(node.modules.calls.empty());
}

TEST_CASE("--kernel takes only a kernel release of the builder's rule") {
    for (const char* bad : {"6.1\n", "6.1 x", "6.1\"", "..", "6.1/x", ""}) {
        CAPTURE(bad);
        CHECK_THROWS_AS(parse_command_line({"status", std::string("--kernel=") + bad}), InputError);
    }
    CHECK_THROWS_WITH_AS(parse_command_line({"status", "--kernel=" + std::string(65, '6')}),
                         ("--kernel: \"" + std::string(65, '6') +
                          "\" is not a kernel release (letters, digits and \"._+~-\", at most "
                          "64 characters)")
                             .c_str(),
                         InputError);
    CHECK(parse_command_line({"status", "--kernel=6.12.5+deb12-amd64_custom~1"}).context.kernel ==
          "6.12.5+deb12-amd64_custom~1");
}
