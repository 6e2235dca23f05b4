#include "ignition/node_config.hpp"

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

// Whether an index entry is for the OS the options name (an "_any" image is for every OS).
bool for_os(const nlohmann::json& image, const NodeOptions& options) {
    auto field = [&](const char* key) {
        const auto& os = image.contains("os") ? image["os"] : nlohmann::json();
        return os.is_object() && os.contains(key) && os[key].is_string()
                   ? os[key].get<std::string>()
                   : std::string();
    };
    auto id = field("id");
    if (!options.os_id.empty() && id != options.os_id && id != "_any") {
        return false;
    }
    return options.os_version.empty() || field("version_id") == options.os_version ||
           field("sysext_level") == options.os_version;
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
                s["file"].get<std::string>().ends_with(".roothash.p7s")) {
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
                                    std::vector<std::string>& warnings) {
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
    for (const auto& image : index["images"]) {
        if (for_os(image, options)) {
            images.push_back(image);
        }
    }
    if (images.empty()) {
        throw InputError(index_path.string() + ": no image for " +
                         (options.os_id.empty() ? "any OS" : options.os_id) +
                         (options.os_version.empty() ? "" : " " + options.os_version));
    }
    std::set<std::string> names;
    for (const auto& image : images) {
        names.insert(required_string(image, "name", index_path));
    }
    auto config = base_config(names, activator_sha256(index, index_path, options), options);
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
}

NodeConfig node_config_from_manifest(const manifest::Manifest& manifest, const NodeOptions& options,
                                     std::vector<std::string>& skipped) {
    auto config = base_config({manifest.name}, "", options);
    for (const auto& kernel : manifest.kernels) {
        if (kernel.kind != manifest::KernelSpec::Kind::Release) {
            skipped.push_back("package:" + kernel.value);
            continue;
        }
        auto file = manifest.name + "_" + manifest::image_version(manifest, kernel.value) + "_" +
                    kernel.value + ".raw";
        config.files.push_back(
            {store + manifest.name + "/" + file, 0644, options.base_url + "/" + file, "", ""});
    }
    return config;
}

} // namespace ksx::ignition
