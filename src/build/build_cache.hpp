// Finished kernel builds kept under a key of everything that determines them, so a build with
// nothing changed writes the same image set again without a container or a compiler. An entry
// is a kernel's image set as it was staged (the image and its sidecars: signed, compressed
// modules included) and the record `build --json` reports of it, in `<cache>/builds/<key>/`.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace ksx::build {

// Everything an image set depends on (never a private key: its certificate stands for it; a key
// that does not match its certificate is refused before any build). A kernel's set, or the shared
// userspace image of a split build (no kernel release; `userspace` says which).
struct BuildKeyInputs {
    std::string tool_version;       // kmod-sysext's version
    std::string plan_key;           // `plan`'s cache key of the target and kernel spec
    std::string kernel_release;     // the release the spec resolved to; "" for a shared image
    std::string container;          // the developer container's identity
    std::vector<std::string> certs; // signing certificates (DER), in a fixed order; "" for none
    std::uint32_t timestamp = 0;    // every inode's mtime (image.timestamp, SOURCE_DATE_EPOCH)
    // `userspace: shared`: for a kernel, the shared image version its release names ("" for
    // none); for the shared image, its version and the packages chosen for it.
    std::string userspace;
};

// The entry's name: the hex SHA-256 over the inputs.
std::string build_cache_key(const BuildKeyInputs& inputs);

// The size cap: KSX_BUILD_CACHE_MAX ("512M", "20G", bytes without a suffix), else 10 GiB.
// Throws InputError naming the variable when its value is not a size.
std::uint64_t build_cache_limit();
std::uint64_t parse_size(const std::string& text); // throws InputError

class BuildCache {
public:
    // `root` is `<cache>/builds`.
    BuildCache(std::filesystem::path root, std::uint64_t max_bytes);

    // On a hit, copies the entry's files into `dir` (under their names, each checked against
    // the SHA-256 it was stored with), marks the entry used and returns its record and the
    // names written; nullopt when there is no complete entry (a damaged one is removed).
    struct Restored {
        std::string record;
        std::vector<std::string> files;
    };
    std::optional<Restored> restore(const std::string& key, const std::filesystem::path& dir);

    // Stores `files` of `dir` and `record` under `key`: written into a temp directory owned by
    // this process, made durable, then renamed into place, so a killed run leaves no entry
    // (only a temp directory the next run removes). Replaces an entry of the same key not in
    // use. Then evicts least recently used entries beyond the cap (never `key`'s).
    void store(const std::string& key, const std::filesystem::path& dir,
               const std::vector<std::string>& files, const std::string& record);

    // Removes least recently used entries not in use until the entries fit `max_bytes`
    // (except `keep`); returns the removed entries' paths.
    std::vector<std::filesystem::path> evict(const std::string& keep = {});

private:
    std::filesystem::path root_;
    std::uint64_t max_bytes_;
};

} // namespace ksx::build
