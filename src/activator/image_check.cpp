#include "activator/image_check.hpp"

#include "activator/root_files.hpp"
#include "contract/sidecars.hpp"
#include "trust/verity_tree.hpp"
#include "util/error.hpp"

#include <algorithm>
#include <cerrno>
#include <fcntl.h>
#include <sys/stat.h>

namespace ksx::activator {

namespace fs = std::filesystem;

namespace {

bool present(const Context& context, const fs::path& node_path) {
    return stat_beneath(context, node_path, false) || errno != ENOENT;
}

UniqueFd open_for_reading(const Context& context, const fs::path& node_path) {
    UniqueFd fd = open_beneath(context, node_path, O_RDONLY);
    if (!fd) {
        throw_errno("cannot open {}", {context.on_disk(node_path).native()});
    }
    return fd;
}

bool is_root_hash(std::string_view text) {
    return text.size() == 64 && std::all_of(text.begin(), text.end(), [](char c) {
               return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
           });
}

ImageCheck refuse(std::string reason) {
    return {ImageTrust::refused, std::move(reason), {}, {}, {}};
}

ImageCheck check(const Context& context, const TrustPolicy& policy, const fs::path& image) {
    const auto& name = image.native();
    auto stem = name.substr(0, name.size() - 4); // without ".raw"
    fs::path verity = stem + contract::kVeritySuffix;
    fs::path roothash = stem + contract::kRootHashSuffix;
    fs::path p7s = stem + contract::kRootHashSignatureSuffix;
    bool has_verity = present(context, verity);
    bool has_roothash = present(context, roothash);
    bool has_p7s = present(context, p7s);
    if (policy.required && policy.certificates.empty()) {
        return refuse(message("no usable certificate in {} (signatures required by policy)",
                              {kCertificateDirs}));
    }
    if (!policy.required && !has_verity && !has_roothash && !has_p7s) {
        return {ImageTrust::unsigned_image, "no verity data (signatures optional)", {}, {}, {}};
    }
    std::string missing;
    auto note = [&](bool present, const char* suffix, bool needed) {
        if (!present && needed) {
            missing += missing.empty() ? "" : ", ";
            missing += suffix;
        }
    };
    note(has_verity, contract::kVeritySuffix, true);
    note(has_roothash, contract::kRootHashSuffix, true);
    note(has_p7s, contract::kRootHashSignatureSuffix, policy.required);
    if (!missing.empty()) {
        return refuse(
            message("missing {}{}",
                    {missing, (policy.required ? " (signatures required by policy)"
                                               : " (the image has part of its verity data)")}));
    }
    auto hash = read_beneath(context, roothash, kMaxSmallFile);
    if (hash.ends_with('\n')) {
        hash.pop_back();
    }
    if (!is_root_hash(hash)) {
        return refuse("malformed .roothash: not 64 lower-case hex digits");
    }
    ImageCheck result{ImageTrust::unsigned_image, {}, {}, {}, {}};
    if (has_p7s && policy.certificates.empty()) {
        result.reason = message("signature not checked: no certificate in {} (signatures optional)",
                                {kCertificateDirs});
    } else if (has_p7s) {
        const Certificate* signer =
            verify_signature(read_beneath(context, p7s, kMaxSmallFile), hash, policy.certificates);
        if (signer == nullptr) {
            return refuse(message("signature does not verify against any certificate in {}",
                                  {kCertificateDirs}));
        }
        result = {ImageTrust::verified, {}, {}, subject_name(signer->x509.get()), signer->file};
    } else {
        result.reason = "no signature (signatures optional)";
    }
    auto tree = trust::check_verity_tree(
        open_for_reading(context, image).get(), context.on_disk(image).native(),
        open_for_reading(context, verity).get(), context.on_disk(verity).native());
    if (!tree.problem.empty()) {
        return refuse(tree.problem);
    }
    if (tree.root_hash != hash) {
        return refuse(trust::kRootHashMismatch);
    }
    result.root_hash = hash;
    return result;
}

} // namespace

ImageCheck check_image(const Context& context, const TrustPolicy& policy, const fs::path& image) {
    try {
        return check(context, policy, image);
    } catch (const std::exception& e) {
        return refuse(e.what());
    }
}

const char* trust_name(ImageTrust trust) {
    switch (trust) {
    case ImageTrust::verified:
        return "verified";
    case ImageTrust::unsigned_image:
        return "unsigned";
    case ImageTrust::refused:
        break;
    }
    return "refused";
}

} // namespace ksx::activator
