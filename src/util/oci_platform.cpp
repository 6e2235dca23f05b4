#include "util/oci_platform.hpp"

#include <algorithm>
#include <array>
#include <sys/utsname.h>
#include <utility>

namespace ksx {

namespace {

bool is_part(std::string_view part) {
    return !part.empty() && std::all_of(part.begin(), part.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
    });
}

} // namespace

std::string OciPlatform::text() const {
    return os + "/" + architecture + (variant.empty() ? "" : "/" + variant);
}

bool OciPlatform::accepts(const OciPlatform& offered) const {
    return os == offered.os && architecture == offered.architecture &&
           (variant.empty() || variant == offered.variant);
}

ParsedOciPlatform parse_oci_platform(std::string_view text) {
    ParsedOciPlatform out;
    std::array<std::string_view, 3> parts{};
    size_t count = 0;
    for (size_t start = 0; start <= text.size(); ++count) {
        size_t end = std::min(text.find('/', start), text.size());
        if (count == parts.size()) {
            out.problem = "has more than three parts (os/architecture[/variant])";
            return out;
        }
        parts[count] = text.substr(start, end - start);
        start = end + 1;
    }
    if (count < 2) {
        out.problem = "is not os/architecture[/variant] (e.g. linux/amd64)";
        return out;
    }
    for (size_t i = 0; i < count; ++i) {
        if (!is_part(parts[i])) {
            out.problem = "has an invalid part \"" + std::string(parts[i]) +
                          "\" (lower-case letters, digits and '_')";
            return out;
        }
    }
    out.platform = {std::string(parts[0]), std::string(parts[1]), std::string(parts[2])};
    return out;
}

OciPlatform host_oci_platform() {
    // uname -m to the architecture names of Go, which OCI image indexes use.
    static constexpr std::array<std::pair<std::string_view, std::string_view>, 10> names{{
        {"x86_64", "amd64"},
        {"i686", "386"},
        {"i386", "386"},
        {"aarch64", "arm64"},
        {"armv7l", "arm"},
        {"ppc64le", "ppc64le"},
        {"s390x", "s390x"},
        {"riscv64", "riscv64"},
        {"loongarch64", "loong64"},
        {"mips64", "mips64"},
    }};
    struct utsname uts {};
    ::uname(&uts);
    std::string machine = uts.machine;
    for (const auto& [uname_name, go_name] : names) {
        if (machine == uname_name) {
            OciPlatform platform{"linux", std::string(go_name), ""};
            if (go_name == "arm") {
                platform.variant = "v7";
            }
            return platform;
        }
    }
    return {"linux", machine, ""};
}

} // namespace ksx
