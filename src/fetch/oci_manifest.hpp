// The JSON documents of an image in a registry: image indexes (Docker manifest lists), image
// manifests (OCI and Docker v2 schema 2) and the descriptors they hold.
#pragma once

#include "util/oci_platform.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ksx::fetch {

namespace media_type {
inline constexpr std::string_view kOciIndex = "application/vnd.oci.image.index.v1+json";
inline constexpr std::string_view kOciManifest = "application/vnd.oci.image.manifest.v1+json";
inline constexpr std::string_view kDockerList =
    "application/vnd.docker.distribution.manifest.list.v2+json";
inline constexpr std::string_view kDockerManifest =
    "application/vnd.docker.distribution.manifest.v2+json";
} // namespace media_type

// Every manifest type the client asks for, for the Accept header.
std::string accepted_manifest_types();

struct Descriptor {
    std::string media_type;
    std::string digest; // "sha256:<hex>"
    std::uint64_t size = 0;
    std::optional<OciPlatform> platform; // index entries only
};

struct ManifestDocument {
    enum class Kind { Index, Image };
    Kind kind = Kind::Image;
    std::string media_type;
    std::vector<Descriptor> manifests; // Index
    Descriptor config;                 // Image
    std::vector<Descriptor> layers;    // Image, bottom first
};

// Parses a manifest; its type is the document's "mediaType", else `content_type` (the
// registry's Content-Type), else what its fields show. Anything else — a Docker schema 1
// manifest, JSON that is no manifest, a descriptor without a sha256 digest — throws InputError
// naming `what` (the image).
ManifestDocument parse_manifest(std::string_view json, std::string_view content_type,
                                const std::string& what);

// The index entry for `platform`, or nullopt; entries that are not image manifests (an
// attestation, a nested index) are passed over.
std::optional<Descriptor> select_platform(const ManifestDocument& index,
                                          const OciPlatform& platform);

// The platforms an index offers, "linux/amd64, linux/arm64/v8", for messages.
std::string offered_platforms(const ManifestDocument& index);

// The layer compressions applied by libarchive: tar, tar+gzip, tar+zstd (OCI and Docker names).
bool is_supported_layer(std::string_view media_type);

// The os/architecture/variant of an image configuration (its JSON).
OciPlatform config_platform(std::string_view json, const std::string& what);

} // namespace ksx::fetch
