// `kmod-sysext plan MANIFEST`: the build matrix, for CI to fan builds out over runners.
#include "cli/commands.hpp"
#include "cli/manifest_paths.hpp"
#include "container/container.hpp"
#include "manifest/manifest.hpp"
#include "plan/local_inputs.hpp"
#include "plan/plan.hpp"
#include "util/cache.hpp"
#include "util/file_io.hpp"
#include "util/progress.hpp"

#include <fmt/core.h>
#include <map>
#include <memory>

namespace ksx::cli {

namespace {

struct PlanArgs {
    std::string manifest;
    std::string format = "json";
    bool resolve = false;
    bool refresh = false;
    std::vector<std::string> sign_certs;
    std::vector<std::string> allowed_paths; // --allow-path
};

// Each `package:` kernel's release in its target's developer container (prepared, or taken
// from the cache, as `build` does), so the cache keys follow Debian's ABI bumps.
std::map<std::string, std::string> resolve_packages(const manifest::Manifest& manifest,
                                                    bool refresh, const GlobalOptions& global) {
    Progress progress(global.quiet ? Progress::Mode::Quiet : Progress::Mode::Auto);
    const auto cache = cache_dir();
    std::filesystem::create_directories(cache);
    auto cache_use = use_cache(cache); // `cache prune` leaves the container alone meanwhile
    container::PrepareOptions options{cache, refresh, progress};
    std::map<std::string, std::string> releases;
    for (size_t t = 0; t < manifest.targets.size(); ++t) {
        const auto target = manifest::with_target(manifest, t);
        progress.step(manifest.target_list ? "container for " + target.target_name + ": preparing"
                                           : std::string("container: preparing"));
        auto rootfs = container::prepare(target.container, target.kernels, options);
        for (const auto& kernel : target.kernels) {
            if (kernel.kind == manifest::KernelSpec::Kind::DebianPackage) {
                auto release = container::resolve_kernel(rootfs, kernel);
                progress.line("package:" + kernel.value + " is " + release + " in " +
                              rootfs.description);
                releases[plan::release_key(target.target_name, plan::kernel_argument(kernel))] =
                    release;
            }
        }
    }
    progress.finish();
    return releases;
}

int run_plan(const PlanArgs& args, const GlobalOptions& global) {
    auto manifest = manifest::load(args.manifest, load_options(args.allowed_paths));
    plan::PlanInputs inputs;
    inputs.manifest_text = read_file(manifest.file);
    inputs.local_inputs =
        plan::local_inputs(manifest, std::vector<std::filesystem::path>(args.sign_certs.begin(),
                                                                        args.sign_certs.end()));
    if (args.resolve) {
        inputs.releases = resolve_packages(manifest, args.refresh, global);
    }
    auto entries = plan::plan(manifest, inputs);
    // Kernels the build would skip are left out of the matrix; say so where CI logs show it.
    for (const auto& line : plan::skipped_lines(entries)) {
        if (!global.quiet) {
            fmt::print(stderr, "{}\n", line);
        }
    }
    if (args.format == "github") {
        fmt::print("{}", plan::plan_github(entries));
    } else if (args.format == "gitlab") {
        fmt::print("{}", plan::plan_gitlab(entries));
    } else {
        fmt::print("{}", plan::plan_json(manifest, entries));
    }
    return 0;
}

} // namespace

Command plan_command() {
    return {"plan", "Print the build matrix of a manifest (one entry per target and kernel) for CI",
            [](CLI::App& app, const GlobalOptions& global) -> std::function<int()> {
                auto args = std::make_shared<PlanArgs>();
                app.add_option("manifest", args->manifest, "The manifest (YAML)")->required();
                app.add_option("--format", args->format,
                               "json, github ($GITHUB_OUTPUT line) or gitlab (child pipeline)")
                    ->capture_default_str()
                    ->check(CLI::IsMember({"json", "github", "gitlab"}));
                auto* resolve =
                    app.add_flag("--resolve", args->resolve,
                                 "Resolve package: kernels in the developer container, so cache "
                                 "keys change with the kernel release");
                app.add_flag("--refresh-container", args->refresh,
                             "With --resolve: rebuild the cached default container first")
                    ->needs(resolve);
                app.add_option("--sign-cert", args->sign_certs,
                               "Signing certificate the builds use (from outside the manifest); "
                               "its content enters the cache keys; repeatable");
                add_allow_path_option(app, args->allowed_paths);
                return [args, &global] { return run_plan(*args, global); };
            }};
}

} // namespace ksx::cli
