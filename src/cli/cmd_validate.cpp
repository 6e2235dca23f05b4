// `kmod-sysext validate MANIFEST`: parse and check a manifest without building anything.
#include "cli/commands.hpp"
#include "cli/manifest_paths.hpp"
#include "manifest/manifest.hpp"

#include <fmt/core.h>
#include <memory>
#include <nlohmann/json.hpp>

namespace ksx::cli {

namespace {

nlohmann::json describe_kernels(const std::vector<manifest::KernelSpec>& specs) {
    nlohmann::json kernels = nlohmann::json::array();
    for (const auto& k : specs) {
        nlohmann::json kernel{
            {k.kind == manifest::KernelSpec::Kind::Release ? "release" : "package", k.value}};
        if (!k.suite.empty()) {
            kernel["suite"] = k.suite;
        }
        kernels.push_back(kernel);
    }
    return kernels;
}

nlohmann::json describe_os(const manifest::TargetOs& os) {
    nlohmann::json target{{"id", os.id}, {"architecture", os.architecture}};
    if (!os.version_id.empty()) {
        target["version_id"] = os.version_id;
    } else {
        target["sysext_level"] = os.sysext_level;
    }
    return target;
}

nlohmann::json describe(const manifest::Manifest& m) {
    nlohmann::json modules = nlohmann::json::array();
    for (const auto& mod : m.modules) {
        modules.push_back({{"name", mod.name}, {"options", mod.options}, {"load", mod.load}});
    }
    nlohmann::json out = {
        {"manifest", m.file.string()}, {"name", m.name},
        {"version", m.version},        {"modules", modules},
        {"files", m.files.size()},     {"compression", manifest::to_string(m.image.compression)}};
    if (m.target_list) {
        nlohmann::json targets = nlohmann::json::array();
        for (const auto& t : m.targets) {
            auto entry = describe_os(t.os);
            entry["name"] = t.name;
            entry["kernels"] = describe_kernels(t.kernels);
            targets.push_back(entry);
        }
        out["targets"] = targets;
    } else {
        out["target"] = describe_os(m.target);
        out["kernels"] = describe_kernels(m.kernels);
    }
    return out;
}

size_t kernel_count(const manifest::Manifest& m) {
    size_t count = 0;
    for (const auto& t : m.targets) {
        count += t.kernels.size();
    }
    return count;
}

} // namespace

Command validate_command() {
    return {"validate", "Check a manifest and print what it describes",
            [](CLI::App& app, const GlobalOptions& global) -> std::function<int()> {
                auto file = std::make_shared<std::string>();
                auto allowed = std::make_shared<std::vector<std::string>>();
                app.add_option("manifest", *file, "The manifest (YAML)")->required();
                add_allow_path_option(app, *allowed);
                return [file, allowed, &global] {
                    auto m = manifest::load(*file, load_options(*allowed));
                    if (global.json) {
                        fmt::print("{}\n", describe(m).dump(2));
                    } else if (!global.quiet) {
                        fmt::print("{}: ok: {} {}, {}{} kernel(s), {} module(s), {} extra "
                                   "file(s)\n",
                                   *file, m.name, m.version,
                                   m.target_list ? std::to_string(m.targets.size()) + " target(s), "
                                                 : std::string(),
                                   kernel_count(m), m.modules.size(), m.files.size());
                    }
                    return 0;
                };
            }};
}

} // namespace ksx::cli
