#include "activator/store.hpp"

#include "activator/root_files.hpp"
#include "activator/version_compare.hpp"
#include "contract/sidecars.hpp"
#include "util/error.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <optional>
#include <sys/stat.h>

namespace ksx::activator {

namespace fs = std::filesystem;

namespace {

// Names in one directory beneath the root, sorted; nullopt (after logging) when it cannot be
// read.
std::optional<std::vector<std::string>> list_directory(const Context& context,
                                                       const fs::path& node_dir, Log& log) {
    std::error_code ec;
    auto names = list_beneath(context, node_dir, ec);
    if (ec) {
        log.error("cannot read {}: {}", {context.on_disk(node_dir).native(), ec.message()});
        return std::nullopt;
    }
    return names;
}

void scan_extension(const Context& context, const fs::path& node_dir, StoredExtension& extension,
                    Log& log) {
    auto names = list_directory(context, node_dir, log);
    if (!names) {
        return;
    }
    auto dir = context.on_disk(node_dir);
    for (const auto& file : *names) {
        if (file.front() == '.' || contract::is_sidecar_name(file)) {
            continue; // partial downloads, and verity data found by its image's name
        }
        auto image = parse_image_name(file);
        const auto shown = dir / file;
        if (!image) {
            log.info(
                "ignoring {}: not named {}_<version>_<kernel>.raw (version: letters, digits and "
                "\".+~-\"; kernel: letters, digits and \"._+~-\"; each at most 64 characters)",
                {shown.native(), extension.name});
            continue;
        }
        if (image->extension != extension.name) {
            log.info("ignoring {}: an image of {} in the directory of {}",
                     {shown.native(), image->extension, extension.name});
            continue;
        }
        extension.images.push_back(std::move(*image));
    }
    // Newest first per kernel; versions that compare equal keep the names' order (the listing's),
    // as a stable sort would, without its larger code.
    std::sort(extension.images.begin(), extension.images.end(),
              [](const ImageName& a, const ImageName& b) {
                  if (a.kernel != b.kernel) {
                      return a.kernel < b.kernel;
                  }
                  if (int order = compare_versions(a.version, b.version); order != 0) {
                      return order > 0;
                  }
                  return a.file_name() < b.file_name();
              });
}

} // namespace

std::vector<StoredExtension> scan_store(const Context& context, Log& log) {
    fs::path store = context.on_disk(context.store);
    if (!stat_beneath(context, context.store) && errno == ENOENT) {
        log.info("store {} does not exist: no images", {store.native()});
        return {};
    }
    std::vector<StoredExtension> extensions;
    auto names = list_directory(context, context.store, log);
    if (!names) {
        return extensions;
    }
    for (const auto& name : *names) {
        if (name.front() == '.') {
            continue;
        }
        fs::path dir = store / name;
        if (!is_extension_name(name)) {
            log.info("ignoring {}: not an extension name (lower-case letters, digits and '-', "
                     "starting with a letter or digit, at most 64 characters)",
                     {dir.native()});
            continue;
        }
        const fs::path node_dir = context.store / name;
        auto st = stat_beneath(context, node_dir);
        if (!st) {
            log.error("cannot read {}: {}", {dir.native(), std::strerror(errno)});
            continue;
        }
        if (!S_ISDIR(st->st_mode)) {
            log.info("ignoring {}: not a directory", {dir.native()});
            continue;
        }
        StoredExtension extension{name, {}};
        scan_extension(context, node_dir, extension, log);
        extensions.push_back(std::move(extension));
    }
    return extensions;
}

} // namespace ksx::activator
