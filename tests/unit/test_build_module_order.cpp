#include "build/build.hpp"
#include "util/error.hpp"

#include <doctest/doctest.h>

using ksx::build::BuiltModule;
using ksx::build::dependency_order;

namespace {

BuiltModule module(std::string name, std::vector<std::string> depends) {
    BuiltModule m;
    m.name = std::move(name);
    m.depends = std::move(depends);
    return m;
}

std::vector<std::string> names(const std::vector<BuiltModule>& modules) {
    std::vector<std::string> out;
    for (const auto& m : modules) {
        out.push_back(m.name);
    }
    return out;
}

} // namespace

TEST_CASE("a module is ordered after the shipped module it depends on") {
    auto ordered = dependency_order({module("hello", {"hello_core"}), module("hello_core", {})});
    CHECK(names(ordered) == std::vector<std::string>{"hello_core", "hello"});
}

TEST_CASE("independent modules keep the manifest's order") {
    auto ordered = dependency_order({module("b", {}), module("a", {}), module("c", {})});
    CHECK(names(ordered) == std::vector<std::string>{"b", "a", "c"});
}

TEST_CASE("dependencies that are not shipped become in-kernel dependencies") {
    auto ordered =
        dependency_order({module("nvidia_drm", {"nvidia_modeset", "drm_kms_helper", "drm"}),
                          module("nvidia_modeset", {"nvidia"}), module("nvidia", {"i2c_core"})});
    CHECK(names(ordered) == std::vector<std::string>{"nvidia", "nvidia_modeset", "nvidia_drm"});
    CHECK(ordered[0].kernel_depends == std::vector<std::string>{"i2c_core"});
    CHECK(ordered[1].kernel_depends.empty());
    CHECK(ordered[2].kernel_depends == std::vector<std::string>{"drm_kms_helper", "drm"});
}

TEST_CASE("dashes and underscores name the same module") {
    auto ordered = dependency_order({module("zfs", {"spl_x"}), module("spl-x", {})});
    CHECK(names(ordered) == std::vector<std::string>{"spl-x", "zfs"});
    CHECK(ordered[1].kernel_depends.empty());
}

TEST_CASE("a dependency cycle is an error naming the modules in it") {
    CHECK_THROWS_WITH_AS(
        dependency_order({module("ok", {}), module("a", {"b"}), module("b", {"a"})}),
        "modules depend on each other in a cycle: a, b", ksx::Error);
}
