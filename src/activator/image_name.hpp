// Image file names in the store: "<name>_<version>_<kernel>.raw".
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace ksx::activator {

struct ImageName {
    std::string extension;
    std::string version;
    std::string kernel;
    // "<name>_<version>_<kernel>": the image's file name without ".raw"; sidecars share it.
    std::string stem() const { return extension + "_" + version + "_" + kernel; }
    std::string file_name() const { return stem() + ".raw"; }
};

// Extension names: letters, digits, '-', '+' and '.', not starting with '.' or '-', no '_'
// (it separates the fields of image names).
bool is_extension_name(std::string_view name);

// Splits a file name; nullopt unless it is "<name>_<version>_<kernel>.raw" with a valid name
// and non-empty version (no '_') and kernel (the rest).
std::optional<ImageName> parse_image_name(std::string_view file_name);

} // namespace ksx::activator
