// What a node demands of images: /etc/kmod-sysext/policy.conf and the installed certificates.
#pragma once

#include "activator/context.hpp"
#include "activator/log.hpp"
#include "activator/signature.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace ksx::activator {

// Where certificates are looked for, as the node sees it, for messages.
inline constexpr const char* kCertificateDirs = "/etc/verity.d, /etc/kmod-sysext/keys";
inline constexpr const char* kPolicyFile = "/etc/kmod-sysext/policy.conf";
// The one of them where systemd-sysext looks as well.
inline constexpr const char* kSystemdCertificateDir = "/etc/verity.d";

enum class SignaturePolicy {
    required, // every image needs .verity, .roothash and a .roothash.p7s that verifies
    optional, // unsigned images are linked; whatever sidecars an image has must still hold
    automatic // required when any certificate file is installed (even one that cannot be
              // read: fail closed), optional otherwise; the default
};

struct TrustPolicy {
    SignaturePolicy configured = SignaturePolicy::automatic;
    bool required = false; // what `configured` means on this node
    std::vector<Certificate> certificates;
};

// SIGNATURES=required|optional|auto; throws InputError "<file>:<line>: ..." for anything else.
SignaturePolicy parse_signature_policy(std::string_view text, const std::string& file_name,
                                       Log& log);

// Reads <root>/etc/kmod-sysext/policy.conf (missing: auto) and the certificates in
// <root>/etc/verity.d/*.crt and <root>/etc/kmod-sysext/keys/*.crt|*.pem. A policy file that
// cannot be used is logged as an error and taken as "required" (fail closed); a certificate
// file that cannot be read is logged as an error and skipped.
TrustPolicy read_trust_policy(const Context& context, Log& log);

} // namespace ksx::activator
