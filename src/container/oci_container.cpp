#include "container/oci_container.hpp"

#include "container/tar_extract.hpp"
#include "fetch/registry_client.hpp"
#include "fetch/transfer_error.hpp"
#include "util/atomic_file.hpp"
#include "util/entry_lock.hpp"
#include "util/error.hpp"
#include "util/file_io.hpp"
#include "util/sha256.hpp"

#include <chrono>
#include <optional>

namespace fs = std::filesystem;

namespace ksx::container {

namespace {

std::string hex_of(const std::string& digest) {
    return digest.substr(digest.find(':') + 1);
}

// The root filesystem of an image, by its manifest's digest.
fs::path image_root(const fs::path& cache, const std::string& digest) {
    return cache / "containers" / ("oci-" + hex_of(digest)) / "rootfs";
}

// Remembers the digest a tag named for a platform, for runs without the registry.
fs::path tag_file(const fs::path& cache, const manifest::OciContainer& oci) {
    return cache / "containers" / "oci-tags" /
           sha256_hex(oci.image.text() + " " + oci.platform.text()).substr(0, 32);
}

std::string age_of(const fs::path& file) {
    auto age = fs::file_time_type::clock::now() - fs::last_write_time(file);
    auto hours = std::chrono::duration_cast<std::chrono::hours>(age).count();
    return hours < 48 ? std::to_string(hours) + " h ago" : std::to_string(hours / 24) + " days ago";
}

void pull_layers(fetch::RegistryClient& client, const fetch::ResolvedImage& image,
                 const fs::path& root, Progress& progress) {
    std::vector<LayerFile> layers;
    const auto count = image.manifest.layers.size();
    for (size_t i = 0; i < count; ++i) {
        const auto& layer = image.manifest.layers[i];
        std::string label = "layer " + std::to_string(i + 1) + " of " + std::to_string(count);
        layers.push_back({client.blob(layer, label),
                          client.image().text() + " " + label + " (" + layer.digest + ")"});
    }
    progress.step("container: applying " + std::to_string(count) + " layer(s) of " +
                  client.image().text());
    try {
        extract_layers(layers, root);
    } catch (const std::exception&) {
        std::error_code ec;
        if (!fs::exists(root, ec)) {
            fs::remove(root.parent_path(), ec); // only when empty: no other run is using it
            throw;
        }
        // Another run made the same root filesystem meanwhile: use it.
    }
}

} // namespace

ImageRootfs oci_rootfs(const manifest::OciContainer& oci, const PrepareOptions& options) {
    fetch::RegistryOptions registry{
        .insecure = oci.insecure,
        .download = {.cache_dir = options.cache_dir, .progress = options.progress}};
    fetch::RegistryClient client(oci.image, registry);

    const fs::path remembered = tag_file(options.cache_dir, oci);
    const bool by_tag = oci.image.digest.empty();
    std::optional<fetch::ResolvedImage> resolved;
    std::string digest;
    try {
        options.progress.step("container: resolving " + oci.image.text() + " for " +
                              oci.platform.text());
        resolved = client.resolve(oci.platform);
        digest = resolved->digest;
    } catch (const fetch::TransferError& e) {
        std::error_code ec;
        if (!by_tag || !e.unreachable() || !fs::is_regular_file(remembered, ec)) {
            throw;
        }
        digest = read_file(remembered).substr(0, 71);
        if (!is_sha256_digest(digest) || !fs::is_directory(image_root(options.cache_dir, digest))) {
            throw;
        }
        options.progress.line(std::string(e.what()) + "\nusing the cached image " + digest +
                              " that tag " + oci.image.tag + " named when last resolved (" +
                              age_of(remembered) + ")");
    }
    const fs::path root = image_root(options.cache_dir, digest);
    std::error_code ec;
    if (!fs::is_directory(root, ec)) {
        // A run applying the same image goes first.
        EntryLock lock(options.cache_dir, root.parent_path().filename().string());
        if (!fs::is_directory(root, ec)) {
            pull_layers(client, *resolved, root, options.progress);
        }
    }
    if (resolved && by_tag) {
        fs::create_directories(remembered.parent_path());
        write_file_atomic(remembered, digest + "\n" + oci.image.text() + "\n");
    }
    return {root, "oci " + oci.image.text() + " for " + oci.platform.text() + " (" +
                      digest.substr(0, 19) + ")"};
}

} // namespace ksx::container
