#include "plan/local_inputs.hpp"

#include "util/error.hpp"
#include "util/sha256.hpp"

#include <algorithm>
#include <sys/stat.h>

namespace ksx::plan {

namespace fs = std::filesystem;

namespace {

// One line of a tree listing for `path`, named `rel`.
std::string tree_line(const fs::path& path, const std::string& rel) {
    auto status = fs::symlink_status(path);
    switch (status.type()) {
    case fs::file_type::directory:
        return "d " + rel + "\n";
    case fs::file_type::symlink:
        return "l " + rel + " -> " + fs::read_symlink(path).string() + "\n";
    case fs::file_type::regular: {
        // Only the executable bit: checkouts differ in the rest (umask), builds do not.
        bool executable = (status.permissions() & fs::perms::owner_exec) != fs::perms::none;
        return std::string("f ") + (executable ? "x " : "- ") + sha256_file_hex(path) + " " + rel +
               "\n";
    }
    default:
        return "o " + rel + "\n"; // device, fifo, socket: only that it is there
    }
}

// "<field> <kind> <digest>" for a file or directory the manifest names.
std::string input_line(const std::string& field, const fs::path& path) {
    std::error_code ec;
    auto status = fs::status(path, ec);
    if (fs::is_directory(status)) {
        return field + " tree " + tree_digest(path) + "\n";
    }
    if (fs::is_regular_file(status)) {
        return field + " file " + sha256_file_hex(path) + "\n";
    }
    throw InputError(field + ": " + path.string() + " does not exist");
}

std::string cert_line(const std::string& field, const fs::path& path) {
    std::error_code ec;
    return field + " cert " +
           (fs::is_regular_file(path, ec) ? sha256_file_hex(path) : std::string("absent")) + "\n";
}

} // namespace

std::string tree_digest(const fs::path& dir) {
    std::vector<std::pair<std::string, fs::path>> entries;
    for (auto it = fs::recursive_directory_iterator(dir); it != fs::recursive_directory_iterator();
         ++it) {
        if (it->path().filename() == ".git") {
            it.disable_recursion_pending(); // history, not input; it changes with every commit
            continue;
        }
        entries.emplace_back(fs::relative(it->path(), dir).generic_string(), it->path());
    }
    std::sort(entries.begin(), entries.end());
    std::string listing;
    for (const auto& [rel, path] : entries) {
        listing += tree_line(path, rel);
    }
    return sha256_hex(listing);
}

std::string local_inputs(const manifest::Manifest& manifest,
                         const std::vector<fs::path>& extra_certs) {
    using manifest::ContainerSpec;
    using manifest::SourceSpec;
    std::string out;
    for (const auto& source : manifest.sources) {
        if (source.kind == SourceSpec::Kind::Path) {
            out += input_line(source.field, source.path);
        }
        for (const auto& patch : source.patches) {
            out += input_line(patch.field, patch.file);
        }
    }
    for (const auto& patch : manifest.patches) {
        out += input_line(patch.field, patch.file);
    }
    for (std::size_t i = 0; i < manifest.files.size(); ++i) {
        out += input_line("files[" + std::to_string(i) + "]", manifest.files[i].source);
    }
    for (const auto& target : manifest.targets) {
        // OCI images and OSTree commits are named by reference in the manifest itself.
        const auto kind = target.container.kind;
        if (kind == ContainerSpec::Kind::Directory || kind == ContainerSpec::Kind::Tarball) {
            out += input_line(manifest.target_list ? target.field + ".container" : "container",
                              target.container.path);
        }
    }
    if (manifest.signing.modules) {
        out += cert_line("signing.modules", manifest.signing.modules->cert);
    }
    if (manifest.signing.image) {
        out += cert_line("signing.image", manifest.signing.image->cert);
    }
    for (const auto& cert : extra_certs) {
        out += cert_line("--sign-cert", cert);
    }
    return out;
}

} // namespace ksx::plan
