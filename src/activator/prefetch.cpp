#include "activator/prefetch.hpp"

#include "activator/host_identity.hpp"
#include "activator/image_name.hpp"
#include "activator/root_files.hpp"
#include "activator/version_compare.hpp"
#include "contract/release_index.hpp"
#include "contract/sha256sums.hpp"
#include "contract/sidecars.hpp"
#include "util/error.hpp"
#include "util/file_io.hpp"
#include "util/process.hpp"
#include "util/sha256.hpp"

#include <algorithm>
#include <cerrno>
#include <fcntl.h>
#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

namespace ksx::activator {

namespace fs = std::filesystem;

namespace {

// What prefetch reads whole from a release (SHA256SUMS, index.json): far more than any holds.
constexpr std::size_t kMaxReleaseList = 64 * 1024 * 1024;

// Copies `from`/`file` into the open file `out`: curl for http(s) URLs (the node has it; the
// activator stays free of an HTTP stack), a plain copy for file:// URLs and directories. `out`
// is an open descriptor, never a path, so nothing beneath --root is reached by name here.
void fetch(const std::string& from, const std::string& file, int out) {
    if (from.starts_with("http://") || from.starts_with("https://")) {
        // curl writes to /dev/stdout, which is `out` itself: named as a file, it is truncated
        // again before a retry instead of receiving a second copy after the first bytes.
        ProcessOptions options;
        options.stdout_fd = out;
        auto result =
            run_process({"curl", "--fail", "--silent", "--show-error", "--location", "--retry", "3",
                         "--output", "/dev/stdout", message("{}/{}", {from, file})},
                        options);
        if (result.exit_status != 0) {
            throw_error("cannot fetch {}/{} (curl exited with {})",
                        {from, file, std::to_string(result.exit_status)});
        }
        return;
    }
    const auto path =
        (from.starts_with("file://") ? fs::path(from.substr(7)) : fs::path(from)) / file;
    read_file_chunks(path, [&](std::string_view piece) {
        while (!piece.empty()) {
            ssize_t n = ::write(out, piece.data(), piece.size());
            if (n < 0 && errno == EINTR) {
                continue;
            }
            if (n < 0) {
                throw_errno("cannot copy {}", {path.native()});
            }
            piece.remove_prefix(static_cast<std::size_t>(n));
        }
    });
}

// The SHA-256 of an open file, read from its start.
std::string sha256_of(int fd, const std::string& shown) {
    if (::lseek(fd, 0, SEEK_SET) != 0) {
        throw_errno("cannot read {}", {shown});
    }
    Sha256Stream sha;
    read_fd_chunks(fd, shown, [&](std::string_view piece) { sha.update(piece); });
    return sha.hex();
}

// A release file that prefetch reads but does not keep (SHA256SUMS, index.json), fetched into
// memory: nothing is written beneath --root for it.
std::string fetch_to_memory(const std::string& from, const std::string& file) {
    UniqueFd fd(::memfd_create(file.c_str(), MFD_CLOEXEC));
    if (!fd) {
        throw_errno("cannot fetch {}/{}", {from, file});
    }
    fetch(from, file, fd.get());
    if (::lseek(fd.get(), 0, SEEK_SET) != 0) {
        throw_errno("cannot read {}/{}", {from, file});
    }
    std::string data;
    read_fd_chunks(fd.get(), message("{}/{}", {from, file}), [&](std::string_view piece) {
        if (data.size() + piece.size() > kMaxReleaseList) {
            throw_error("{}/{} is larger than {} bytes, more than the activator reads from it",
                        {from, file, std::to_string(kMaxReleaseList)});
        }
        data.append(piece);
    });
    return data;
}

// Whether the store already holds `node_path` with the sha256 `want` (read beneath the root).
bool in_store(const Context& context, const fs::path& node_path, const std::string& want) {
    // O_NONBLOCK: a FIFO planted under the name must not hang the service; only a regular
    // file counts (anything else is replaced by the fetched one).
    UniqueFd fd = open_beneath(context, node_path, O_RDONLY | O_NONBLOCK);
    struct stat st {};
    return fd && ::fstat(fd.get(), &st) == 0 && S_ISREG(st.st_mode) &&
           sha256_of(fd.get(), context.on_disk(node_path).native()) == want;
}

// The sha256 SHA256SUMS lists for `file` (its last line for it, were there two); nullptr when it
// lists none.
const std::string* listed_sha256(const std::vector<contract::Sha256Sum>& sums,
                                 const std::string& file) {
    auto it = std::find_if(sums.rbegin(), sums.rend(),
                           [&](const contract::Sha256Sum& sum) { return sum.file == file; });
    return it == sums.rend() ? nullptr : &it->sha256;
}

// Fetches `image` and its sidecars into the store; a failure is logged, and the image is left
// out (never in the store without its sidecars). Every file is created, checked and renamed
// beneath --root (root_files.hpp): a symlink in the store's path never leads a write out.
void fetch_image(const Context& context, const std::string& from,
                 const std::vector<contract::Sha256Sum>& sums, const ImageName& image, Log& log) {
    auto dir = context.store / image.extension;
    // Sidecars first: the image never sits in the store without its signature. Each with the
    // sha256 SHA256SUMS lists for it (the image is listed: it was chosen from there).
    std::vector<std::pair<std::string, const std::string*>> files;
    for (const char* suffix : contract::kSidecarSuffixes) {
        auto sidecar = image.stem() + suffix;
        if (const auto* sha256 = listed_sha256(sums, sidecar)) {
            files.emplace_back(std::move(sidecar), sha256);
        }
    }
    files.emplace_back(image.file_name(), listed_sha256(sums, image.file_name()));
    for (const auto& [file, listed] : files) {
        if (listed == nullptr) {
            continue;
        }
        const auto& want = *listed;
        try {
            const auto node_path = dir / file;
            if (in_store(context, node_path, want)) {
                log.info("{} is already in the store", {file});
                continue;
            }
            AtomicFileBeneath partial(context, node_path, message(".{}.prefetch", {file}));
            fetch(from, file, partial.fd());
            auto got = sha256_of(partial.fd(), message("{}/{}", {from, file}));
            if (got != want) {
                throw_error("{}/{} has sha256 {}, SHA256SUMS says {}", {from, file, got, want});
            }
            partial.commit();
            log.info(image.is_userspace() ? "prefetched {}" : "prefetched {} for kernel {}",
                     {file, image.kernel});
        } catch (const std::exception& e) {
            log.error(e.what());
            return;
        }
    }
}

// What prefetch compares images with: the node's identity and each image's from index.json.
struct Identities {
    std::optional<OsIdentity> host;           // nullopt: no os-release (nothing is compared)
    std::map<std::string, OsIdentity> images; // file -> identity
};

// The node's identity and the release's index.json, when both are there. A release without
// index.json is fetched from unfiltered (one warning); select still passes over images that are
// not for the node.
Identities release_identities(const Context& context, const std::string& from, Log& log) {
    Identities out;
    out.host = read_host_identity(context);
    if (!out.host) {
        return out;
    }
    try {
        out.images = contract::parse_release_index(fetch_to_memory(from, "index.json"));
    } catch (const std::exception& e) {
        log.warning("cannot read index.json of {} ({}): images are fetched without checking their "
                    "OS release",
                    {from, e.what()});
        out.host.reset();
    }
    return out;
}

// Whether the index says `file` is for this node's OS (as systemd-sysext would match it).
bool for_this_node(const Identities& identities, const std::string& file, Log& log) {
    if (!identities.host) {
        return true;
    }
    auto found = identities.images.find(file);
    if (found == identities.images.end()) {
        log.info("not fetching {}: index.json does not list it", {file});
        return false;
    }
    auto why = extension_mismatch(*identities.host, found->second);
    if (!why.empty()) {
        log.info("not fetching {}: {}", {file, why});
    }
    return why.empty();
}

} // namespace

int prefetch_images(const Context& context, const std::vector<std::string>& kernels,
                    const std::string& from_argument, Log& log) {
    std::string from = from_argument;
    while (from.size() > 1 && from.ends_with('/')) {
        from.pop_back();
    }
    auto sums = contract::parse_sha256sums(fetch_to_memory(from, "SHA256SUMS"));
    fs::create_directories(context.root); // the root itself; all beneath it is root_files'

    auto identities = release_identities(context, from, log);
    for (const auto& kernel : kernels) {
        // The newest image per extension for this kernel, among those for this node's OS.
        std::map<std::string, ImageName> newest;
        for (const auto& [hash, file] : sums) {
            auto name = parse_image_name(file);
            if (!name || name->kernel != kernel || !for_this_node(identities, file, log)) {
                continue;
            }
            auto [it, inserted] = newest.try_emplace(name->extension, std::move(*name));
            if (!inserted && compare_versions(name->version, it->second.version) > 0) {
                it->second = std::move(*name); // try_emplace moves nothing when the key is there
            }
        }
        if (newest.empty()) {
            log.warning("no image for kernel {} in {}", {kernel, from});
        }
        for (const auto& [extension, image] : newest) {
            fetch_image(context, from, sums, image, log); // the next one may still work
            // A split build's shared image, of the modules' version (KMOD_SYSEXT_USERSPACE).
            ImageName shared{extension, image.version, {}};
            if (listed_sha256(sums, shared.file_name()) != nullptr &&
                for_this_node(identities, shared.file_name(), log)) {
                fetch_image(context, from, sums, shared, log);
            }
        }
    }
    return log.failed() ? 1 : 0;
}

} // namespace ksx::activator
