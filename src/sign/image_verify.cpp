#include "sign/image_verify.hpp"

#include "contract/extension_release.hpp"
#include "contract/image_name.hpp"
#include "sign/ddi.hpp"
#include "sign/image_signature.hpp"
#include "sign/module_compression.hpp"
#include "sign/module_signature.hpp"
#include "sign/roothash_signature.hpp"
#include "sign/verity.hpp"
#include "util/error.hpp"
#include "util/file_io.hpp"
#include "util/temp_dir.hpp"

#include <algorithm>
#include <fcntl.h>
#include <map>
#include <sstream>
#include <unistd.h>

namespace ksx::sign {

namespace fs = std::filesystem;

namespace {

constexpr std::string_view release_prefix = "usr/lib/extension-release.d/extension-release.";
constexpr std::string_view modules_prefix = "usr/lib/modules/";

std::string trimmed(std::string text) {
    auto end = text.find_last_not_of(" \t\r\n");
    text.erase(end == std::string::npos ? 0 : end + 1);
    auto begin = text.find_first_not_of(" \t\r\n");
    return begin == std::string::npos ? std::string() : text.substr(begin);
}

// The hash tree against the data: trust/verity_tree.hpp's check, the activator's too.
Check check_verity(const fs::path& image, const fs::path& hash_file, unsigned threads,
                   std::string& root_hash) {
    Check check{"verity", false, {}};
    std::error_code ec;
    if (!fs::is_regular_file(hash_file, ec)) {
        check.detail = hash_file.filename().string() + " is missing";
        return check;
    }
    auto tree = trust::check_verity_tree(image, hash_file, threads);
    root_hash = tree.root_hash;
    if (tree.differs_at) {
        check.detail = "hash tree differs from the data's at byte " +
                       std::to_string(*tree.differs_at) + " of " + hash_file.filename().string();
        return check;
    }
    if (!tree.problem.empty()) {
        check.detail = hash_file.filename().string() + ": " + tree.problem;
        return check;
    }
    auto blocks = fs::file_size(image) / verity_block_size;
    check.ok = true;
    check.detail = std::to_string(blocks) + (blocks == 1 ? " data block" : " data blocks") +
                   ", tree matches the data";
    return check;
}

// KEY=value lines. `shared` is set for a split build's shared userspace image (no kernel).
Check check_release(const fs::path& image, const std::vector<std::string>& files,
                    const ImageContents& contents, bool& shared) {
    Check check{"extension-release", false, {}};
    std::vector<std::string> releases;
    std::vector<std::string> kernels;
    for (const auto& file : files) {
        if (file.starts_with(release_prefix)) {
            releases.push_back(file);
        }
        if (file.starts_with(modules_prefix)) {
            auto kernel = file.substr(modules_prefix.size());
            kernel = kernel.substr(0, kernel.find('/'));
            if (std::find(kernels.begin(), kernels.end(), kernel) == kernels.end()) {
                kernels.push_back(kernel);
            }
        }
    }
    if (releases.size() != 1) {
        check.detail =
            "expected one extension-release file, found " + std::to_string(releases.size());
        return check;
    }
    auto name = releases[0].substr(release_prefix.size());
    auto release = contract::parse_extension_release(contents.read(image, releases[0]));
    auto file_name = image.filename().string();
    auto stem = image.extension() == ".raw" ? image.stem().string() : file_name;
    // systemd needs NAME.raw; kmod-sysext's own names are NAME_VERSION_KERNEL.raw and, for a
    // shared image, NAME-userspace_VERSION.raw.
    if (stem != name && !stem.starts_with(name + "_")) {
        check.detail = "extension-release." + name + " does not match the file name " + file_name;
        return check;
    }
    const contract::ImageName expected{release.name, release.version, release.kernel};
    shared = expected.is_userspace();
    if (expected.sysext_name() != name) {
        check.detail = "KMOD_SYSEXT_NAME=" + release.name +
                       (shared ? " and no KMOD_SYSEXT_KERNEL" : "") + " in extension-release." +
                       name;
        return check;
    }
    const auto& kernel = release.kernel;
    std::string found;
    for (const auto& k : kernels) {
        found += (found.empty() ? "" : ", ") + k;
    }
    if (shared && !kernels.empty()) {
        check.detail =
            "a shared userspace image (no KMOD_SYSEXT_KERNEL) with modules for: " + found;
        return check;
    }
    if (!shared && (kernels.size() != 1 || kernels[0] != kernel)) {
        check.detail = "KMOD_SYSEXT_KERNEL=" + kernel +
                       " but the image has modules for: " + (found.empty() ? "none" : found);
        return check;
    }
    if (!release.userspace.empty() && release.userspace != release.version) {
        check.detail = "KMOD_SYSEXT_USERSPACE=" + release.userspace +
                       " is not the image's version " + release.version;
        return check;
    }
    if (stem != name && stem != expected.stem()) {
        check.detail = "file name " + file_name + " does not match extension-release (" +
                       expected.file_name() + ")";
        return check;
    }
    check.ok = true;
    check.detail =
        shared ? name + ", shared userspace of version " + release.version
               : name + ", kernel " + kernel +
                     (release.userspace.empty() ? std::string()
                                                : ", with " + expected.extension +
                                                      std::string(contract::kUserspaceSuffix) +
                                                      "_" + release.userspace + ".raw");
    return check;
}

bool is_module_file(const std::string& path) {
    return path.starts_with(modules_prefix) && has_module_suffix(path);
}

// The squashfs's sidecars: .verity against the data, .roothash, .roothash.p7s.
void check_sidecars(VerifyReport& report, const fs::path& image,
                    const std::vector<Certificate>& trusted, unsigned threads) {
    auto sidecars = sidecar_paths(image);
    report.checks.push_back(check_verity(image, sidecars.verity, threads, report.root_hash));

    Check roothash{"roothash", false, {}};
    std::string stated;
    std::error_code ec;
    if (!fs::is_regular_file(sidecars.roothash, ec)) {
        roothash.detail = sidecars.roothash.filename().string() + " is missing";
    } else {
        auto text = read_file(sidecars.roothash);
        stated = trimmed(text);
        if (text != stated + "\n" || stated.size() != 64 ||
            stated.find_first_not_of("0123456789abcdef") != std::string::npos) {
            // systemd trims whitespace; the form build writes is exact, so any change shows.
            roothash.detail = sidecars.roothash.filename().string() +
                              " is not 64 lower-case hex digits and a newline";
        } else if (report.root_hash.empty()) {
            roothash.detail = "no root hash computed to compare " + stated + " with";
        } else if (stated != report.root_hash) {
            roothash.detail = sidecars.roothash.filename().string() + " says " + stated +
                              ", the data gives " + report.root_hash;
        } else {
            roothash.ok = true;
            roothash.detail = stated;
        }
    }
    report.checks.push_back(roothash);

    Check signature{"signature", false, {}};
    if (!fs::is_regular_file(sidecars.signature, ec)) {
        signature.detail = sidecars.signature.filename().string() + " is missing";
    } else {
        // Over what systemd passes to the kernel: the stated root hash (checked above).
        auto result = check_root_hash_signature(
            read_file(sidecars.signature), stated.empty() ? report.root_hash : stated, trusted);
        signature.ok = result.valid;
        signature.detail =
            result.valid ? result.detail + " (sha256 " + result.fingerprint + ")" : result.detail;
    }
    report.checks.push_back(signature);
}

// A DDI's partition table, verity partition, root hash and signature partition; extracts the
// usr partition to `usr`. False when the partitions cannot be read (nothing more to check).
bool check_ddi(VerifyReport& report, const fs::path& image, const fs::path& usr,
               const std::vector<Certificate>& trusted, unsigned threads) {
    Ddi ddi;
    try {
        ddi = read_ddi(image);
    } catch (const InputError& e) {
        report.checks.push_back({"partitions", false, e.what()});
        return false;
    }
    report.checks.push_back(
        {"partitions", true,
         "GPT with usr, usr-verity and usr-verity-sig (" + ddi.architecture + ")"});
    auto verity = usr.parent_path() / "usr-verity";
    extract_range(image, ddi.usr.offset(), ddi.usr.size(), usr);
    extract_range(image, ddi.verity.offset(), ddi.verity.size(), verity);
    report.checks.push_back(check_verity(usr, verity, threads, report.root_hash));

    Check roothash{"roothash", false, {}};
    const auto& stated = ddi.root_hash;
    auto first = format_guid(ddi.usr.uuid);
    auto last = format_guid(ddi.verity.uuid);
    std::erase(first, '-');
    std::erase(last, '-');
    if (stated.size() != 64 || stated.find_first_not_of("0123456789abcdef") != std::string::npos) {
        roothash.detail = "rootHash of usr-verity-sig is not 64 lower-case hex digits";
    } else if (report.root_hash.empty()) {
        roothash.detail = "no root hash computed to compare " + stated + " with";
    } else if (stated != report.root_hash) {
        roothash.detail = "usr-verity-sig says " + stated + ", the data gives " + report.root_hash;
    } else if (first != stated.substr(0, 32) || last != stated.substr(32)) {
        roothash.detail = "partition UUIDs " + format_guid(ddi.usr.uuid) + " and " +
                          format_guid(ddi.verity.uuid) + " are not the root hash's halves";
    } else {
        roothash.ok = true;
        roothash.detail = stated;
    }
    report.checks.push_back(roothash);

    auto result = check_root_hash_signature(ddi.signature_der, stated, trusted);
    Check signature{"signature", result.valid, result.detail};
    if (result.valid) {
        signature.detail += " (sha256 " + result.fingerprint + ")";
        if (!ddi.certificate_fingerprint.empty() &&
            ddi.certificate_fingerprint != result.fingerprint) {
            signature.ok = false;
            signature.detail = "certificateFingerprint " + ddi.certificate_fingerprint +
                               " is not the signer's (" + result.fingerprint + ")";
        }
    }
    report.checks.push_back(signature);
    return true;
}

// extension-release and every module's signature.
void check_contents(VerifyReport& report, const fs::path& image, const ImageContents& contents,
                    const std::vector<Certificate>& trusted) {
    std::vector<std::string> files;
    try {
        files = contents.list(image);
    } catch (const std::exception& e) {
        report.checks.push_back({"contents", false, e.what()});
        return;
    }
    bool shared = false;
    try {
        report.checks.push_back(check_release(image, files, contents, shared));
    } catch (const std::exception& e) {
        report.checks.push_back({"extension-release", false, e.what()});
    }
    size_t modules = 0;
    for (const auto& file : files) {
        if (!is_module_file(file)) {
            continue;
        }
        ++modules;
        Check module{"module " + file, false, {}};
        try {
            auto bytes = decompress_module(file, contents.read(image, file));
            auto result = check_module_signature(bytes, trusted);
            module.ok = result.valid;
            module.detail = result.detail;
        } catch (const std::exception& e) {
            module.detail = e.what();
        }
        report.checks.push_back(module);
    }
    if (modules == 0 && !shared) {
        report.checks.push_back({"modules", false, "the image holds no kernel module"});
    }
}

} // namespace

bool VerifyReport::ok() const {
    return !checks.empty() &&
           std::all_of(checks.begin(), checks.end(), [](const Check& c) { return c.ok; });
}

VerifyReport verify_image(const fs::path& image, const ImageContents& contents,
                          const std::vector<Certificate>& trusted, unsigned threads) {
    {
        // Unreadable input is an input error (exit status 2), not a failed check.
        int fd = ::open(image.c_str(), O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
            throw InputError(errno_message("cannot read " + image.string(), errno));
        }
        ::close(fd);
    }
    VerifyReport report;
    if (!has_gpt(image)) {
        check_sidecars(report, image, trusted, threads);
        check_contents(report, image, contents, trusted);
        return report;
    }
    TempDir work("ksx-verify-");
    auto usr = work.path() / "usr";
    if (!check_ddi(report, image, usr, trusted, threads)) {
        return report;
    }
    // The usr partition's root is /usr: its files are shown and checked under "usr/".
    ImageContents usr_contents{[&](const fs::path&) {
                                   auto files = contents.list(usr);
                                   for (auto& file : files) {
                                       file.insert(0, "usr/");
                                   }
                                   return files;
                               },
                               [&](const fs::path&, const std::string& path) {
                                   return contents.read(usr, path.substr(4));
                               }};
    check_contents(report, image, usr_contents, trusted);
    return report;
}

} // namespace ksx::sign
