// Certificates a node trusts for images, and the check of a root hash's PKCS#7 signature.
#pragma once

#include "util/unique_handle.hpp"

#include <filesystem>
#include <memory>
#include <openssl/x509.h>
#include <string>
#include <string_view>
#include <vector>

namespace ksx::activator {

using X509Handle = UniqueHandle<X509, X509_free>;

struct Certificate {
    std::filesystem::path file;
    X509Handle x509;
};

// The certificates in `bytes` (PEM, one or more, or DER) read from `file`. Throws Error naming
// the file when there is none.
std::vector<Certificate> parse_certificates(std::string_view bytes,
                                            const std::filesystem::path& file);

// The certificates in one file. Throws Error when it cannot be read or holds none.
std::vector<Certificate> read_certificates(const std::filesystem::path& file);

// The subject's common name (or the whole subject when it has none).
std::string subject_name(const X509* certificate);

// Checks `p7s` (DER PKCS#7, detached, as `openssl smime -sign -nocerts -noattr -binary` writes
// it) over `content` with trust/detached_signature.hpp's check, the one `kmod-sysext verify`
// makes. The signer must be one of `trusted` itself: there is no chain and no certificate from
// inside the signature is used. Returns the signer, or nullptr when the signature does not
// verify; a signature that differs in any byte from the DER that the signer made (other
// encodings, versions, algorithm parameters) does not verify either.
const Certificate* verify_signature(std::string_view p7s, std::string_view content,
                                    const std::vector<Certificate>& trusted);

} // namespace ksx::activator
