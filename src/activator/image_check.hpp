// Whether an image may be linked: its verity data and signature against the node's policy.
#pragma once

#include "activator/context.hpp"
#include "activator/trust_policy.hpp"

#include <filesystem>
#include <string>

namespace ksx::activator {

enum class ImageTrust {
    verified,       // signature by an installed certificate, tree and data match the root hash
    unsigned_image, // allowed by the policy; verity data, if any, matches
    refused
};

struct ImageCheck {
    ImageTrust trust = ImageTrust::refused;
    std::string reason;                // why refused, or a note on an unsigned image
    std::string root_hash;             // from .roothash, once it matched the tree
    std::string signer;                // subject CN of the certificate that verified the signature
    std::filesystem::path signer_file; // the file that certificate came from
};

// Checks `image` ("<stem>.raw", as the node sees it; read beneath context.root) with its sidecars
// <stem>.verity, <stem>.roothash and <stem>.roothash.p7s against `policy`. Reasons are short and
// exact, e.g. "missing .roothash.p7s (signatures required by policy)", "signature does not verify
// against any certificate in /etc/verity.d, /etc/kmod-sysext/keys", "root hash mismatch: image or
// .verity changed". Files that cannot be read refuse the image with the error as reason.
ImageCheck check_image(const Context& context, const TrustPolicy& policy,
                       const std::filesystem::path& image);

// "verified", "unsigned", "refused".
const char* trust_name(ImageTrust trust);

} // namespace ksx::activator
