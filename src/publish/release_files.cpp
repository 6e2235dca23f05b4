#include "publish/release_files.hpp"

#include "contract/image_name.hpp"
#include "contract/sha256sums.hpp"
#include "util/error.hpp"

#include <algorithm>
#include <ctime>
#include <nlohmann/json.hpp>
#include <set>

namespace ksx::publish {

namespace {

nlohmann::ordered_json file_json(const ReleaseFile& f) {
    nlohmann::ordered_json j;
    j["file"] = f.file;
    j["sha256"] = f.sha256;
    j["size"] = f.size;
    return j;
}

nlohmann::ordered_json optional_string(const std::string& value) {
    return value.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(value);
}

// The transfer of the files `pattern` matches into extension `name`'s directory of the store.
std::string transfer(const std::string& name, const std::string& pattern,
                     const std::string& base_url, bool verify) {
    return "# kmod-sysext: " + pattern + " from " + base_url + " into the activator's store\n" +
           "[Transfer]\n" +
           (verify
                ? "# SHA256SUMS.gpg: the signer's key must be in /etc/systemd/import-pubring.gpg\n"
                  "Verify=yes\n"
                : "# Published without a signed SHA256SUMS (publish --gpg-key signs it)\n"
                  "Verify=no\n") +
           "\n"
           "[Source]\n"
           "Type=url-file\n"
           "Path=" +
           base_url +
           "\n"
           "MatchPattern=" +
           pattern +
           "\n"
           "\n"
           "[Target]\n"
           "Type=regular-file\n"
           "Path=/var/lib/kmod-sysext/" +
           name +
           "\n"
           "MatchPattern=" +
           pattern +
           "\n"
           "Mode=0444\n"
           "InstancesMax=2\n";
}

} // namespace

std::string os_identity(const ReleaseImage& image) {
    return "ID=" + image.os_id +
           (image.sysext_level.empty() ? " VERSION_ID=" + image.os_version_id
                                       : " SYSEXT_LEVEL=" + image.sysext_level) +
           " ARCHITECTURE=" + image.architecture;
}

std::string utc_time(std::uint32_t seconds) {
    std::time_t t = seconds;
    std::tm tm{};
    ::gmtime_r(&t, &tm);
    char buffer[32];
    std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buffer;
}

std::string sha256sums(const std::vector<ReleaseFile>& files) {
    std::vector<const ReleaseFile*> sorted;
    for (const auto& f : files) {
        sorted.push_back(&f);
    }
    std::sort(sorted.begin(), sorted.end(),
              [](const ReleaseFile* a, const ReleaseFile* b) { return a->file < b->file; });
    std::vector<contract::Sha256Sum> sums;
    for (const auto* f : sorted) {
        sums.push_back({f->sha256, f->file});
    }
    return contract::format_sha256sums(sums);
}

std::string release_index(const std::vector<ReleaseImage>& images,
                          const std::optional<ReleaseFile>& activator) {
    std::vector<const ReleaseImage*> sorted;
    for (const auto& i : images) {
        sorted.push_back(&i);
    }
    std::sort(sorted.begin(), sorted.end(), [](const ReleaseImage* a, const ReleaseImage* b) {
        return a->image.file < b->image.file;
    });
    auto list = nlohmann::ordered_json::array();
    for (const auto* i : sorted) {
        nlohmann::ordered_json j;
        j["file"] = i->image.file;
        j["name"] = i->name;
        j["version"] = i->version;
        // A split build's shared image has no kernel; its modules images name its version.
        j["kernel"] = optional_string(i->kernel);
        if (i->kernel.empty()) {
            j["userspace"] = true;
        }
        if (!i->userspace.empty()) {
            j["userspace_version"] = i->userspace;
        }
        j["os"] = {{"id", i->os_id},
                   {"version_id", optional_string(i->os_version_id)},
                   {"sysext_level", optional_string(i->sysext_level)}};
        j["architecture"] = i->architecture;
        j["sha256"] = i->image.sha256;
        j["size"] = i->image.size;
        j["root_hash"] = optional_string(i->root_hash);
        j["signer"] = optional_string(i->signer);
        // 0: the image records no build time (image.timestamp and SOURCE_DATE_EPOCH unset).
        j["build_time"] = i->build_time == 0 ? nlohmann::ordered_json(nullptr)
                                             : nlohmann::ordered_json(utc_time(i->build_time));
        j["modules"] = i->modules;
        auto sidecars = nlohmann::ordered_json::array();
        for (const auto& s : i->sidecars) {
            sidecars.push_back(file_json(s));
        }
        j["sidecars"] = sidecars;
        list.push_back(j);
    }
    nlohmann::ordered_json index;
    index["format"] = 1;
    index["images"] = list;
    index["activator"] = activator ? file_json(*activator) : nlohmann::ordered_json(nullptr);
    return index.dump(2) + "\n";
}

std::map<std::string, std::string> sysupdate_transfers(const std::vector<ReleaseImage>& images,
                                                       const std::string& base_url, bool verify) {
    // (kernel, name) -> sidecar suffixes seen in any version.
    std::map<std::pair<std::string, std::string>, std::set<std::string>> sets;
    // (kernel, name) of the modules images that need a shared image.
    std::set<std::pair<std::string, std::string>> split;
    // (name, OS identity) -> sidecar suffixes of its shared images.
    std::map<std::pair<std::string, std::string>, std::set<std::string>> shared;
    // A kernel's directory must not mix OS releases: systemd-sysupdate picks the newest version
    // matching the pattern, whatever OS it was built for.
    std::map<std::pair<std::string, std::string>, const ReleaseImage*> identity;
    auto sidecar_suffixes = [](const ReleaseImage& i, std::set<std::string>& suffixes) {
        auto stem = i.image.file.substr(0, i.image.file.size() - 4); // without ".raw"
        for (const auto& s : i.sidecars) {
            suffixes.insert(s.file.substr(stem.size()));
        }
    };
    for (const auto& i : images) {
        if (i.kernel.empty()) {
            sidecar_suffixes(i, shared[{i.name, os_identity(i)}]);
            continue;
        }
        auto [first, inserted] = identity.emplace(std::pair{i.kernel, i.name}, &i);
        if (!inserted && os_identity(*first->second) != os_identity(i)) {
            throw InputError(i.image.file + " (" + os_identity(i) + ") and " +
                             first->second->image.file + " (" + os_identity(*first->second) +
                             ") are for one kernel but two OS releases: systemd-sysupdate "
                             "could not tell them apart; publish them into separate releases");
        }
        sidecar_suffixes(i, sets[{i.kernel, i.name}]);
        if (!i.userspace.empty()) {
            split.insert({i.kernel, i.name});
        }
    }
    std::map<std::string, std::string> files;
    for (const auto& [key, suffixes] : sets) {
        const auto& [kernel, name] = key;
        auto dir = "sysupdate.d/" + kernel + "/";
        auto add = [&](const std::string& stem, const std::string& pattern) {
            auto text = transfer(name, pattern, base_url, verify);
            files[dir + stem + ".conf"] = text;
            files[dir + stem + ".transfer"] = text;
        };
        add(name, name + "_@v_" + kernel + ".raw");
        for (const auto& suffix : suffixes) {
            add(name + suffix, name + "_@v_" + kernel + suffix);
        }
        if (!split.contains(key)) {
            continue;
        }
        // The shared image beside the modules image, in the same store directory. Its pattern
        // matches the shared images of every OS release; sysupdate installs only a version that
        // every transfer of the directory has, and the modules image's version is its shared
        // image's.
        const auto& os = os_identity(*identity.at(key));
        const auto shared_name = name + std::string(contract::kUserspaceSuffix);
        add(shared_name, shared_name + "_@v.raw");
        if (auto found = shared.find({name, os}); found != shared.end()) {
            for (const auto& suffix : found->second) {
                add(shared_name + suffix, shared_name + "_@v" + suffix);
            }
        }
    }
    return files;
}

} // namespace ksx::publish
