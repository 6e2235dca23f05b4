// `load()`: read a manifest file and parse it.
#include "manifest/manifest.hpp"
#include "manifest/manifest_error.hpp"
#include "util/unique_fd.hpp"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <unistd.h>

namespace ksx::manifest {

namespace {

[[noreturn]] void cannot_read(const std::filesystem::path& file, int err) {
    throw ManifestError(file.string() + ": error: cannot read manifest: " + std::strerror(err));
}

} // namespace

Manifest load(const std::filesystem::path& file, const LoadOptions& options) {
    UniqueFd fd(::open(file.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) {
        cannot_read(file, errno);
    }
    std::string text;
    char buffer[65536];
    for (;;) {
        ssize_t n = ::read(fd.get(), buffer, sizeof buffer);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            cannot_read(file, errno);
        }
        if (n == 0) {
            break;
        }
        text.append(buffer, static_cast<size_t>(n));
    }
    return parse(text, file, options);
}

const char* to_string(Compression compression) {
    switch (compression) {
    case Compression::Xz:
        return "xz";
    case Compression::Gzip:
        return "gzip";
    case Compression::Zstd:
        break;
    }
    return "zstd";
}

} // namespace ksx::manifest
