// `kmod-sysext inspect IMAGE [--cert CERT]...`: what an image holds, read back from the
// squashfs itself, and who signed it and its modules.
#include "cli/commands.hpp"
#include "cli/inspect_signatures.hpp"
#include "contract/extension_release.hpp"
#include "contract/image_name.hpp"
#include "contract/modules_load.hpp"
#include "image/squashfs_reader.hpp"
#include "util/error.hpp"
#include "util/key_value.hpp"
#include "util/output_dir.hpp"

#include <fmt/core.h>
#include <memory>
#include <nlohmann/json.hpp>

namespace ksx::cli {

namespace {

constexpr std::string_view kReleaseDir = "usr/lib/extension-release.d/extension-release.";
constexpr std::string_view kToolDir = "usr/lib/kmod-sysext/";

nlohmann::json parse_release(const std::string& text) {
    nlohmann::json fields = nlohmann::json::object();
    for_each_key_value(text, [&](std::string_view key, std::string_view value, int) {
        fields[std::string(key)] = value;
    });
    return fields;
}

// modules.load as JSON.
nlohmann::json load_order_json(const std::string& image, const std::string& path,
                               const std::string& text) {
    nlohmann::json modules = nlohmann::json::array();
    for (const auto& module : contract::parse_load_order(text, image + ": " + path).modules) {
        modules.push_back({{"name", module.name},
                           {"path", module.path},
                           {"depends", module.depends},
                           {"load", module.boot ? "boot" : "demand"},
                           {"options", module.options}});
    }
    return modules;
}

// What an extension-release says of a split build: a shared userspace image has no kernel; a
// modules image names the shared image it needs.
nlohmann::json split_json(const contract::ExtensionRelease& release) {
    const contract::ImageName name{release.name, release.version, release.kernel};
    if (name.is_userspace()) {
        return {{"kernel", nullptr}, {"userspace", true}};
    }
    if (release.userspace.empty()) {
        return nlohmann::json::object();
    }
    return {
        {"userspace_image", contract::ImageName{release.name, release.userspace, {}}.file_name()}};
}

struct InspectArgs {
    std::string image;
    std::vector<std::string> certs;
};

int run_inspect(const InspectArgs& args, const GlobalOptions& global) {
    const auto& image = args.image;
    std::vector<sign::Certificate> certificates;
    for (const auto& cert : args.certs) {
        certificates.push_back(sign::load_certificate(cert));
    }
    SettledDir settled(std::filesystem::absolute(image).parent_path()); // the set read whole
    pack::ImageSource source(image);
    const auto& info = source.info();
    nlohmann::json extensions = nlohmann::json::object();
    nlohmann::json entries = nlohmann::json::array();
    for (const auto& entry : info.entries) {
        entries.push_back({{"path", "/" + entry.path},
                           {"type", std::string(1, entry.type)},
                           {"mode", fmt::format("{:04o}", entry.mode & 07777)},
                           {"uid", entry.uid},
                           {"gid", entry.gid},
                           {"size", entry.size}});
        if (entry.path.starts_with(kReleaseDir) && entry.type == 'f') {
            auto name = entry.path.substr(kReleaseDir.size());
            auto text = source.read(entry.path);
            extensions[name]["extension_release"] = parse_release(text);
            extensions[name].update(split_json(contract::parse_extension_release(text)));
        }
        if (entry.path.starts_with(kToolDir) && entry.path.ends_with("/modules.load") &&
            entry.type == 'f') {
            auto name = entry.path.substr(kToolDir.size());
            name = name.substr(0, name.find('/'));
            extensions[name]["modules"] =
                load_order_json(image, entry.path, source.read(entry.path));
        }
    }
    auto verity = inspect_verity(image, source, certificates);
    auto module_signatures = inspect_module_signatures(source, certificates);
    if (global.json) {
        nlohmann::json out{{"image", image},
                           {"compression", info.compression},
                           {"block_size", info.block_size},
                           {"mkfs_time", info.mkfs_time},
                           {"bytes_used", info.bytes_used},
                           {"extensions", extensions},
                           {"verity", verity},
                           {"module_signatures", module_signatures},
                           {"entries", entries}};
        fmt::print("{}\n", out.dump(2));
        return 0;
    }
    fmt::print("image: {}\ncompression: {}, block size {}, {} bytes, time {}\n", image,
               info.compression, info.block_size, info.bytes_used, info.mkfs_time);
    for (const auto& [name, ext] : extensions.items()) {
        fmt::print("\nextension {}:\n", name);
        if (ext.contains("extension_release")) {
            for (const auto& [key, value] : ext["extension_release"].items()) {
                fmt::print("  {}={}\n", key, value.get<std::string>());
            }
        }
        if (ext.contains("userspace")) {
            fmt::print("  shared userspace image: no kernel, no modules (the modules images of "
                       "its version name it in KMOD_SYSEXT_USERSPACE)\n");
        }
        if (ext.contains("userspace_image")) {
            fmt::print("  needs the shared userspace image {}\n",
                       ext["userspace_image"].get<std::string>());
        }
        if (ext.contains("modules")) {
            fmt::print("  load order:\n");
            for (const auto& m : ext["modules"]) {
                fmt::print("    {} ({}) {}{}\n", m["name"].get<std::string>(),
                           m["load"].get<std::string>(), m["path"].get<std::string>(),
                           m["options"].get<std::string>().empty()
                               ? ""
                               : "  options: " + m["options"].get<std::string>());
            }
        }
    }
    print_signatures(verity, module_signatures);
    fmt::print("\ncontents:\n");
    for (const auto& entry : info.entries) {
        fmt::print("  {} {:04o} {:>10} /{}{}\n", entry.type, entry.mode & 07777, entry.size,
                   entry.path, entry.type == 'l' ? " -> " + entry.link_target : "");
    }
    return 0;
}

} // namespace

Command inspect_command() {
    return {"inspect", "Show what an image holds: extension-release, load order, signers, files",
            [](CLI::App& app, const GlobalOptions& global) -> std::function<int()> {
                auto args = std::make_shared<InspectArgs>();
                app.add_option("image", args->image, "A .raw image written by build")->required();
                app.add_option("--cert", args->certs,
                               "A certificate (PEM or DER) to name when it is the signer of the "
                               "root hash or of a module; repeatable. Nothing is verified: see "
                               "`verify`");
                return [args, &global] { return run_inspect(*args, global); };
            }};
}

} // namespace ksx::cli
