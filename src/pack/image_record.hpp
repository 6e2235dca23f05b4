// What `build` made of each kernel: the typed result of the build-images pipeline, and its JSON
// form (each entry of `build --json`'s "images", and the record the build cache keeps).
#pragma once

#include "build/compiler_cache.hpp"
#include "sign/module_compression.hpp"

#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ksx::pack {

struct ModuleRecord {
    std::string name;
    std::string vermagic;
    std::vector<std::string> depends;
    std::vector<std::string> kernel_depends; // the dependencies not shipped in the image
};

// A signed image's verity: the sidecars of a squashfs, or the verity partition of a DDI.
struct VerityRecord {
    bool ddi = false;
    std::string root_hash;
    std::filesystem::path verity; // the sidecars, beside the image (squashfs only)
    std::filesystem::path roothash;
    std::filesystem::path roothash_p7s;
    std::string signer; // the image certificate's subject
};

// Where an image came from: built with the build cache off, built after a miss, or a hit.
enum class CacheUse { Off, Miss, Hit };

struct ImageRecord {
    std::string kernel; // the release; empty: the shared userspace image of a split build
    std::string version;
    std::filesystem::path path; // in the output directory
    std::uint64_t size = 0;
    std::string sha256;
    std::string module_signature_hash; // empty: modules not signed
    sign::CompressionChoice compression;
    std::optional<VerityRecord> verity; // unset: not signed
    std::vector<ModuleRecord> modules;
    std::optional<build::CompilerCacheStats> compiler_cache; // set when this run used ccache
    CacheUse build_cache = CacheUse::Miss;
    std::string target; // the target's name, for a manifest with `targets:`
};

// The record as `build --json` prints it.
nlohmann::json to_json(const ImageRecord& record);

// What the build cache keeps of a record: to_json() without what belongs to one run (path,
// build_cache, compiler_cache, target).
std::string cache_record(const ImageRecord& record);

// A record the build cache kept, its paths those of `image` (the image committed into the
// output directory) and its sidecars; nullopt when the text is not such a record.
std::optional<ImageRecord> from_cache_record(std::string_view text,
                                             const std::filesystem::path& image);

} // namespace ksx::pack
