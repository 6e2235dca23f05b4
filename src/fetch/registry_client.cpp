#include "fetch/registry_client.hpp"

#include "fetch/http_request.hpp"
#include "fetch/transfer_error.hpp"
#include "util/atomic_file.hpp"
#include "util/error.hpp"
#include "util/file_io.hpp"
#include "util/sha256.hpp"

#include <nlohmann/json.hpp>

namespace fs = std::filesystem;

namespace ksx::fetch {

namespace {

constexpr std::size_t kMaxManifest = 4 << 20; // the distribution spec's limit

std::string hex_of(const std::string& digest) {
    return digest.substr(digest.find(':') + 1);
}

// "MANIFEST_UNKNOWN: manifest unknown" from a registry's error body, or "".
std::string registry_error(const std::string& body) {
    auto json = nlohmann::json::parse(body, nullptr, false);
    if (!json.is_object() || !json.contains("errors") || !json["errors"].is_array() ||
        json["errors"].empty() || !json["errors"][0].is_object()) {
        return {};
    }
    const auto& first = json["errors"][0];
    std::string out = first.value("code", std::string());
    std::string message = first.value("message", std::string());
    if (!message.empty()) {
        out += (out.empty() ? "" : ": ") + message;
    }
    return out;
}

} // namespace

RegistryClient::RegistryClient(ImageReference image, RegistryOptions options)
    : image_(std::move(image)), options_(std::move(options)) {
    if (options_.download.cache_dir.empty()) {
        options_.download.cache_dir = cache_dir();
    }
    options_.download.verify_tls = !options_.insecure;
    auto credentials =
        find_registry_credentials(registry_auth_file(options_.auth_file), image_.registry);
    auth_ = std::make_unique<RegistryAuth>(image_.registry, image_.repository,
                                           std::move(credentials), options_.download);
}

std::string RegistryClient::url(const std::string& path) const {
    return scheme_ + "://" + image_.api_host() + "/v2/" + path;
}

void RegistryClient::connect() {
    if (connected_) {
        return;
    }
    // The API's base answers 200, or 401 with the challenge to answer before anything else.
    auto ping = [&](const DownloadOptions& options) {
        try {
            return http_request({url(""), false, {}, 1 << 20}, options);
        } catch (const TransferError& e) {
            throw TransferError("registry " + image_.registry + " cannot be reached: " + e.what(),
                                e.http_status(), e.unreachable(), e.tls_failure());
        }
    };
    HttpResponse response;
    if (!options_.insecure) {
        response = ping(options_.download);
    } else {
        // One quick try in TLS: a plain HTTP registry fails the handshake at once.
        auto probe = options_.download;
        probe.retries = 0;
        try {
            response = ping(probe);
        } catch (const TransferError& e) {
            if (e.tls_failure()) {
                scheme_ = "http";
            }
            response = ping(options_.download);
        }
    }
    if (response.status == 401) {
        auto challenge = parse_challenge(response.header("www-authenticate"));
        if (!challenge) {
            throw Error("registry " + image_.registry +
                        " answered 401 without a WWW-Authenticate challenge");
        }
        auth_->answer(*challenge);
    } else if (response.status != 200) {
        throw Error(url("") + ": HTTP " + std::to_string(response.status) +
                    "; is this an OCI registry (Docker Registry HTTP API v2)?");
    }
    connected_ = true;
}

HttpResponse RegistryClient::send(const std::string& path, bool head) {
    connect();
    HttpRequest request{url(path), head, {"Accept: " + accepted_manifest_types()}, kMaxManifest};
    auto with_auth = [&] {
        auto options = options_.download;
        if (!auth_->header().empty()) {
            options.headers.push_back(auth_->header());
        }
        return http_request(request, options);
    };
    auto response = with_auth();
    if (response.status == 401) {
        // A token that expired, or a scope the first challenge did not cover.
        if (auto challenge = parse_challenge(response.header("www-authenticate"))) {
            auth_->answer(*challenge);
            response = with_auth();
        }
    }
    return response;
}

void RegistryClient::check_status(const HttpResponse& response,
                                  const std::string& reference) const {
    if (response.status == 200) {
        return;
    }
    const std::string what = image_.registry + "/" + image_.repository +
                             (reference.starts_with("sha256:") ? "@" : ":") + reference;
    std::string detail = registry_error(response.body);
    detail =
        " (HTTP " + std::to_string(response.status) + (detail.empty() ? "" : ", ") + detail + ")";
    if (response.status == 404) {
        throw InputError(what + ": no such image in the registry" + detail);
    }
    if (response.status == 401 || response.status == 403) {
        throw InputError(what + ": access denied; does the image exist, and are credentials for " +
                         image_.registry + " needed" + detail + "?");
    }
    throw Error(what + ": the registry failed" + detail);
}

fs::path RegistryClient::cached(const std::string& digest) const {
    const fs::path path = options_.download.cache_dir / "downloads" / hex_of(digest);
    std::error_code ec;
    if (!fs::is_regular_file(path, ec)) {
        return {};
    }
    if (sha256_file_hex(path) != hex_of(digest)) {
        fs::remove(path, ec); // damaged: fetched again
        return {};
    }
    return path;
}

void RegistryClient::keep(const Manifest& manifest) const {
    fs::create_directories(options_.download.cache_dir / "downloads");
    write_file_atomic(options_.download.cache_dir / "downloads" / hex_of(manifest.digest),
                      manifest.body);
}

RegistryClient::Manifest RegistryClient::manifest(const std::string& reference) {
    const bool by_digest = reference.starts_with("sha256:");
    if (by_digest) {
        if (auto path = cached(reference); !path.empty()) {
            return {reference, read_file(path), ""};
        }
    } else {
        // A tag moves: ask for its digest each time, cheaply, and reuse what it names.
        // (A failed HEAD has no body to explain itself: the GET below reports the error.)
        auto head = send(image_.repository + "/manifests/" + reference, true);
        auto digest = head.status == 200 ? head.header("docker-content-digest") : "";
        if (is_sha256_digest(digest)) {
            if (auto path = cached(digest); !path.empty()) {
                return {digest, read_file(path), ""};
            }
        }
    }
    auto response = send(image_.repository + "/manifests/" + reference, false);
    check_status(response, reference);
    Manifest out{"sha256:" + sha256_hex(response.body), std::move(response.body),
                 response.header("content-type")};
    const std::string claimed = by_digest ? reference : response.header("docker-content-digest");
    if (!claimed.empty() && claimed != out.digest) {
        throw Error(image_.registry + "/" + image_.repository + "@" + reference +
                    ": the registry sent a manifest whose digest is " + out.digest + ", not " +
                    claimed + "; refusing it");
    }
    keep(out);
    return out;
}

void RegistryClient::check_config_platform(const ManifestDocument& manifest,
                                           const OciPlatform& platform) {
    const auto config = blob(manifest.config, "image configuration");
    auto offered = config_platform(read_file(config), image_.text());
    if (!platform.accepts(offered)) {
        throw InputError(image_.text() + ": the image is for " + offered.text() + ", not " +
                         platform.text() + " (set container.oci.platform to pull it anyway)");
    }
}

ResolvedImage RegistryClient::resolve(const OciPlatform& platform) {
    const std::string what = image_.text();
    auto top = manifest(image_.manifest_reference());
    ResolvedImage out;
    out.manifest = parse_manifest(top.body, top.content_type, what);
    out.digest = top.digest;
    if (out.manifest.kind == ManifestDocument::Kind::Index) {
        auto entry = select_platform(out.manifest, platform);
        if (!entry) {
            throw InputError(what + ": the image has no manifest for " + platform.text() +
                             " (it has: " + offered_platforms(out.manifest) + ")");
        }
        auto chosen = manifest(entry->digest);
        out.index_digest = top.digest;
        out.digest = chosen.digest;
        out.manifest = parse_manifest(chosen.body, chosen.content_type, what);
        if (out.manifest.kind != ManifestDocument::Kind::Image) {
            throw InputError(what + ": the index entry for " + platform.text() +
                             " is another index; nested indexes are not supported");
        }
    } else {
        check_config_platform(out.manifest, platform);
    }
    for (const auto& layer : out.manifest.layers) {
        if (!is_supported_layer(layer.media_type)) {
            throw InputError(what + ": layer " + layer.digest + " has media type \"" +
                             layer.media_type +
                             "\"; supported are tar layers, plain or compressed with gzip or zstd");
        }
    }
    return out;
}

fs::path RegistryClient::blob(const Descriptor& descriptor, const std::string& label) {
    if (auto path = cached(descriptor.digest); !path.empty()) {
        return path;
    }
    connect(); // first: it may find that the registry speaks plain HTTP
    const std::string blob_url = url(image_.repository + "/blobs/" + descriptor.digest);
    auto attempt = [&] {
        auto options = options_.download;
        options.label = label + " " + descriptor.digest.substr(0, 19);
        if (!auth_->header().empty()) {
            options.headers.push_back(auth_->header());
        }
        return download(blob_url, hex_of(descriptor.digest), options);
    };
    try {
        return attempt();
    } catch (const TransferError& e) {
        if (e.http_status() != 401) {
            throw;
        }
    }
    // The token expired during a long pull: answer a fresh challenge and try once more.
    connected_ = false;
    connect();
    return attempt();
}

} // namespace ksx::fetch
