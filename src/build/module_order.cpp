#include "build/build.hpp"
#include "util/error.hpp"

#include <algorithm>
#include <set>

namespace ksx::build {

namespace {

// modinfo reports names with '_'; manifests and file names may use '-'.
std::string canonical(std::string name) {
    std::replace(name.begin(), name.end(), '-', '_');
    return name;
}

} // namespace

std::vector<BuiltModule> dependency_order(std::vector<BuiltModule> modules) {
    std::set<std::string> shipped;
    for (const auto& module : modules) {
        shipped.insert(canonical(module.name));
    }
    for (auto& module : modules) {
        module.kernel_depends.clear();
        for (const auto& dep : module.depends) {
            if (!shipped.contains(canonical(dep))) {
                module.kernel_depends.push_back(dep);
            }
        }
    }
    // Repeatedly take the first module (in manifest order) whose shipped dependencies are all
    // placed: a stable topological sort, quadratic but modules are few.
    std::vector<BuiltModule> ordered;
    std::set<std::string> placed;
    while (!modules.empty()) {
        auto ready = std::find_if(modules.begin(), modules.end(), [&](const BuiltModule& m) {
            return std::all_of(m.depends.begin(), m.depends.end(), [&](const std::string& dep) {
                return !shipped.contains(canonical(dep)) || placed.contains(canonical(dep));
            });
        });
        if (ready == modules.end()) {
            std::string names;
            for (const auto& m : modules) {
                names += (names.empty() ? "" : ", ") + m.name;
            }
            throw Error("modules depend on each other in a cycle: " + names);
        }
        placed.insert(canonical(ready->name));
        ordered.push_back(std::move(*ready));
        modules.erase(ready);
    }
    return ordered;
}

} // namespace ksx::build
