#include "util/file_io.hpp"

#include "util/error.hpp"
#include "util/unique_fd.hpp"

#include <cerrno>
#include <cstdlib>
#include <fcntl.h>

namespace ksx {

void read_fd_chunks(int fd, const std::string& shown,
                    const std::function<void(std::string_view)>& chunk) {
    char buffer[65536];
    for (;;) {
        ssize_t n = ::read(fd, buffer, sizeof buffer);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            throw_errno("failed to read {}", {shown});
        }
        if (n == 0) {
            return;
        }
        chunk(std::string_view(buffer, static_cast<size_t>(n)));
    }
}

void read_file_chunks(const std::filesystem::path& path,
                      const std::function<void(std::string_view)>& chunk) {
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) {
        throw_errno("failed to open {}", {path.native()});
    }
    read_fd_chunks(fd.get(), path.string(), chunk);
}

std::string read_file(const std::filesystem::path& path) {
    std::string data;
    read_file_chunks(path, [&](std::string_view piece) { data.append(piece); });
    return data;
}

std::filesystem::path cache_dir() {
    if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg && *xdg == '/') {
        return std::filesystem::path(xdg) / "kmod-sysext";
    }
    const char* home = std::getenv("HOME");
    if (!home || !*home) {
        throw_error("cannot find a cache directory: neither XDG_CACHE_HOME nor HOME is set", {});
    }
    return std::filesystem::path(home) / ".cache" / "kmod-sysext";
}

bool is_within(const std::filesystem::path& root, const std::filesystem::path& path) {
    auto r = root.lexically_normal();
    auto p = path.lexically_normal();
    auto rel = p.lexically_relative(r);
    return !rel.empty() && rel != "." && *rel.begin() != "..";
}

} // namespace ksx
