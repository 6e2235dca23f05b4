// `kmod-sysext verify IMAGE [--cert CERT]...`: the verity tree, root hash, its signature, every
// module's signature and extension-release of an image, each check printed on its own line.
#include "cli/commands.hpp"
#include "image/squashfs_reader.hpp"
#include "sign/image_verify.hpp"
#include "util/error.hpp"
#include "util/output_dir.hpp"

#include <algorithm>
#include <fmt/core.h>
#include <memory>
#include <nlohmann/json.hpp>
#include <thread>

namespace ksx::cli {

namespace {

struct VerifyArgs {
    std::string image;
    std::vector<std::string> certs;
};

sign::ImageContents squashfs_contents() {
    sign::ImageContents contents;
    contents.list = [](const std::filesystem::path& image) {
        std::vector<std::string> files;
        for (const auto& entry : image::read_image_info(image).entries) {
            if (entry.type == 'f') {
                files.push_back(entry.path);
            }
        }
        return files;
    };
    contents.read = [](const std::filesystem::path& image, const std::string& path) {
        return image::read_image_file(image, path);
    };
    return contents;
}

int run_verify(const VerifyArgs& args, const GlobalOptions& global) {
    std::vector<sign::Certificate> trusted;
    for (const auto& cert : args.certs) {
        trusted.push_back(sign::load_certificate(cert));
    }
    unsigned threads = std::max(1u, std::thread::hardware_concurrency());
    // The image and its sidecars as one set: an interrupted commit is completed first, and no
    // build commits there while they are read.
    SettledDir settled(std::filesystem::absolute(args.image).parent_path());
    auto report = sign::verify_image(args.image, squashfs_contents(), trusted, threads);
    size_t failed = static_cast<size_t>(std::count_if(report.checks.begin(), report.checks.end(),
                                                      [](const auto& c) { return !c.ok; }));
    if (global.json) {
        nlohmann::json checks = nlohmann::json::array();
        for (const auto& check : report.checks) {
            checks.push_back({{"name", check.name}, {"ok", check.ok}, {"detail", check.detail}});
        }
        nlohmann::json out{{"image", args.image},
                           {"ok", report.ok()},
                           {"root_hash", report.root_hash},
                           {"checks", checks}};
        fmt::print("{}\n", out.dump(2));
    } else {
        for (const auto& check : report.checks) {
            if (!global.quiet || !check.ok) {
                fmt::print("{} {}: {}\n", check.ok ? "ok  " : "FAIL", check.name, check.detail);
            }
        }
        if (!global.quiet) {
            if (report.ok()) {
                fmt::print("{}: verified ({} checks)\n", args.image, report.checks.size());
            } else {
                fmt::print("{}: NOT verified ({} of {} checks failed)\n", args.image, failed,
                           report.checks.size());
            }
        }
    }
    return report.ok() ? 0 : 1;
}

} // namespace

Command verify_command() {
    return {"verify", "Check an image's verity tree, signatures and extension-release",
            [](CLI::App& app, const GlobalOptions& global) -> std::function<int()> {
                auto args = std::make_shared<VerifyArgs>();
                app.add_option("image", args->image, "A .raw image written by build")->required();
                app.add_option("--cert", args->certs,
                               "A trusted certificate (PEM or DER); repeatable. Without one the "
                               "signatures are found but their signer is not checked: a failure");
                return [args, &global] { return run_verify(*args, global); };
            }};
}

} // namespace ksx::cli
