// Container image references as Docker and OCI tools write them:
// [REGISTRY[:PORT]/]PATH[:TAG][@sha256:DIGEST].
#pragma once

#include <string>
#include <string_view>

namespace ksx {

struct ImageReference {
    std::string registry;   // "registry.example.org:5000"; "docker.io" when none was written
    std::string repository; // "org/devcontainer"; Docker Hub's official images get "library/"
    std::string tag;        // "latest" when neither a tag nor a digest was written
    std::string digest;     // "sha256:<64 hex>", or empty

    // "registry/repository:tag@digest" with only the parts that are set.
    std::string text() const;
    // The tag or, when set, the digest: what the registry's manifest URL names.
    const std::string& manifest_reference() const { return digest.empty() ? tag : digest; }
    // The host the registry API is served from (Docker Hub's differs from its name).
    std::string api_host() const;
};

struct ParsedImageReference {
    ImageReference reference;
    std::string problem; // why the text is no image reference, or ""
};

// Parses and normalizes a reference the way Docker's distribution/reference does: a first
// component with '.' or ':' (or "localhost") is the registry, otherwise Docker Hub. Only
// sha256 digests are accepted.
ParsedImageReference parse_image_reference(std::string_view text);

// True for "sha256:" and 64 lower-case hex digits.
bool is_sha256_digest(std::string_view digest);

} // namespace ksx
