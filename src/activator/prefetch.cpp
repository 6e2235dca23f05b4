#include "activator/prefetch.hpp"

#include "activator/host_identity.hpp"
#include "activator/image_name.hpp"
#include "activator/release_index.hpp"
#include "activator/version_compare.hpp"
#include "util/atomic_file.hpp"
#include "util/error.hpp"
#include "util/file_io.hpp"
#include "util/process.hpp"
#include "util/sha256.hpp"

#include <filesystem>
#include <map>
#include <optional>
#include <set>

namespace ksx::activator {

namespace fs = std::filesystem;

namespace {

bool is_hex64(const std::string& text) {
    return text.size() == 64 && text.find_first_not_of("0123456789abcdef") == std::string::npos;
}

// Copies `from`/`file` to `target`: curl for http(s) URLs (the node has it; the activator
// stays free of an HTTP stack), a plain copy for file:// URLs and directories.
void fetch(const std::string& from, const std::string& file, const fs::path& target) {
    if (from.starts_with("http://") || from.starts_with("https://")) {
        auto result = run_process({"curl", "--fail", "--silent", "--show-error", "--location",
                                   "--retry", "3", "--output", target.string(), from + "/" + file});
        if (result.exit_status != 0) {
            throw Error("cannot fetch " + from + "/" + file + " (curl exited with " +
                        std::to_string(result.exit_status) + ")");
        }
        return;
    }
    fs::path dir = from.starts_with("file://") ? fs::path(from.substr(7)) : fs::path(from);
    fs::copy_file(dir / file, target, fs::copy_options::overwrite_existing);
}

// Fetches `image` and its sidecars into the store; a failure is logged, and the image is left
// out (never in the store without its sidecars).
void fetch_image(const Context& context, const std::string& from,
                 const std::map<std::string, std::string>& hashes, const ImageName& image,
                 Log& log) {
    auto dir = context.on_disk(context.store) / image.extension;
    fs::create_directories(dir);
    // Sidecars first: the image never sits in the store without its signature.
    std::vector<std::string> files;
    for (const char* suffix : {".verity", ".roothash", ".roothash.p7s"}) {
        if (hashes.count(image.stem() + suffix) != 0) {
            files.push_back(image.stem() + suffix);
        }
    }
    files.push_back(image.file_name());
    for (const auto& file : files) {
        const auto& want = hashes.at(file);
        auto target = dir / file;
        if (fs::exists(target) && sha256_file_hex(target) == want) {
            log.info(file + " is already in the store");
            continue;
        }
        auto partial = dir / ("." + file + ".prefetch");
        try {
            fetch(from, file, partial);
            auto got = sha256_file_hex(partial);
            if (got != want) {
                throw Error(from + "/" + file + " has sha256 " + got + ", SHA256SUMS says " + want);
            }
            fs::permissions(partial, static_cast<fs::perms>(0644));
            commit_file(partial, target);
            log.info("prefetched " + file + " for kernel " + image.kernel);
        } catch (const std::exception& e) {
            std::error_code ignored; // the failure being reported matters, not this one
            fs::remove(partial, ignored);
            log.error(e.what());
            return;
        }
    }
}

// What prefetch compares images with: the node's identity and each image's from index.json.
struct Identities {
    std::optional<OsIdentity> host;           // nullopt: no os-release (nothing is compared)
    std::map<std::string, OsIdentity> images; // file -> identity
};

// The node's identity and the release's index.json, when both are there. A release without
// index.json is fetched from unfiltered (one warning); select still passes over images that are
// not for the node.
Identities release_identities(const Context& context, const std::string& from, Log& log) {
    Identities out;
    out.host = read_host_identity(context);
    if (!out.host) {
        return out;
    }
    auto index_path = context.on_disk(context.store) / ".index.json.prefetch";
    try {
        fetch(from, "index.json", index_path);
        out.images = parse_release_index(read_file(index_path));
        fs::remove(index_path);
    } catch (const std::exception& e) {
        std::error_code ignored;
        fs::remove(index_path, ignored);
        log.warning(std::string("cannot read index.json of ") + from + " (" + e.what() +
                    "): images are fetched without checking their OS release");
        out.host.reset();
    }
    return out;
}

// Whether the index says `file` is for this node's OS (as systemd-sysext would match it).
bool for_this_node(const Identities& identities, const std::string& file, Log& log) {
    if (!identities.host) {
        return true;
    }
    auto found = identities.images.find(file);
    if (found == identities.images.end()) {
        log.info("not fetching " + file + ": index.json does not list it");
        return false;
    }
    auto why = extension_mismatch(*identities.host, found->second);
    if (!why.empty()) {
        log.info("not fetching " + file + ": " + why);
    }
    return why.empty();
}

} // namespace

std::vector<std::pair<std::string, std::string>> parse_sha256sums(const std::string& text) {
    std::vector<std::pair<std::string, std::string>> entries;
    std::size_t start = 0;
    while (start < text.size()) {
        auto end = text.find('\n', start);
        if (end == std::string::npos) {
            end = text.size();
        }
        auto line = text.substr(start, end - start);
        start = end + 1;
        if (line.size() < 67 || line[64] != ' ' || (line[65] != ' ' && line[65] != '*')) {
            continue;
        }
        auto hash = line.substr(0, 64);
        auto file = line.substr(66);
        if (is_hex64(hash) && file.find('/') == std::string::npos && !file.starts_with(".")) {
            entries.emplace_back(hash, file);
        }
    }
    return entries;
}

int prefetch_images(const Context& context, const std::vector<std::string>& kernels,
                    const std::string& from_argument, Log& log) {
    std::string from = from_argument;
    while (from.size() > 1 && from.ends_with('/')) {
        from.pop_back();
    }
    auto store = context.on_disk(context.store);
    fs::create_directories(store);
    auto sums_path = store / ".SHA256SUMS.prefetch";
    fetch(from, "SHA256SUMS", sums_path);
    auto sums = parse_sha256sums(read_file(sums_path));
    fs::remove(sums_path);

    std::map<std::string, std::string> hashes; // file -> sha256
    for (const auto& [hash, file] : sums) {
        hashes[file] = hash;
    }
    auto identities = release_identities(context, from, log);
    for (const auto& kernel : kernels) {
        // The newest image per extension for this kernel, among those for this node's OS.
        std::map<std::string, ImageName> newest;
        for (const auto& [hash, file] : sums) {
            auto name = parse_image_name(file);
            if (!name || name->kernel != kernel || !for_this_node(identities, file, log)) {
                continue;
            }
            auto [it, inserted] = newest.try_emplace(name->extension, *name);
            if (!inserted && compare_versions(name->version, it->second.version) > 0) {
                it->second = *name;
            }
        }
        if (newest.empty()) {
            log.warning("no image for kernel " + kernel + " in " + from);
        }
        for (const auto& entry : newest) {
            fetch_image(context, from, hashes, entry.second, log); // the next one may still work
        }
    }
    return log.failed() ? 1 : 0;
}

} // namespace ksx::activator
