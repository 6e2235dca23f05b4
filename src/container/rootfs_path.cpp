#include "container/rootfs_path.hpp"

#include <deque>
#include <vector>

namespace fs = std::filesystem;

namespace ksx::container {

namespace {

constexpr int kMaxLinks = 40; // as the kernel's MAXSYMLINKS

std::deque<std::string> components(const std::string& path) {
    std::deque<std::string> out;
    for (const auto& part : fs::path(path)) {
        auto text = part.string();
        if (!text.empty() && text != "/") {
            out.push_back(text);
        }
    }
    return out;
}

} // namespace

fs::path host_path(const fs::path& root, const std::string& inside) {
    std::vector<std::string> resolved;
    auto pending = components(inside);
    int links = 0;
    bool missing = false;
    while (!pending.empty()) {
        auto part = std::move(pending.front());
        pending.pop_front();
        if (part == ".") {
            continue;
        }
        if (part == "..") {
            if (!resolved.empty()) {
                resolved.pop_back();
            }
            continue;
        }
        fs::path candidate = root;
        for (const auto& r : resolved) {
            candidate /= r;
        }
        candidate /= part;
        std::error_code ec;
        if (!missing && fs::is_symlink(fs::symlink_status(candidate, ec)) && links < kMaxLinks) {
            ++links;
            auto target = fs::read_symlink(candidate, ec).string();
            if (ec) { // replaced while we looked: resolve no further
                missing = true;
                resolved.push_back(std::move(part));
                continue;
            }
            auto more = components(target);
            if (target.starts_with('/')) {
                resolved.clear();
            }
            pending.insert(pending.begin(), more.begin(), more.end());
            continue;
        }
        missing = missing || !fs::exists(fs::symlink_status(candidate, ec));
        resolved.push_back(std::move(part));
    }
    fs::path out = root;
    for (const auto& r : resolved) {
        out /= r;
    }
    return out;
}

} // namespace ksx::container
