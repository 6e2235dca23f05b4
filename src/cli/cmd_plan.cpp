// `kmod-sysext plan MANIFEST`: the build matrix, for CI to fan builds out over runners.
#include "cli/commands.hpp"
#include "manifest/manifest.hpp"
#include "publish/plan.hpp"
#include "util/file_io.hpp"

#include <fmt/core.h>
#include <memory>

namespace ksx::cli {

namespace {

struct PlanArgs {
    std::string manifest;
    std::string format = "json";
};

int run_plan(const PlanArgs& args) {
    auto manifest = manifest::load(args.manifest);
    auto entries = publish::plan(manifest, read_file(manifest.file));
    if (args.format == "github") {
        fmt::print("{}", publish::plan_github(entries));
    } else if (args.format == "gitlab") {
        fmt::print("{}", publish::plan_gitlab(entries));
    } else {
        fmt::print("{}", publish::plan_json(manifest, entries));
    }
    return 0;
}

} // namespace

Command plan_command() {
    return {"plan", "Print the build matrix of a manifest (one entry per kernel) for CI",
            [](CLI::App& app, const GlobalOptions&) -> std::function<int()> {
                auto args = std::make_shared<PlanArgs>();
                app.add_option("manifest", args->manifest, "The manifest (YAML)")->required();
                app.add_option("--format", args->format,
                               "json, github ($GITHUB_OUTPUT line) or gitlab (child pipeline)")
                    ->capture_default_str()
                    ->check(CLI::IsMember({"json", "github", "gitlab"}));
                return [args] { return run_plan(*args); };
            }};
}

} // namespace ksx::cli
