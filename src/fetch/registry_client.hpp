// A client of the OCI Distribution API (Docker Registry HTTP API v2) for pulling one image:
// manifests resolved for a platform and verified by digest, blobs into the download cache.
#pragma once

#include "fetch/fetch.hpp"
#include "fetch/http_request.hpp"
#include "fetch/oci_manifest.hpp"
#include "fetch/registry_auth.hpp"
#include "util/image_reference.hpp"
#include "util/oci_platform.hpp"

#include <filesystem>
#include <memory>
#include <string>

namespace ksx::fetch {

struct RegistryOptions {
    // TLS certificates are not checked, and a registry that does not speak TLS is spoken to in
    // plain HTTP (Docker's "insecure registry").
    bool insecure = false;
    DownloadOptions download;             // cache, progress, retries, timeouts
    std::filesystem::path auth_file = {}; // empty: registry_auth_file()
};

struct ResolvedImage {
    std::string digest;       // of the platform's image manifest: names the image's content
    std::string index_digest; // of the index the reference named, or "" for a plain manifest
    ManifestDocument manifest;
};

class RegistryClient {
public:
    RegistryClient(ImageReference image, RegistryOptions options);

    // Finds the image manifest of the reference for `platform`: a tag is asked for each time
    // (HEAD, then GET unless the cache holds the manifest the registry names); a digest is
    // looked up in the cache first. Every manifest is checked against its digest before use
    // and kept in the download cache. Throws InputError for an unknown image, tag or digest,
    // a platform the image does not offer or a malformed manifest; TransferError when the
    // registry cannot be reached; Error for a digest mismatch or a registry failure.
    ResolvedImage resolve(const OciPlatform& platform);

    // The blob in the download cache (downloaded when missing, with progress), verified
    // against its digest. `label` names it in progress lines.
    std::filesystem::path blob(const Descriptor& blob, const std::string& label);

    const ImageReference& image() const { return image_; }

private:
    struct Manifest {
        std::string digest;
        std::string body;
        std::string content_type;
    };
    void connect();
    std::string url(const std::string& path) const;
    HttpResponse send(const std::string& path, bool head);
    void check_status(const HttpResponse& response, const std::string& reference) const;
    Manifest manifest(const std::string& reference);
    std::filesystem::path cached(const std::string& digest) const;
    void keep(const Manifest& manifest) const;
    void check_config_platform(const ManifestDocument& manifest, const OciPlatform& platform);

    ImageReference image_;
    RegistryOptions options_;
    std::string scheme_ = "https";
    bool connected_ = false;
    std::unique_ptr<RegistryAuth> auth_;
};

} // namespace ksx::fetch
