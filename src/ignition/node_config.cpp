#include "ignition/node_config.hpp"

#include "contract/image_name.hpp"
#include "contract/sidecars.hpp"
#include "ignition/unit_templates.hpp"
#include "manifest/image_version.hpp"
#include "util/error.hpp"
#include "util/file_io.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <set>

namespace ksx::ignition {

namespace fs = std::filesystem;

namespace {

constexpr const char* store = "/var/lib/kmod-sysext/";
constexpr const char* activator_name = "kmod-sysext-activate";

std::string with_bin_dir(std::string unit, const std::string& bin_dir) {
    const std::string placeholder = "@CMAKE_INSTALL_FULL_BINDIR@";
    for (auto at = unit.find(placeholder); at != std::string::npos;
         at = unit.find(placeholder, at)) {
        unit.replace(at, placeholder.size(), bin_dir);
        at += bin_dir.size();
    }
    return unit;
}

// The parts every config has: the activator (unless the OS has it), its units, the store,
// the certificates and, when asked for, the prefetch timer with the release URL.
NodeConfig base_config(const std::set<std::string>& names, const std::string& activator_sha256,
                       const NodeOptions& options) {
    NodeConfig config;
    if (options.with_activator) {
        config.directories.push_back(options.bin_dir);
    }
    for (const auto& name : names) {
        config.directories.push_back(store + name);
    }
    if (options.with_activator) {
        config.files.push_back({options.bin_dir + "/" + activator_name, 0755,
                                options.base_url + "/" + activator_name, activator_sha256, ""});
    }
    if (options.certificate_pem) {
        for (const auto& name : names) {
            config.files.push_back(
                {"/etc/verity.d/" + name + ".crt", 0644, "", "", *options.certificate_pem});
        }
    }
    config.units = activator_units(options.bin_dir);
    if (options.prefetch_timer) {
        config.files.push_back({prefetch_config_path, 0644, "", "",
                                "KMOD_SYSEXT_RELEASE_URL=" + options.base_url + "\n"});
        auto units = prefetch_units(options.bin_dir);
        config.units.insert(config.units.end(), units.begin(), units.end());
    }
    return config;
}

std::string required_string(const nlohmann::json& j, const char* key, const fs::path& index) {
    if (!j.contains(key) || !j[key].is_string()) {
        throw InputError(index.string() + ": an image lacks \"" + key + "\"");
    }
    return j[key].get<std::string>();
}

// An OS identity as the index and the manifest give it.
manifest::TargetOs os_of(const nlohmann::json& image) {
    auto field = [](const nlohmann::json& j, const char* key) {
        return j.is_object() && j.contains(key) && j[key].is_string() ? j[key].get<std::string>()
                                                                      : std::string();
    };
    const auto& os = image.contains("os") ? image["os"] : nlohmann::json();
    return {field(os, "id"), field(os, "version_id"), field(os, "sysext_level"),
            field(image, "architecture")};
}

// Whether an image for `os` is for the OS the options name (an "_any" image is for every OS).
bool for_os(const manifest::TargetOs& os, const NodeOptions& options) {
    if (!options.os_id.empty() && os.id != options.os_id && os.id != "_any") {
        return false;
    }
    if (!options.architecture.empty() && os.architecture != options.architecture) {
        return false;
    }
    return options.os_version.empty() || os.version_id == options.os_version ||
           os.sysext_level == options.os_version;
}

// "debian 12 x86-64", "flatcar level 1.0 arm64" (what is not set left out).
std::string describe_os(const manifest::TargetOs& os) {
    std::string out = os.id;
    auto add = [&out](const std::string& part) {
        if (!part.empty()) {
            out += " " + part;
        }
    };
    add(os.sysext_level.empty() ? os.version_id : "level " + os.sysext_level);
    add(os.architecture);
    return out;
}

// The OS releases `found` spans ("debian 12 x86-64, debian 13 x86-64") when more than one;
// `_any` images go with any OS.
std::string several_os(const std::vector<manifest::TargetOs>& found) {
    std::set<std::string> releases;
    for (const auto& os : found) {
        if (os.id != "_any") {
            releases.insert(describe_os(os));
        }
    }
    std::string list;
    for (const auto& r : releases) {
        list += (list.empty() ? "" : ", ") + r;
    }
    return releases.size() > 1 ? list : std::string();
}

// Whether an index entry says its image is signed: a root hash, a signer or a signature file.
bool is_signed(const nlohmann::json& image) {
    auto set = [&](const char* key) { return image.contains(key) && image[key].is_string(); };
    if (set("root_hash") || set("signer")) {
        return true;
    }
    if (image.contains("sidecars") && image["sidecars"].is_array()) {
        for (const auto& s : image["sidecars"]) {
            if (s.contains("file") && s["file"].is_string() &&
                s["file"].get<std::string>().ends_with(contract::kRootHashSignatureSuffix)) {
                return true;
            }
        }
    }
    return false;
}

// The activator's sha256 from the index; InputError when the release has none and the node
// is to get it from the release.
std::string activator_sha256(const nlohmann::json& index, const fs::path& index_path,
                             const NodeOptions& options) {
    if (!options.with_activator) {
        return "";
    }
    if (!index.contains("activator") || !index["activator"].is_object()) {
        throw InputError(index_path.string() +
                         ": the release carries no activator (\"activator\": null), so " +
                         options.base_url + "/" + activator_name +
                         " would not exist: publish the release with --activator FILE, or "
                         "pass --no-activator when the node's OS image already has " +
                         options.bin_dir + "/" + activator_name);
    }
    return required_string(index["activator"], "sha256", index_path);
}

} // namespace

std::vector<NodeUnit> activator_units(const std::string& bin_dir) {
    return {{"kmod-sysext-select.service", with_bin_dir(select_unit_template, bin_dir), true},
            {"kmod-sysext-load.service", with_bin_dir(load_unit_template, bin_dir), true}};
}

std::vector<NodeUnit> prefetch_units(const std::string& bin_dir) {
    return {{"kmod-sysext-prefetch.service", with_bin_dir(prefetch_unit_template, bin_dir),
             std::nullopt},
            {"kmod-sysext-prefetch.timer", prefetch_timer_template, true}};
}

NodeConfig node_config_from_release(const fs::path& release, const NodeOptions& options,
                                    std::vector<std::string>& warnings) try {
    auto index_path = release / "index.json";
    if (!fs::exists(index_path)) {
        throw InputError(release.string() + ": no index.json (not a release directory)");
    }
    nlohmann::json index;
    try {
        index = nlohmann::json::parse(read_file(index_path));
    } catch (const nlohmann::json::exception& e) {
        throw InputError(index_path.string() + ": " + e.what());
    }
    if (index.value("format", 0) != 1 || !index["images"].is_array()) {
        throw InputError(index_path.string() + ": not a kmod-sysext index (format 1)");
    }
    std::vector<nlohmann::json> images;
    std::vector<manifest::TargetOs> found;
    for (const auto& image : index["images"]) {
        if (for_os(os_of(image), options)) {
            images.push_back(image);
            found.push_back(os_of(image));
        }
    }
    if (images.empty()) {
        throw InputError(index_path.string() + ": no image for " +
                         (options.os_id.empty() ? "any OS" : options.os_id) +
                         (options.os_version.empty() ? "" : " " + options.os_version) +
                         (options.architecture.empty() ? "" : " " + options.architecture));
    }
    std::set<std::string> names;
    for (const auto& image : images) {
        names.insert(required_string(image, "name", index_path));
    }
    auto config = base_config(names, activator_sha256(index, index_path, options), options);
    if (auto list = several_os(found); !list.empty()) {
        // The node's activator passes over the others, but they need not be fetched at all.
        warnings.push_back("the images of " + release.string() + " are for several OS releases (" +
                           list +
                           "): the node gets all of them and uses those of its own; "
                           "pass --os-id and --os-version (and --architecture) of the node to "
                           "give it only those");
    }
    if (!options.certificate_pem && std::any_of(images.begin(), images.end(), is_signed)) {
        // The activator's default policy (SIGNATURES=auto) requires signatures only once a
        // certificate is installed: without one the node takes unsigned images as well.
        warnings.push_back(
            "the images of " + release.string() +
            " are signed, but no --cert was given: the node gets no certificate in "
            "/etc/verity.d and will not enforce signatures (the activator requires them only "
            "once a certificate is installed, and takes unsigned images otherwise); pass "
            "--cert CERT");
    }
    for (const auto& image : images) {
        auto dir = store + required_string(image, "name", index_path) + "/";
        std::vector<nlohmann::json> files{image};
        if (image.contains("sidecars") && image["sidecars"].is_array()) {
            files.insert(files.end(), image["sidecars"].begin(), image["sidecars"].end());
        }
        for (const auto& f : files) {
            auto file = required_string(f, "file", index_path);
            if (file.find('/') != std::string::npos || file.starts_with(".")) {
                throw InputError(index_path.string() + ": bad file name \"" + file + "\"");
            }
            config.files.push_back({dir + file, 0644, options.base_url + "/" + file,
                                    required_string(f, "sha256", index_path), ""});
        }
    }
    return config;
} catch (const nlohmann::json::exception& e) {
    // JSON of another shape than format 1's: a string where an object belongs, and the like.
    throw InputError((release / "index.json").string() +
                     ": not a kmod-sysext index (format 1): " + e.what());
}

NodeConfig node_config_from_manifest(const manifest::Manifest& manifest, const NodeOptions& options,
                                     std::vector<std::string>& skipped) {
    std::vector<size_t> targets;
    for (size_t t = 0; t < manifest.targets.size(); ++t) {
        if (for_os(manifest.targets[t].os, options)) {
            targets.push_back(t);
        }
    }
    if (targets.empty()) {
        throw InputError(manifest.file.string() + ": no target for " +
                         (options.os_id.empty() ? "any OS" : options.os_id) +
                         (options.os_version.empty() ? "" : " " + options.os_version) +
                         (options.architecture.empty() ? "" : " " + options.architecture));
    }
    auto config = base_config({manifest.name}, "", options);
    for (auto t : targets) {
        const auto target = manifest::with_target(manifest, t);
        for (const auto& kernel : target.kernels) {
            if (kernel.kind != manifest::KernelSpec::Kind::Release) {
                skipped.push_back("package:" + kernel.value);
                continue;
            }
            const auto version = manifest::image_version(target, kernel.value);
            std::vector<std::string> files{
                contract::ImageName{manifest.name, version, kernel.value}.file_name()};
            if (manifest::has_shared_userspace(target, kernel.value)) {
                // Its shared userspace image, once for all kernels of the version.
                files.push_back(contract::ImageName{manifest.name, version, {}}.file_name());
            }
            for (const auto& file : files) {
                auto path = store + manifest.name + "/" + file;
                if (std::none_of(config.files.begin(), config.files.end(),
                                 [&](const auto& f) { return f.path == path; })) {
                    config.files.push_back({path, 0644, options.base_url + "/" + file, "", ""});
                }
            }
        }
    }
    return config;
}

} // namespace ksx::ignition
