// Private keys held in a PKCS#11 token (an HSM, a smart card, SoftHSM), named by an RFC 7512
// URI such as "pkcs11:token=release;object=module-signing;type=private".
#pragma once

#include "sign/openssl_handles.hpp"

#include <memory>
#include <string>
#include <string_view>

namespace ksx::sign {

// True when `reference` is a PKCS#11 URI rather than a file name.
bool is_pkcs11_uri(std::string_view reference);

// The URI with any pin-value attribute replaced, fit for messages and logs.
std::string redacted_pkcs11_uri(std::string_view uri);

// Loads the key through OpenSSL's pkcs11 engine (Debian: libengine-pkcs11-openssl, which
// reaches every module p11-kit knows of). The PIN comes from the URI's pin-value or
// pin-source, else from KSX_PKCS11_PIN, else KBUILD_SIGN_PIN (as the kernel's sign-file reads
// it); KSX_PKCS11_MODULE names a module other than p11-kit's proxy. The key stays in the
// token: signing calls go to it. Throws InputError naming the (redacted) URI.
struct TokenKey {
    std::shared_ptr<void> engine; // open while any key from it is held; closed before exit
    Pkey key;
};
TokenKey load_pkcs11_private_key(std::string_view uri);

} // namespace ksx::sign
