#include "activator/userspace_image.hpp"

#include "util/message.hpp"

#include <filesystem>

namespace ksx::activator {

void add_userspace_links(const Context& context, const StoredExtension& extension,
                         const TrustPolicy& policy, const std::optional<OsIdentity>& host,
                         std::vector<VerificationRecord>& records, UsableImage& chosen, Log& log) {
    const auto& needed = chosen.userspace;
    if (chosen.links.empty() || needed.empty()) {
        return; // no modules image for this kernel, or not a split build
    }
    const auto& modules = chosen.links.front().target;
    const ImageName* match = nullptr;
    std::string others;
    for (const auto& image : extension.images) {
        if (image.is_userspace() && image.version == needed) {
            match = &image;
        } else if (image.is_userspace()) {
            others += others.empty() ? "" : ", ";
            others += image.version;
        }
    }
    const auto name = message("{}{}", {extension.name, contract::kUserspaceSuffix});
    if (match != nullptr) {
        auto shared = link_first_usable(context, name, {match}, policy, host, records, log);
        if (!shared.links.empty()) {
            chosen.links.insert(chosen.links.end(), shared.links.begin(), shared.links.end());
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
