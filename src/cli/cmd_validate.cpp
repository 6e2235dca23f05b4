// `kmod-sysext validate MANIFEST`: parse and check a manifest without building anything.
#include "cli/commands.hpp"
#include "cli/manifest_paths.hpp"
#include "manifest/manifest.hpp"

#include <fmt/core.h>
#include <memory>
#include <nlohmann/json.hpp>

namespace ksx::cli {

namespace {

nlohmann::json describe(const manifest::Manifest& m) {
    nlohmann::json kernels = nlohmann::json::array();
    for (const auto& k : m.kernels) {
        kernels.push_back(
            {{k.kind == manifest::KernelSpec::Kind::Release ? "release" : "package", k.value}});
    }
    nlohmann::json modules = nlohmann::json::array();
    for (const auto& mod : m.modules) {
        modules.push_back({{"name", mod.name}, {"options", mod.options}, {"load", mod.load}});
    }
    nlohmann::json target{{"id", m.target.id}, {"architecture", m.target.architecture}};
    if (!m.target.version_id.empty()) {
        target["version_id"] = m.target.version_id;
    } else {
        target["sysext_level"] = m.target.sysext_level;
    }
    return {
        {"manifest", m.file.string()}, {"name", m.name},
        {"version", m.version},        {"target", target},
        {"kernels", kernels},          {"modules", modules},
        {"files", m.files.size()},     {"compression", manifest::to_string(m.image.compression)}};
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
                        fmt::print("{}: ok: {} {}, {} kernel(s), {} module(s), {} extra file(s)\n",
                                   *file, m.name, m.version, m.kernels.size(), m.modules.size(),
                                   m.files.size());
                    }
                    return 0;
                };
            }};
}

} // namespace ksx::cli
