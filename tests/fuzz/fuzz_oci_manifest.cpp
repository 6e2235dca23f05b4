// Registry JSON: image indexes and manifests (OCI and Docker) and image configurations, as the
// developer container's pull reads them from a registry.
#include "fetch/oci_manifest.hpp"
#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    auto json = ksx::fuzz::as_text(data, size);
    for (auto content_type : {std::string_view(), ksx::fetch::media_type::kOciIndex,
                              ksx::fetch::media_type::kDockerManifest}) {
        ksx::fuzz::refusals_expected([&] {
            auto document = ksx::fetch::parse_manifest(json, content_type, "fuzz/image:1");
            if (document.kind == ksx::fetch::ManifestDocument::Kind::Index) {
                ksx::fetch::select_platform(document, {"linux", "amd64", ""});
                ksx::fetch::select_platform(document, {"linux", "arm64", "v8"});
                ksx::fetch::offered_platforms(document);
            } else {
                for (const auto& layer : document.layers) {
                    ksx::fetch::is_supported_layer(layer.media_type);
                }
            }
        });
    }
    ksx::fuzz::refusals_expected([&] { ksx::fetch::config_platform(json, "fuzz/image:1"); });
    ksx::parse_oci_platform(json);
    return 0;
}
