// `kmod-sysext publish --from DIR... --to RELEASE_DIR`: one release from many build shards.
#include "cli/commands.hpp"
#include "publish/ostree_commit.hpp"
#include "publish/publish.hpp"

#include <fmt/core.h>
#include <memory>
#include <nlohmann/json.hpp>

namespace ksx::cli {

namespace {

struct PublishArgs {
    std::vector<std::string> from;
    std::string to;
    std::string base_url;
    std::string activator;
    std::vector<std::string> certs;
    std::string gpg_key;
    std::string gpg_homedir;
    std::string ostree;
};

int run_publish(const PublishArgs& args, const GlobalOptions& global) {
    publish::PublishOptions options;
    options.from.assign(args.from.begin(), args.from.end());
    options.base_url = args.base_url;
    while (options.base_url.ends_with('/')) {
        options.base_url.pop_back();
    }
    options.certs.assign(args.certs.begin(), args.certs.end());
    options.gpg_key = args.gpg_key;
    options.gpg_homedir = args.gpg_homedir;
    if (!args.activator.empty()) {
        options.activator = args.activator;
    }
    nlohmann::json result{{"release", nullptr}, {"ostree", nullptr}};
    if (!args.to.empty()) {
        options.to = args.to;
        auto published = publish::publish_release(options);
        auto files = nlohmann::json::array();
        for (const auto& image : published.images) {
            files.push_back(image.image.file);
        }
        result["release"] = {{"path", args.to}, {"changed", published.changed}, {"images", files}};
        if (!global.json && !global.quiet) {
            fmt::print("{} {} with {} image(s)\n",
                       published.changed ? "published" : "unchanged:", args.to,
                       published.images.size());
        }
    }
    if (!args.ostree.empty()) {
        publish::OstreeOptions ostree;
        ostree.repo = args.ostree;
        ostree.from.assign(args.from.begin(), args.from.end());
        ostree.gpg_key = args.gpg_key;
        ostree.gpg_homedir = args.gpg_homedir;
        auto commits = publish::commit_to_ostree(ostree);
        auto refs = nlohmann::json::array();
        for (const auto& c : commits) {
            refs.push_back({{"ref", c.ref}, {"commit", c.checksum}});
            if (!global.json && !global.quiet) {
                fmt::print("{} {}\n", c.ref, c.checksum);
            }
        }
        result["ostree"] = {{"repo", args.ostree}, {"refs", refs}};
    }
    if (global.json) {
        fmt::print("{}\n", result.dump(2));
    }
    return 0;
}

} // namespace

Command publish_command() {
    return {"publish", "Merge the images of build shards into a release directory or OSTree repo",
            [](CLI::App& app, const GlobalOptions& global) -> std::function<int()> {
                auto args = std::make_shared<PublishArgs>();
                app.add_option("--from", args->from, "A directory of built images; repeatable")
                    ->required();
                auto* to = app.add_option("--to", args->to, "The release directory");
                auto* ostree = app.add_option("--ostree", args->ostree,
                                              "Commit each image to this OSTree "
                                              "repository (archive mode)");
                app.add_option("--base-url", args->base_url,
                               "URL the release is served from (for sysupdate transfers)");
                app.add_option("--activator", args->activator,
                               "kmod-sysext-activate binary to publish with the images");
                app.add_option("--cert", args->certs,
                               "Certificate that names the signer of the images; repeatable");
                app.add_option("--gpg-key", args->gpg_key,
                               "Sign SHA256SUMS (and OSTree commits) with this GnuPG key");
                app.add_option("--gpg-homedir", args->gpg_homedir, "GnuPG home directory");
                app.callback([to, ostree] {
                    if (to->count() == 0 && ostree->count() == 0) {
                        throw CLI::ValidationError("--to or --ostree is required");
                    }
                });
                return [args, &global] { return run_publish(*args, global); };
            }};
}

} // namespace ksx::cli
