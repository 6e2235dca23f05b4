// `kmod-sysext ignition MANIFEST|RELEASE_DIR --base-url URL`: a node's first-boot config.
#include "cli/commands.hpp"
#include "cli/manifest_paths.hpp"
#include "cli/mok_files.hpp"
#include "ignition/emit.hpp"
#include "ignition/mok_enrolment.hpp"
#include "ignition/node_config.hpp"
#include "manifest/manifest.hpp"
#include "sign/keys.hpp"
#include "util/atomic_file.hpp"

#include <filesystem>
#include <fmt/core.h>
#include <memory>

namespace ksx::cli {

namespace {

struct IgnitionArgs {
    std::string source;
    std::string base_url;
    std::string format = "ignition";
    std::string variant = "flatcar";
    std::string cert;
    std::string bin_dir = "/opt/bin";
    std::string os_id;
    std::string os_version;
    std::string architecture;
    std::string output;
    std::string enroll_mok; // a directory written by `kmod-sysext enroll`
    bool no_activator = false;
    bool prefetch_timer = false;
    std::vector<std::string> allowed_paths; // --allow-path, for a manifest
};

int run_ignition(const IgnitionArgs& args, const GlobalOptions& global) {
    auto variant = ignition::parse_variant(args.variant);
    ignition::NodeOptions options;
    options.base_url = args.base_url;
    while (options.base_url.ends_with('/')) {
        options.base_url.pop_back();
    }
    options.bin_dir = args.bin_dir;
    options.os_id = args.os_id;
    options.os_version = args.os_version;
    options.architecture = args.architecture;
    options.with_activator = !args.no_activator;
    options.prefetch_timer = args.prefetch_timer;
    if (!args.cert.empty()) {
        auto cert = sign::load_certificate(args.cert);
        options.certificate_pem = sign::certificate_pem(cert.get());
    }
    ignition::NodeConfig config;
    if (std::filesystem::is_directory(args.source)) {
        std::vector<std::string> warnings;
        config = ignition::node_config_from_release(args.source, options, warnings);
        for (const auto& warning : warnings) {
            fmt::print(stderr, "kmod-sysext: warning: {}\n", warning); // even with --quiet
        }
    } else {
        std::vector<std::string> skipped;
        config = ignition::node_config_from_manifest(
            manifest::load(args.source, load_options(args.allowed_paths)), options, skipped);
        for (const auto& kernel : skipped) {
            if (!global.quiet) {
                fmt::print(stderr,
                           "kmod-sysext: note: kernel {} is resolved only when built; publish a "
                           "release and pass its directory to include its image\n",
                           kernel);
            }
        }
    }
    if (!args.enroll_mok.empty()) {
        ignition::add_mok_enrolment(config, read_mok_files(args.enroll_mok));
    }
    auto text = args.format == "butane" ? ignition::to_butane(config, variant)
                                        : ignition::to_ignition(config);
    if (args.output.empty() || args.output == "-") {
        fmt::print("{}", text);
    } else {
        write_file_atomic(args.output, text);
    }
    return 0;
}

} // namespace

Command ignition_command() {
    return {
        "ignition", "Write the Ignition (or Butane) config that provisions a node",
        [](CLI::App& app, const GlobalOptions& global) -> std::function<int()> {
            auto args = std::make_shared<IgnitionArgs>();
            app.add_option("source", args->source, "A manifest or a release directory")->required();
            app.add_option("--base-url", args->base_url, "URL the release directory is served from")
                ->required();
            app.add_option("--format", args->format, "ignition (JSON, spec 3.3.0) or butane")
                ->capture_default_str()
                ->check(CLI::IsMember({"ignition", "butane"}));
            app.add_option("--variant", args->variant, "Butane variant: flatcar or fcos")
                ->capture_default_str()
                ->check(CLI::IsMember({"flatcar", "fcos"}));
            app.add_option("--cert", args->cert,
                           "Verity signing certificate, installed in /etc/verity.d");
            app.add_option("--bin-dir", args->bin_dir, "Where the activator goes on the node")
                ->capture_default_str();
            app.add_option("--os-id", args->os_id,
                           "Only images for this OS (os-release ID of the node)");
            app.add_option("--os-version", args->os_version,
                           "Only images for this VERSION_ID or SYSEXT_LEVEL");
            app.add_option("--architecture", args->architecture,
                           "Only images for this systemd architecture (x86-64, arm64, ...)");
            app.add_flag("--no-activator", args->no_activator,
                         "The node's OS image has the activator in --bin-dir: do not fetch it");
            app.add_flag("--prefetch-timer", args->prefetch_timer,
                         "Also a timer that fetches the images of every kernel installed on the "
                         "node from --base-url before it reboots into one");
            app.add_option("--enroll-mok", args->enroll_mok,
                           "Also queue the Machine Owner Key enrolment that `kmod-sysext enroll` "
                           "wrote to this directory (Secure Boot)");
            app.add_option("-o,--output", args->output, "Write here instead of stdout");
            add_allow_path_option(app, args->allowed_paths);
            return [args, &global] { return run_ignition(*args, global); };
        }};
}

} // namespace ksx::cli
