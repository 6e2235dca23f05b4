// The image store on the node: <store>/<name>/<name>_<version>_<kernel>.raw (+ sidecars).
#pragma once

#include "activator/context.hpp"
#include "activator/image_name.hpp"
#include "activator/log.hpp"

#include <string>
#include <vector>

namespace ksx::activator {

struct StoredExtension {
    std::string name;
    // Sorted by kernel, then newest version first.
    std::vector<ImageName> images;
};

// Lists the store. Entries that are not extensions or images are logged and skipped; a store
// or extension directory that cannot be read is logged as an error and the scan goes on.
// A missing store is an empty one.
std::vector<StoredExtension> scan_store(const Context& context, Log& log);

} // namespace ksx::activator
