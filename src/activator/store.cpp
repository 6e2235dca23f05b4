#include "activator/store.hpp"

#include "activator/version_compare.hpp"
#include "util/error.hpp"

#include <algorithm>
#include <cerrno>
#include <sys/stat.h>
#include <system_error>

namespace ksx::activator {

namespace fs = std::filesystem;

namespace {

bool is_sidecar(std::string_view file_name) {
    return file_name.ends_with(".verity") || file_name.ends_with(".roothash") ||
           file_name.ends_with(".roothash.p7s");
}

// Names in one directory, sorted; nullopt (after logging) when it cannot be read.
std::optional<std::vector<std::string>> list_directory(const fs::path& path, Log& log) {
    std::error_code ec;
    fs::directory_iterator it(path, ec);
    std::vector<std::string> names;
    for (; !ec && it != fs::directory_iterator(); it.increment(ec)) {
        names.push_back(it->path().filename().string());
    }
    if (ec) {
        log.error("cannot read " + path.string() + ": " + ec.message());
        return std::nullopt;
    }
    std::sort(names.begin(), names.end());
    return names;
}

void scan_extension(const fs::path& dir, StoredExtension& extension, Log& log) {
    auto names = list_directory(dir, log);
    if (!names) {
        return;
    }
    for (const auto& file : *names) {
        if (file.front() == '.' || is_sidecar(file)) {
            continue; // partial downloads, and verity data found by its image's name
        }
        auto image = parse_image_name(file);
        if (!image) {
            log.info("ignoring " + (dir / file).string() + ": not named " + extension.name +
                     "_<version>_<kernel>.raw");
            continue;
        }
        if (image->extension != extension.name) {
            log.info("ignoring " + (dir / file).string() + ": an image of " + image->extension +
                     " in the directory of " + extension.name);
            continue;
        }
        extension.images.push_back(std::move(*image));
    }
    std::stable_sort(extension.images.begin(), extension.images.end(),
                     [](const ImageName& a, const ImageName& b) {
                         if (a.kernel != b.kernel) {
                             return a.kernel < b.kernel;
                         }
                         return compare_versions(a.version, b.version) > 0;
                     });
}

} // namespace

std::vector<StoredExtension> scan_store(const Context& context, Log& log) {
    fs::path store = context.on_disk(context.store);
    struct stat st {};
    if (::stat(store.c_str(), &st) != 0 && errno == ENOENT) {
        log.info("store " + store.string() + " does not exist: no images");
        return {};
    }
    std::vector<StoredExtension> extensions;
    auto names = list_directory(store, log);
    if (!names) {
        return extensions;
    }
    std::error_code ec;
    for (const auto& name : *names) {
        if (name.front() == '.') {
            continue;
        }
        fs::path dir = store / name;
        if (!is_extension_name(name)) {
            log.info("ignoring " + dir.string() +
                     ": not an extension name (letters, digits, '-', '+', '.'; no '_')");
            continue;
        }
        auto type = fs::status(dir, ec);
        if (ec) {
            log.error("cannot read " + dir.string() + ": " + ec.message());
            continue;
        }
        if (!fs::is_directory(type)) {
            log.info("ignoring " + dir.string() + ": not a directory");
            continue;
        }
        StoredExtension extension{name, {}};
        scan_extension(dir, extension, log);
        extensions.push_back(std::move(extension));
    }
    return extensions;
}

} // namespace ksx::activator
