#include "activator/select.hpp"

#include "activator/host_identity.hpp"
#include "activator/image_check.hpp"
#include "activator/kernel_verity.hpp"
#include "activator/pin_config.hpp"
#include "activator/root_files.hpp"
#include "activator/selection_marker.hpp"
#include "activator/store.hpp"
#include "activator/trust_policy.hpp"
#include "activator/userspace_image.hpp"
#include "activator/verification_record.hpp"
#include "contract/sidecars.hpp"
#include "util/error.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <optional>
#include <set>
#include <sys/stat.h>
#include <unistd.h>

namespace ksx::activator {

namespace fs = std::filesystem;

namespace {

std::string join(const std::set<std::string>& items) {
    std::string out;
    for (const auto& item : items) {
        if (!out.empty()) {
            out += ' ';
        }
        out += item;
    }
    return out.empty() ? "none" : out;
}

// Whether systemd-sysext would merge `image` on this node; when not, one line says why. An
// image that is not for the node's OS release is passed over for an older one that is, as
// systemd-sysext would ignore it. The image's extension-release is read once, for this and for
// the shared image it needs beside it (KMOD_SYSEXT_USERSPACE, into `userspace`).
bool for_this_node(const std::optional<OsIdentity>& host, const std::filesystem::path& image,
                   const std::string& name, std::string& userspace, Log& log) {
    std::string why;
    try {
        auto release = read_image_release(image, name);
        userspace = std::move(release.userspace);
        if (host) {
            why = extension_mismatch(*host, release.os);
        }
    } catch (const std::exception& e) {
        if (!host) {
            return true; // no os-release to compare with (a test tree): images need not be images
        }
        why = message("cannot read its extension-release: {}", {e.what()});
    }
    if (!why.empty()) {
        log.info("ignoring {}: {}", {image.filename().native(), why});
    }
    return why.empty();
}

// One extension's chosen image, or nothing (with the reason logged).
UsableImage choose(const Context& context, const StoredExtension& extension,
                   const TrustPolicy& policy, const std::optional<OsIdentity>& host,
                   std::vector<VerificationRecord>& records, Log& log) {
    ExtensionConfig config;
    try {
        config = read_extension_config(context, extension.name, log);
    } catch (const std::exception& e) {
        log.error("{}; not selecting {}", {e.what(), extension.name});
        return {};
    }
    std::set<std::string> kernels;
    std::set<std::string> versions;
    std::vector<const ImageName*> candidates;
    for (const auto& image : extension.images) {
        if (image.is_userspace()) {
            continue; // linked with the modules image that needs it (userspace_image.hpp)
        }
        kernels.insert(image.kernel);
        if (image.kernel != context.kernel) {
            continue;
        }
        versions.insert(image.version);
        if (!config.version || *config.version == image.version) {
            candidates.push_back(&image); // already newest first
        }
    }
    if (candidates.empty()) {
        if (config.version) {
            log.info(
                "no image of {} version {} (pinned in /etc/kmod-sysext/{}.conf) for kernel {}; "
                "available for this kernel: {}",
                {extension.name, *config.version, extension.name, context.kernel, join(versions)});
        } else {
            log.info("no image of {} for kernel {}; available: {}",
                     {extension.name, context.kernel, join(kernels)});
        }
        return {};
    }
    return link_first_usable(context, extension.name, candidates, policy, host, records, log);
}

} // namespace

UsableImage link_first_usable(const Context& context, const std::string& name,
                              const std::vector<const ImageName*>& candidates,
                              const TrustPolicy& policy, const std::optional<OsIdentity>& host,
                              std::vector<VerificationRecord>& records, Log& log) {
    for (const ImageName* image : candidates) {
        fs::path node_dir = context.store / image->extension;
        auto node_image = node_dir / image->file_name();
        auto on_disk = context.on_disk(node_image);
        auto image_stat = stat_beneath(context, node_image);
        if (!image_stat) {
            log.error("cannot use {}: {}", {on_disk.native(), std::strerror(errno)});
            continue;
        }
        if (!S_ISREG(image_stat->st_mode)) {
            log.error("cannot use {}: not a regular file", {on_disk.native()});
            continue;
        }
        std::vector<SelectedLink> links{{name, message("{}.raw", {name}), node_image.string()}};
        bool sidecars_ok = true;
        for (const char* suffix : contract::kSidecarSuffixes) {
            auto node_path = node_dir / (image->stem() + suffix);
            auto sidecar = context.on_disk(node_path);
            if (!stat_beneath(context, node_path, false) && errno == ENOENT) {
                continue;
            }
            // An image linked without its verity data would be merged unchecked: refuse it.
            std::string problem;
            auto st = stat_beneath(context, node_path);
            if (!st) {
                problem = std::strerror(errno);
            } else if (!S_ISREG(st->st_mode)) {
                problem = "not a regular file";
            }
            if (!problem.empty()) {
                log.error("cannot use {}: {}; not selecting {} without it",
                          {sidecar.native(), problem, image->file_name()});
                sidecars_ok = false;
                break;
            }
            links.push_back({name, name + suffix, node_path.string()});
        }
        if (!sidecars_ok) {
            continue;
        }
        // A refused image is not a failed boot: log why and link nothing for this extension.
        // Never fall back to an older version, which would hide the refusal.
        // Checked before anything inside the image is read: the extension-release of a changed
        // image is not to be parsed, and its refusal is what the node must log.
        auto check = check_image(context, policy, node_image);
        if (check.trust == ImageTrust::refused) {
            records.push_back({name, links.front().target, check});
            log.warning("refused {}: {}", {links.front().target, check.reason});
            return {};
        }
        std::string userspace;
        if (!for_this_node(host, on_disk, name, userspace, log)) {
            continue;
        }
        // The kernel checks a linked .roothash.p7s itself when the signer's key is in its
        // keyrings (a Machine Owner Key); with dm_verity.require_signatures=1 it refuses an image
        // without one, so such an image is refused here, with the reason.
        const bool verified = check.trust == ImageTrust::verified;
        auto kernel =
            kernel_verity(context, verified ? check.signer_file : fs::path(), read_keyring_members);
        const bool systemd_can_check = verified && (check.signer_file.parent_path() ==
                                                        context.on_disk(kSystemdCertificateDir) ||
                                                    !kernel.signer_keyring.empty());
        if (kernel.signatures_required && !systemd_can_check) {
            check.trust = ImageTrust::refused;
            check.reason = message(
                "the kernel requires dm-verity signatures (dm_verity.require_signatures=1) and {}",
                {(verified ? message("does not trust its signer {}: enrol the certificate as a "
                                     "Machine Owner Key",
                                     {check.signer})
                           : "the image is not signed")});
            records.push_back({name, links.front().target, check});
            log.warning("refused {}: {}", {links.front().target, check.reason});
            return {};
        }
        records.push_back({name, links.front().target, check});
        log.info("selected {} for kernel {}", {image->file_name(), context.kernel});
        if (check.trust == ImageTrust::verified) {
            log.info("verified {}: signed by {}, root hash {}",
                     {image->file_name(), check.signer, check.root_hash});
        } else {
            log.info("not verified {}: {}", {image->file_name(), check.reason});
        }
        // systemd-sysext checks a .roothash.p7s next to the image once more, against the kernel
        // keyring and /etc/verity.d only, and refuses the image when that fails. A signature
        // checked here against /etc/kmod-sysext/keys whose key the kernel does not hold, or not
        // checked at all, is therefore not linked: systemd then sets up dm-verity with the root
        // hash checked here.
        auto signature = std::find_if(links.begin(), links.end(), [](const SelectedLink& l) {
            return l.link.ends_with(".roothash.p7s");
        });
        if (signature != links.end() && !systemd_can_check) {
            log.info("not linking {}: systemd-sysext would check it against {} and the kernel "
                     "keyring only",
                     {signature->target, kSystemdCertificateDir});
            links.erase(signature);
        }
        return {std::move(links), std::move(userspace)};
    }
    return {};
}

namespace {

// /run/extensions beneath the root, open, with its path for messages. Links are made, read and
// removed relative to it, never following a link out of it.
struct LinkDir {
    UniqueFd fd;
    fs::path shown;
};

std::optional<std::string> read_link(const LinkDir& dir, const std::string& name) {
    std::string target(4096, '\0');
    ssize_t n = ::readlinkat(dir.fd.get(), name.c_str(), target.data(), target.size());
    if (n < 0 || static_cast<std::size_t>(n) == target.size()) {
        return std::nullopt;
    }
    target.resize(static_cast<std::size_t>(n));
    return target;
}

const SelectedLink* find_link(const std::vector<SelectedLink>& links, const std::string& name) {
    auto it = std::find_if(links.begin(), links.end(),
                           [&](const SelectedLink& l) { return l.link == name; });
    return it == links.end() ? nullptr : &*it;
}

// True if the marker says that a link `name` pointing to `target` is ours.
bool is_ours(const Selection& previous, const std::string& name, const std::string& target) {
    return std::any_of(previous.links.begin(), previous.links.end(),
                       [&](const SelectedLink& l) { return l.link == name && l.target == target; });
}

// Creates or replaces dir/link atomically (a temp link renamed over it). Throws Error.
void make_link(const LinkDir& dir, const SelectedLink& link) {
    auto temp = message(".{}.kmod-sysext-tmp", {link.link});
    ::unlinkat(dir.fd.get(), temp.c_str(), 0);
    if (::symlinkat(link.target.c_str(), dir.fd.get(), temp.c_str()) != 0) {
        throw_errno("cannot create {}", {(dir.shown / temp).native()});
    }
    if (::renameat(dir.fd.get(), temp.c_str(), dir.fd.get(), link.link.c_str()) != 0) {
        int err = errno;
        ::unlinkat(dir.fd.get(), temp.c_str(), 0);
        throw_error(
            "{}",
            {errno_message("cannot rename {} to {}",
                           {(dir.shown / temp).native(), (dir.shown / link.link).native()}, err)});
    }
}

// Links `wanted` into dir; returns the links that are in place and ours.
std::vector<SelectedLink> place_links(const LinkDir& dir, const std::vector<SelectedLink>& wanted,
                                      const Selection& previous, Log& log) {
    std::vector<SelectedLink> placed;
    for (const auto& link : wanted) {
        auto path = dir.shown / link.link;
        struct stat st {};
        try {
            if (::fstatat(dir.fd.get(), link.link.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
                if (errno != ENOENT) {
                    throw_errno("cannot inspect {}", {path.native()});
                }
                make_link(dir, link);
                log.info("linked {} -> {}", {path.native(), link.target});
            } else {
                auto current = read_link(dir, link.link);
                if (current && *current == link.target) {
                    log.info("kept {} -> {}", {path.native(), link.target});
                } else if (current && is_ours(previous, link.link, *current)) {
                    make_link(dir, link);
                    log.info("replaced {} -> {} (was {})", {path.native(), link.target, *current});
                } else {
                    log.error("not replacing {}: it was not made by kmod-sysext-activate",
                              {path.native()});
                    continue;
                }
            }
            placed.push_back(link);
        } catch (const std::exception& e) {
            log.error(e.what());
        }
    }
    return placed;
}

// Removes the previous run's links that are not wanted any more; returns those it could not.
std::vector<SelectedLink> remove_stale(const LinkDir& dir, const std::vector<SelectedLink>& wanted,
                                       const Selection& previous, Log& log) {
    std::vector<SelectedLink> kept;
    for (const auto& link : previous.links) {
        if (find_link(wanted, link.link) != nullptr) {
            continue;
        }
        auto path = dir.shown / link.link;
        auto current = read_link(dir, link.link);
        if (!current) {
            continue; // gone already, or replaced by something that is not ours
        }
        if (!is_ours(previous, link.link, *current)) {
            log.info("leaving {} alone: changed since it was linked", {path.native()});
            continue;
        }
        if (::unlinkat(dir.fd.get(), link.link.c_str(), 0) != 0) {
            log.error(errno_message("cannot remove stale {}", {path.native()}, errno));
            kept.push_back(link);
            continue;
        }
        log.info("removed stale {} -> {}", {path.native(), link.target});
    }
    return kept;
}

} // namespace

int select_images(const Context& context, Log& log) {
    auto extensions = scan_store(context, log);
    Selection previous;
    try {
        previous = read_selection(context);
    } catch (const std::exception& e) {
        log.error("{}; links of earlier runs are left alone", {e.what()});
    }
    std::vector<SelectedLink> wanted;
    std::vector<VerificationRecord> records;
    if (!extensions.empty()) {
        auto policy = read_trust_policy(context, log);
        auto host = read_host_identity(context);
        for (const auto& extension : extensions) {
            auto chosen = choose(context, extension, policy, host, records, log);
            add_userspace_links(context, extension, policy, host, records, chosen, log);
            wanted.insert(wanted.end(), chosen.links.begin(), chosen.links.end());
        }
    }
    try {
        LinkDir dir{make_directories_beneath(context, kExtensionsDir),
                    context.on_disk(kExtensionsDir)};
        // Record the intent first: a run cut short leaves no link the next run would
        // take for a foreign one.
        Selection intent{context.kernel, previous.links};
        for (const auto& link : wanted) {
            if (std::find(intent.links.begin(), intent.links.end(), link) == intent.links.end()) {
                intent.links.push_back(link);
            }
        }
        write_selection(context, intent);
        Selection done{context.kernel, place_links(dir, wanted, previous, log)};
        auto kept = remove_stale(dir, wanted, previous, log);
        done.links.insert(done.links.end(), kept.begin(), kept.end());
        write_selection(context, done);
        write_verification(context, records);
    } catch (const std::exception& e) {
        log.error(e.what());
    }
    return log.failed() ? 1 : 0;
}

} // namespace ksx::activator
