// Reading the image-based developer containers of `container:`: `oci:` and `ostree:`.
#pragma once

#include "manifest/manifest.hpp"
#include "manifest/path_value.hpp"

#include <filesystem>

namespace ksx::manifest::detail {

// `oci:`: a map with `image:` (required), `platform:` and `insecure:`.
OciContainer read_oci(const Value& value);

// `ostree:`: a map with `repo:` (a URL or a path) and `ref:` (required), `commit:` and
// `gpg_keys:`.
OstreeContainer read_ostree(const Value& value, const PathRoots& base);

} // namespace ksx::manifest::detail
