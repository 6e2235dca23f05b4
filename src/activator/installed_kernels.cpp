#include "activator/installed_kernels.hpp"

#include "activator/image_name.hpp"

#include <algorithm>
#include <filesystem>
#include <set>

namespace ksx::activator {

namespace fs = std::filesystem;

namespace {

bool holds_kernel(const fs::path& dir) {
    std::error_code ec;
    return fs::is_regular_file(dir / "modules.dep", ec) ||
           fs::is_regular_file(dir / "vmlinuz", ec) || fs::is_directory(dir / "kernel", ec);
}

// The subdirectories of `dir`; none when it cannot be read (it need not exist).
std::vector<fs::path> subdirectories(const fs::path& dir) {
    std::vector<fs::path> found;
    std::error_code ec;
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
        if (it->is_directory(ec)) {
            found.push_back(it->path());
        }
    }
    return found;
}

void add_releases(const fs::path& modules_dir, std::set<std::string>& releases) {
    for (const auto& dir : subdirectories(modules_dir)) {
        auto name = dir.filename().string();
        if (is_kernel_release(name) && holds_kernel(dir)) {
            releases.insert(std::move(name));
        }
    }
}

} // namespace

std::vector<std::string> installed_kernels(const Context& context) {
    std::set<std::string> releases{context.kernel};
    add_releases(context.on_disk("/usr/lib/modules"), releases);
    add_releases(context.on_disk("/lib/modules"), releases); // the same directory on merged /usr
    for (const auto& os : subdirectories(context.on_disk("/ostree/deploy"))) {
        for (const auto& deployment : subdirectories(os / "deploy")) {
            add_releases(deployment / "usr/lib/modules", releases);
        }
    }
    return {releases.begin(), releases.end()};
}

} // namespace ksx::activator
