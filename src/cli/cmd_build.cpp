// `kmod-sysext build MANIFEST`: container -> build per kernel -> one image per kernel.
#include "build/build.hpp"
#include "cli/build_signing.hpp"
#include "cli/commands.hpp"
#include "cli/image_packer.hpp"
#include "container/container.hpp"
#include "image/sysext_layout.hpp"
#include "manifest/manifest.hpp"
#include "publish/plan.hpp"
#include "util/cache.hpp"
#include "util/error.hpp"
#include "util/file_io.hpp"
#include "util/output_dir.hpp"
#include "util/progress.hpp"
#include "util/temp_dir.hpp"

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fmt/core.h>
#include <memory>
#include <nlohmann/json.hpp>
#include <thread>

namespace ksx::cli {

namespace fs = std::filesystem;

namespace {

struct BuildArgs {
    std::string manifest;
    std::string output = "out";
    unsigned jobs = 1;
    std::vector<std::string> kernels;
    std::string only; // a plan entry id
    bool refresh = false;
    bool keep_work = false;
    std::string sign_key; // overrides the manifest's signing keys, with sign_cert
    std::string sign_cert;
};

// `--kernel 6.1.0-28-amd64` or `--kernel package:linux-headers-amd64`.
manifest::KernelSpec kernel_from_argument(const std::string& argument) {
    manifest::KernelSpec spec;
    spec.where.file = "--kernel";
    if (argument.starts_with("package:")) {
        spec.kind = manifest::KernelSpec::Kind::DebianPackage;
        spec.value = argument.substr(8);
    } else {
        spec.value = argument;
    }
    if (spec.value.empty() || spec.value.find('/') != std::string::npos) {
        throw InputError("--kernel: \"" + argument + "\" is not a kernel release or package:NAME");
    }
    return spec;
}

double seconds_since(std::chrono::steady_clock::time_point start) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

int run_build(const BuildArgs& args, const GlobalOptions& global) {
    auto started = std::chrono::steady_clock::now();
    auto manifest = manifest::load(args.manifest);
    if (!args.only.empty()) {
        // One shard of `plan`: its kernel spec, resolved in the container like any other.
        auto entry = publish::find_entry(publish::plan(manifest, {}), args.only);
        std::erase_if(manifest.kernels, [&](const manifest::KernelSpec& k) {
            return publish::kernel_argument(k) != entry.kernel;
        });
        manifest.kernels.resize(1);
    }
    if (!args.kernels.empty()) {
        manifest.kernels.clear();
        for (const auto& k : args.kernels) {
            manifest.kernels.push_back(kernel_from_argument(k));
        }
    }
    Progress progress(global.quiet || global.json ? Progress::Mode::Quiet : Progress::Mode::Auto);

    // Keys first: a wrong key should not cost a container and a build.
    auto signers = load_build_signers(manifest, args.sign_key, args.sign_cert, progress);
    require_ddi_signer(manifest, signers);

    // Settled first: sets a killed run was committing are completed, its leftovers removed.
    OutputDir output(fs::absolute(args.output));
    const auto cache = cache_dir();
    fs::create_directories(cache);
    // Held for the run: `cache prune` leaves containers and downloads alone while it is.
    auto cache_use = use_cache(cache);
    remove_leftovers(cache);

    container::PrepareOptions prepare_options{cache, args.refresh, &progress};
    progress.step("container: preparing");
    auto rootfs = container::prepare(manifest.container, manifest.kernels, prepare_options);
    mark_used(cache, rootfs.root);

    std::vector<std::string> releases;
    for (const auto& kernel : manifest.kernels) {
        auto release = container::resolve_kernel(rootfs, kernel);
        if (std::find(releases.begin(), releases.end(), release) == releases.end()) {
            releases.push_back(release);
        }
    }
    progress.line("building " + manifest.name + " " + manifest.version + " for " +
                  std::to_string(releases.size()) + " kernel(s) in " + rootfs.description);

    auto work = make_work_dir(cache, manifest.name);
    build::BuildOptions build_options;
    build_options.work_root = work.path();
    build_options.jobs = std::max(1u, args.jobs);
    unsigned cores = std::max(1u, std::thread::hardware_concurrency());
    build_options.make_jobs = std::max(1u, cores / build_options.jobs);
    build_options.progress = &progress;
    // The builds see the images' time stamp, so that same inputs give the same modules.
    build_options.source_date_epoch = image::write_options(manifest, 1).mtime;
    // Each kernel's image is packed on the packer's thread as soon as the kernel has built,
    // while the next one compiles.
    PackContext pack_context{manifest, rootfs, signers, output, cores, progress};
    ImagePacker packer(pack_context);
    build_options.on_kernel_done = [&](const build::KernelBuild& kernel_build) {
        if (kernel_build.failed.empty() && kernel_build.skipped.empty()) {
            packer.add(kernel_build);
        }
    };
    std::vector<build::KernelBuild> builds;
    try {
        builds = build::build_kernels(manifest, rootfs, releases, build_options);
    } catch (const Error&) {
        keep_work_dir(work); // the logs named in the message live there
        throw;
    }
    auto packed = packer.finish();
    // A failed kernel fails the run, but only after the kernels that built have their images.
    std::string failures;
    bool failures_are_input = true;
    for (const auto& kernel_build : builds) {
        if (!kernel_build.failed.empty()) {
            failures += (failures.empty() ? "" : "\n") + kernel_build.failed;
            failures_are_input = failures_are_input && kernel_build.failed_on_input;
        } else if (!kernel_build.skipped.empty()) {
            progress.line(kernel_build.skipped); // not supported by the sources: no image
        }
    }
    if (!packed.failures.empty()) {
        failures += (failures.empty() ? "" : "\n") + packed.failures;
        failures_are_input = failures_are_input && packed.failures_are_input;
    }
    if (packed.reused_bytes >= 1024 * 1024) {
        progress.line(fmt::format(
            "reused {} compressed block(s) ({:.1f} MiB of data) between images",
            packed.reused_blocks, static_cast<double>(packed.reused_bytes) / 1048576.0));
    }
    // In the order of the kernels, whatever order they finished in.
    nlohmann::json images = nlohmann::json::array();
    for (const auto& release : releases) {
        for (const auto& image : packed.images) {
            if (image["kernel"] == release) {
                images.push_back(image);
            }
        }
    }
    if (!failures.empty()) {
        keep_work_dir(work); // the logs named in the message live there
        if (failures_are_input) {
            throw InputError(failures);
        }
        throw Error(failures);
    }
    if (args.keep_work) {
        keep_work_dir(work);
        progress.line("work directory kept: " + work.path().string());
    }
    progress.finish();
    if (global.json) {
        nlohmann::json result{{"name", manifest.name},
                              {"version", manifest.version},
                              {"images", images},
                              {"seconds", seconds_since(started)}};
        fmt::print("{}\n", result.dump(2));
    } else if (!global.quiet) {
        fmt::print("built {} image(s) in {:.1f} s\n", images.size(), seconds_since(started));
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
                app.add_option("-j,--jobs", args->jobs, "Kernels built at the same time")
                    ->capture_default_str()
                    ->check(CLI::Range(1u, 64u));
                app.add_option("-k,--kernel", args->kernels,
                               "Build only for this kernel release (or package:NAME); repeatable");
                app.add_option("--only", args->only, "Build only this entry of `kmod-sysext plan`")
                    ->excludes("--kernel");
                app.add_flag("--refresh-container", args->refresh,
                             "Rebuild the cached default developer container");
                app.add_flag("--keep-work", args->keep_work,
                             "Keep the work directory (sources, objects, logs)");
                auto* key =
                    app.add_option("--sign-key", args->sign_key,
                                   "Private key (PEM file, or a pkcs11: URI of a key in a token) "
                                   "signing modules and images; "
                                   "overrides the manifest's signing keys");
                auto* cert = app.add_option("--sign-cert", args->sign_cert,
                                            "Certificate of --sign-key (PEM or DER)");
                key->needs(cert);
                cert->needs(key);
                return [args, &global] { return run_build(*args, global); };
            }};
}

} // namespace ksx::cli
