// Reading parts of `container:`: the image-based developer containers (`oci:`, `ostree:`) and
// the Debian container's apt options.
#pragma once

#include "manifest/manifest.hpp"
#include "manifest/path_value.hpp"

#include <filesystem>
#include <string>
#include <vector>

namespace ksx::manifest::detail {

// `oci:`: a map with `image:` (required), `platform:` and `insecure:`.
OciContainer read_oci(const Value& value);

// `ostree:`: a map with `repo:` (a URL or a path) and `ref:` (required), `commit:` and
// `gpg_keys:`.
OstreeContainer read_ostree(const Value& value, const PathRoots& base);

// `debian.apt_options`: "Name=value" items (apt's `-o` syntax), names unique.
std::vector<std::string> apt_option_list(const Value& value);

} // namespace ksx::manifest::detail
