#include "fetch/oci_manifest.hpp"

#include "util/error.hpp"
#include "util/image_reference.hpp"

#include <array>
#include <nlohmann/json.hpp>

namespace ksx::fetch {

namespace {

using nlohmann::json;

std::string string_field(const json& object, const char* name) {
    auto it = object.find(name);
    return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

Descriptor read_descriptor(const json& value, const std::string& what, const char* field) {
    if (!value.is_object()) {
        throw InputError(what + ": " + field + " is not a descriptor object");
    }
    Descriptor out;
    out.media_type = string_field(value, "mediaType");
    out.digest = string_field(value, "digest");
    if (!is_sha256_digest(out.digest)) {
        throw InputError(what + ": " + field + " has digest \"" + out.digest +
                         "\"; only sha256 digests are supported");
    }
    if (auto size = value.find("size"); size != value.end() && size->is_number_unsigned()) {
        out.size = size->get<std::uint64_t>();
    }
    if (auto platform = value.find("platform"); platform != value.end() && platform->is_object()) {
        out.platform =
            OciPlatform{string_field(*platform, "os"), string_field(*platform, "architecture"),
                        string_field(*platform, "variant")};
    }
    return out;
}

bool is_index_type(std::string_view type) {
    return type == media_type::kOciIndex || type == media_type::kDockerList;
}

bool is_image_type(std::string_view type) {
    return type == media_type::kOciManifest || type == media_type::kDockerManifest;
}

} // namespace

std::string accepted_manifest_types() {
    return std::string(media_type::kOciIndex) + ", " + std::string(media_type::kOciManifest) +
           ", " + std::string(media_type::kDockerList) + ", " +
           std::string(media_type::kDockerManifest);
}

ManifestDocument parse_manifest(std::string_view text, std::string_view content_type,
                                const std::string& what) {
    json document = json::parse(text, nullptr, false);
    if (document.is_discarded() || !document.is_object()) {
        throw InputError(what + ": the manifest is not a JSON object");
    }
    ManifestDocument out;
    out.media_type = string_field(document, "mediaType");
    if (out.media_type.empty()) {
        out.media_type = content_type.substr(0, content_type.find(';'));
    }
    if (out.media_type.empty() || out.media_type == "application/json") {
        out.media_type =
            document.contains("manifests") ? media_type::kOciIndex : media_type::kOciManifest;
    }
    if (out.media_type.starts_with("application/vnd.docker.distribution.manifest.v1")) {
        throw InputError(what + ": a Docker schema 1 manifest; push the image again with a "
                                "current tool (schema 2 or OCI)");
    }
    if (is_index_type(out.media_type)) {
        out.kind = ManifestDocument::Kind::Index;
        auto manifests = document.find("manifests");
        if (manifests == document.end() || !manifests->is_array()) {
            throw InputError(what + ": the image index has no \"manifests\" list");
        }
        for (const auto& entry : *manifests) {
            out.manifests.push_back(read_descriptor(entry, what, "a manifests entry"));
        }
        return out;
    }
    if (!is_image_type(out.media_type)) {
        throw InputError(what + ": unsupported manifest media type \"" + out.media_type + "\"");
    }
    auto config = document.find("config");
    auto layers = document.find("layers");
    if (config == document.end() || layers == document.end() || !layers->is_array()) {
        throw InputError(what + ": the image manifest lacks \"config\" or \"layers\"");
    }
    out.config = read_descriptor(*config, what, "config");
    for (const auto& layer : *layers) {
        out.layers.push_back(read_descriptor(layer, what, "a layer"));
    }
    return out;
}

std::optional<Descriptor> select_platform(const ManifestDocument& index,
                                          const OciPlatform& platform) {
    for (const auto& entry : index.manifests) {
        if (entry.platform && is_image_type(entry.media_type) &&
            platform.accepts(*entry.platform)) {
            return entry;
        }
    }
    return std::nullopt;
}

std::string offered_platforms(const ManifestDocument& index) {
    std::string out;
    for (const auto& entry : index.manifests) {
        if (entry.platform && is_image_type(entry.media_type) &&
            entry.platform->os != "unknown") { // "unknown/unknown": attestations
            out += (out.empty() ? "" : ", ") + entry.platform->text();
        }
    }
    return out.empty() ? "none" : out;
}

bool is_supported_layer(std::string_view type) {
    static constexpr std::array<std::string_view, 5> supported{
        "application/vnd.oci.image.layer.v1.tar",
        "application/vnd.oci.image.layer.v1.tar+gzip",
        "application/vnd.oci.image.layer.v1.tar+zstd",
        "application/vnd.docker.image.rootfs.diff.tar.gzip",
        "application/vnd.docker.image.rootfs.diff.tar",
    };
    for (auto name : supported) {
        if (type == name) {
            return true;
        }
    }
    return false;
}

OciPlatform config_platform(std::string_view text, const std::string& what) {
    json config = json::parse(text, nullptr, false);
    if (config.is_discarded() || !config.is_object()) {
        throw InputError(what + ": the image configuration is not a JSON object");
    }
    return {string_field(config, "os"), string_field(config, "architecture"),
            string_field(config, "variant")};
}

} // namespace ksx::fetch
