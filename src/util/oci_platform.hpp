// The platform of an OCI image: "linux/amd64", "linux/arm64/v8".
#pragma once

#include <string>
#include <string_view>

namespace ksx {

struct OciPlatform {
    std::string os;           // "linux"
    std::string architecture; // GOARCH names: "amd64", "arm64", "arm", "ppc64le", "s390x"...
    std::string variant;      // "v7", "v8", or empty

    // "os/architecture[/variant]".
    std::string text() const;
    // True when an image for `offered` runs here: same os and architecture, and the same
    // variant unless this platform leaves it open (arm64 images often say "v8" or nothing).
    bool accepts(const OciPlatform& offered) const;
};

struct ParsedOciPlatform {
    OciPlatform platform;
    std::string problem; // why the text is no platform, or ""
};

// "os/architecture[/variant]", each part lower-case letters, digits and '_'.
ParsedOciPlatform parse_oci_platform(std::string_view text);

// The platform of this machine: linux and the GOARCH name of `uname -m`.
OciPlatform host_oci_platform();

} // namespace ksx
