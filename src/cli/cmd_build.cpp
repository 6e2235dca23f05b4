// `kmod-sysext build MANIFEST`: the build-images pipeline (pack/build_images.hpp), its result
// as text or JSON.
#include "cli/commands.hpp"
#include "cli/manifest_paths.hpp"
#include "container/container.hpp"
#include "manifest/manifest.hpp"
#include "pack/build_images.hpp"
#include "util/error.hpp"
#include "util/progress.hpp"

#include <array>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fmt/core.h>
#include <memory>
#include <nlohmann/json.hpp>

namespace ksx::cli {

namespace {

struct BuildArgs {
    std::string manifest;
    std::string output = "out";
    pack::BuildRequest request;
    std::vector<std::string> allowed_paths; // --allow-path
    std::string events;                     // --events: a file, or "-" for stderr
};

// Where --events writes the JSON progress events: the file (created or truncated), or stderr.
std::unique_ptr<std::FILE, int (*)(std::FILE*)> open_events(const std::string& path) {
    auto keep_open = [](std::FILE*) { return 0; };
    if (path.empty()) {
        return {nullptr, keep_open};
    }
    if (path == "-") {
        return {stderr, keep_open};
    }
    std::FILE* file = std::fopen(path.c_str(), "we");
    if (file == nullptr) {
        throw Error("--events: cannot create " + path + ": " + std::strerror(errno));
    }
    return {file, &std::fclose};
}

double seconds_since(std::chrono::steady_clock::time_point start) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// {"container": 12.3, "fetch": 0.4, ...}: seconds per phase, for --json.
nlohmann::json phases_json(const std::array<double, kPhaseCount>& seconds) {
    nlohmann::json phases = nlohmann::json::object();
    for (size_t i = 0; i < kPhaseCount; ++i) {
        phases[std::string(phase_name(static_cast<Phase>(i)))] = seconds[i];
    }
    return phases;
}

int run_build(const BuildArgs& args, const GlobalOptions& global) {
    auto started = std::chrono::steady_clock::now();
    const auto manifest = manifest::load(args.manifest, load_options(args.allowed_paths));
    auto events = open_events(args.events);
    // Human progress on stderr unless the events go there.
    Progress progress(global.quiet || global.json || args.events == "-" ? Progress::Mode::Quiet
                                                                        : Progress::Mode::Auto,
                      stderr, events.get());
    auto request = args.request;
    request.output = args.output;
    auto built = pack::build_images(manifest, request, progress);
    progress.finish();
    if (global.json) {
        nlohmann::json images = nlohmann::json::array();
        for (const auto& image : built.images) {
            images.push_back(pack::to_json(image));
        }
        nlohmann::json result{{"name", manifest.name},
                              {"version", manifest.version},
                              {"images", images},
                              {"build_cache_hits", built.cache_hits},
                              {"container_runs", container::run_count()},
                              {"seconds", seconds_since(started)},
                              {"phases", phases_json(progress.phase_seconds())}};
        fmt::print("{}\n", result.dump(2));
    } else if (!global.quiet) {
        fmt::print("built {} image(s) in {:.1f} s{}\n", built.images.size(), seconds_since(started),
                   built.cache_hits == 0
                       ? std::string()
                       : fmt::format(" ({} from the build cache)", built.cache_hits));
    }
    return 0;
}

} // namespace

Command build_command() {
    return {"build", "Build one systemd-sysext image per kernel from a manifest",
            [](CLI::App& app, const GlobalOptions& global) -> std::function<int()> {
                auto args = std::make_shared<BuildArgs>();
                app.add_option("manifest", args->manifest, "The manifest (YAML)")->required();
                app.add_option("-o,--output", args->output, "Directory for the images")
                    ->capture_default_str();
                app.add_option("-j,--jobs", args->request.jobs, "Kernels built at the same time")
                    ->capture_default_str()
                    ->check(CLI::Range(1u, 64u));
                app.add_option("-k,--kernel", args->request.kernels,
                               "Build only for this kernel release (or package:NAME, "
                               "package:NAME/SUITE); repeatable");
                auto* target = app.add_option(
                    "-t,--target", args->request.targets,
                    "Build only this target of the manifest's `targets:` (repeatable)");
                app.add_option("--only", args->request.only,
                               "Build only this entry of `kmod-sysext plan`")
                    ->excludes("--kernel")
                    ->excludes(target);
                app.add_flag("--refresh-container", args->request.refresh,
                             "Rebuild the cached default developer container");
                app.add_flag("--no-cache", args->request.no_cache,
                             "Rebuild every kernel instead of taking its images from the build "
                             "cache (the new builds replace the cached ones)");
                app.add_flag("--keep-work", args->request.keep_work,
                             "Keep the work directory (sources, objects, logs)");
                auto* key =
                    app.add_option("--sign-key", args->request.sign_key,
                                   "Private key (PEM file, or a pkcs11: URI of a key in a token) "
                                   "signing modules and images; "
                                   "overrides the manifest's signing keys");
                auto* cert = app.add_option("--sign-cert", args->request.sign_cert,
                                            "Certificate of --sign-key (PEM or DER)");
                key->needs(cert);
                cert->needs(key);
                add_allow_path_option(app, args->allowed_paths);
                app.add_option("--events", args->events,
                               "Write progress events, one JSON object per line, to this file "
                               "(- for stderr)");
                return [args, &global] { return run_build(*args, global); };
            }};
}

} // namespace ksx::cli
