#include "activator/userspace_image.hpp"

#include "activator/host_identity.hpp"
#include "util/message.hpp"

#include <filesystem>

namespace ksx::activator {

void add_userspace_links(const Context& context, const StoredExtension& extension,
                         const TrustPolicy& policy, const std::optional<OsIdentity>& host,
                         std::vector<VerificationRecord>& records, std::vector<SelectedLink>& links,
                         Log& log) {
    if (links.empty()) {
        return; // no modules image for this kernel: no shared image either
    }
    const auto& modules = links.front().target;
    std::string needed;
    try {
        // Read once the image passed its checks (link_first_usable), as its OS release was.
        needed = read_image_release(context.on_disk(modules), extension.name).userspace;
    } catch (const std::exception& e) {
        if (host) { // without os-release (a test tree) images were never read, need not be images
            log.error("{}; not linking a userspace image for {}", {e.what(), extension.name});
        }
        return;
    }
    if (needed.empty()) {
        return; // not a split build
    }
    const ImageName* match = nullptr;
    std::string others;
    for (const auto& image : extension.images) {
        if (image.is_userspace() && image.version == needed) {
            match = &image;
        } else if (image.is_userspace()) {
            others += message("{}{}", {(others.empty() ? "" : ", "), image.version});
        }
    }
    const auto name = message("{}{}", {extension.name, contract::kUserspaceSuffix});
    if (match != nullptr) {
        auto shared = link_first_usable(context, name, {match}, policy, host, records, log);
        if (!shared.empty()) {
            links.insert(links.end(), shared.begin(), shared.end());
            return;
        }
    }
    log.warning("not linking {}: {} needs version {}, which {}{}; {} is linked without it",
                {name, std::filesystem::path(modules).filename().native(), needed,
                 (match ? "failed its checks" : "is not in the store"),
                 (others.empty() ? std::string() : message(" (the store has {})", {others})),
                 extension.name});
}

} // namespace ksx::activator
