#include "activator/status.hpp"

#include "activator/image_name.hpp"
#include "activator/json.hpp"
#include "activator/load.hpp"
#include "activator/printable.hpp"
#include "activator/root_files.hpp"
#include "activator/selection_marker.hpp"
#include "activator/status_trust.hpp"
#include "activator/store.hpp"
#include "activator/verification_record.hpp"
#include "contract/extension_release.hpp"
#include "util/message.hpp"

#include <algorithm>
#include <fcntl.h>
#include <map>
#include <sys/stat.h>
#include <system_error>

namespace ksx::activator {

namespace fs = std::filesystem;

namespace {

constexpr std::string_view kReleasePrefix = "extension-release.";

// /sys/module/<name with '-' as '_'> exists; `sys_module` is that directory opened beneath the
// root (a module name is one path component).
bool module_loaded(const UniqueFd& sys_module, std::string name) {
    std::replace(name.begin(), name.end(), '-', '_');
    struct stat st {};
    return sys_module && ::fstatat(sys_module.get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0;
}

} // namespace

Status gather_status(const Context& context, Log& log) {
    Status status{context.kernel, context.store.string(), {}, {}};
    std::map<std::string, ExtensionStatus> by_name;
    auto entry = [&](const std::string& name) -> ExtensionStatus& {
        auto& extension = by_name[name];
        extension.name = name;
        return extension;
    };
    for (auto& stored : scan_store(context, log)) {
        entry(stored.name);
        for (auto& image : stored.images) { // a shared image under "<name>-userspace"
            entry(image.sysext_name()).images.push_back(std::move(image));
        }
    }
    try {
        for (const auto& link : read_selection(context).links) {
            entry(link.extension).selected.push_back(link.target);
        }
    } catch (const std::exception& e) {
        log.error(e.what());
    }
    try {
        for (auto& record : read_verification(context)) {
            auto& extension = entry(record.extension);
            extension.verified_image = std::move(record.image);
            extension.verification = std::move(record.check);
        }
    } catch (const std::exception& e) {
        log.error(e.what());
    }
    const fs::path release_dir = "/usr/lib/extension-release.d";
    std::error_code ec;
    for (const auto& file : list_beneath(context, release_dir, ec)) {
        // Extensions whose names kmod-sysext never writes are not ours to report.
        if (!file.starts_with(kReleasePrefix) ||
            !is_extension_name(std::string_view(file).substr(kReleasePrefix.size()))) {
            continue;
        }
        auto& extension = entry(file.substr(kReleasePrefix.size()));
        extension.merged = true;
        try {
            auto release = contract::parse_extension_release(
                read_beneath(context, release_dir / file, kMaxSmallFile));
            extension.merged_version = std::move(release.version);
            extension.merged_kernel = std::move(release.kernel);
            extension.merged_userspace = std::move(release.userspace);
        } catch (const std::exception& e) {
            log.error(e.what());
        }
    }
    // KMOD_SYSEXT_USERSPACE names the shared image a modules image needs: shown as merged with
    // it only when that image, of that version, is merged too.
    for (auto& [name, extension] : by_name) {
        if (extension.merged_userspace.empty()) {
            continue;
        }
        auto shared = by_name.find(name + "-userspace");
        if (shared == by_name.end() || !shared->second.merged ||
            shared->second.merged_version != extension.merged_userspace) {
            extension.merged_userspace.clear();
        }
    }
    UniqueFd sys_module = open_beneath(context, "/sys/module", O_PATH | O_DIRECTORY);
    for (auto& [name, extension] : by_name) {
        auto load_file = message("{}/{}/modules.load", {kToolDir, name});
        if (!extension.merged || !is_extension_directory(context, name) ||
            !stat_beneath(context, load_file)) {
            continue;
        }
        try {
            for (const auto& module : read_load_order(context, name).modules) {
                extension.modules.push_back(
                    {module.name, module.boot, module_loaded(sys_module, module.name)});
            }
        } catch (const std::exception& e) {
            extension.problem = e.what();
            log.error(e.what());
        }
    }
    for (auto& [name, extension] : by_name) {
        status.extensions.push_back(std::move(extension));
    }
    return status;
}

std::string format_status_text(const Status& status) {
    std::string out =
        message("kernel: {}\nstore: {}\n", {printable(status.kernel), printable(status.store)});
    if (status.kernel_trust) {
        out += format_kernel_trust_text(*status.kernel_trust);
    }
    if (status.extensions.empty()) {
        out += "no extensions\n";
    }
    for (const auto& extension : status.extensions) {
        append(out, "\n{}\n", {printable(extension.name)});
        out += "  images:";
        for (const auto& image : extension.images) {
            append(out, "\n    {}{}",
                   {printable(image.file_name()),
                    (image.kernel == status.kernel ? "  (this kernel)" : "")});
        }
        out += extension.images.empty() ? " none\n" : "\n";
        out += "  selected: ";
        out += extension.selected.empty() ? "no" : printable(extension.selected.front());
        out += "\n  merged: ";
        if (!extension.merged) {
            out += "no";
        } else {
            out += "yes";
            if (!extension.merged_version.empty()) {
                append(out, ", version {}", {printable(extension.merged_version)});
            }
            if (!extension.merged_kernel.empty()) {
                append(out, " for kernel {}", {printable(extension.merged_kernel)});
            }
            if (!extension.merged_userspace.empty()) {
                append(out, " with {}-userspace {}",
                       {printable(extension.name), printable(extension.merged_userspace)});
            }
        }
        out += "\n";
        if (!extension.modules.empty()) {
            out += "  modules:";
            for (const auto& module : extension.modules) {
                append(out, " {}{}",
                       {printable(module.name), (module.loaded ? " (loaded)" : " (not loaded)")});
            }
            out += "\n";
        }
        if (extension.module_signer) {
            out += format_module_signer_text(*extension.module_signer);
        }
        if (extension.verification) {
            const auto& check = *extension.verification;
            out += "  verified: ";
            if (check.trust == ImageTrust::verified) {
                append(out, "yes, signed by {}", {printable(check.signer)});
            } else if (check.trust == ImageTrust::unsigned_image) {
                append(out, "no: {}", {printable(check.reason)});
            } else {
                append(out, "no, refused {}: {}",
                       {printable(extension.verified_image), printable(check.reason)});
            }
            out += "\n";
            if (!check.root_hash.empty()) {
                append(out, "  root hash: {}\n", {printable(check.root_hash)});
            }
        }
        if (!extension.problem.empty()) {
            append(out, "  problem: {}\n", {printable(extension.problem)});
        }
    }
    return out;
}

std::string format_status_json(const Status& status) {
    std::string out = message("{\"kernel\":{},\"store\":{}",
                              {json_string(status.kernel), json_string(status.store)});
    if (status.kernel_trust) {
        append(out, ",\"kernel_trust\":{}", {format_kernel_trust_json(status.kernel_trust)});
    }
    out += ",\"extensions\":[";
    bool first = true;
    for (const auto& extension : status.extensions) {
        out += first ? "" : ",";
        first = false;
        append(out, "{\"name\":{},\"images\":[", {json_string(extension.name)});
        for (std::size_t i = 0; i < extension.images.size(); ++i) {
            const auto& image = extension.images[i];
            append(out, "{}{\"file\":{},\"version\":{},\"kernel\":{}}",
                   {(i ? "," : ""), json_string(image.file_name()), json_string(image.version),
                    json_or_null(image.kernel)});
        }
        out += "],\"selected\":";
        out += extension.selected.empty() ? "null" : json_string(extension.selected.front());
        out += ",\"merged\":";
        if (!extension.merged) {
            out += "null";
        } else {
            append(
                out, "{\"version\":{},\"kernel\":{}{}}",
                {json_string(extension.merged_version), json_or_null(extension.merged_kernel),
                 (extension.merged_userspace.empty()
                      ? std::string()
                      : message(",\"userspace\":{}", {json_string(extension.merged_userspace)}))});
        }
        out += ",\"modules\":[";
        for (std::size_t i = 0; i < extension.modules.size(); ++i) {
            const auto& module = extension.modules[i];
            append(out, "{}{\"name\":{},\"boot\":{},\"loaded\":{}}",
                   {(i ? "," : ""), json_string(module.name), (module.boot ? "true" : "false"),
                    (module.loaded ? "true" : "false")});
        }
        out += "],\"verification\":";
        if (!extension.verification) {
            out += "null";
        } else {
            const auto& check = *extension.verification;
            append(out,
                   "{\"image\":{},\"state\":{},\"verified\":{},\"root_hash\":{},\"signer\":{},"
                   "\"reason\":{}}",
                   {json_string(extension.verified_image), json_string(trust_name(check.trust)),
                    (check.trust == ImageTrust::verified ? "true" : "false"),
                    json_or_null(check.root_hash), json_or_null(check.signer),
                    json_or_null(check.reason)});
        }
        if (status.kernel_trust) {
            append(out, ",\"module_signer\":{}",
                   {format_module_signer_json(extension.module_signer)});
        }
        if (!extension.problem.empty()) {
            append(out, ",\"problem\":{}", {json_string(extension.problem)});
        }
        out += "}";
    }
    out += "]}\n";
    return out;
}

} // namespace ksx::activator
