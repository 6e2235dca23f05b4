// Kernel module signatures in the format of the kernel's scripts/sign-file: the module, a DER
// CMS signature (detached, no certificates, no signed attributes, signer by issuer and serial),
// a 12-byte struct module_signature and the magic "~Module signature appended~\n".
#pragma once

#include "sign/kernel_config.hpp"
#include "sign/keys.hpp"
#include "sign/signer_identity.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ksx::sign {

inline constexpr std::string_view module_signature_magic = "~Module signature appended~\n";

// Hash names the kernel accepts for module signatures (CONFIG_MODULE_SIG_HASH).
const std::vector<std::string>& module_hash_names();

// The signature block sign-file appends to `module` (CMS + struct + magic).
std::string module_signature(std::string_view module, const Signer& signer,
                             const std::string& hash);

// The module followed by its signature block.
std::string sign_module(std::string_view module, const Signer& signer, const std::string& hash);

// Appends the signature block to the module file `ko` in place (atomically).
void sign_module_file(const std::filesystem::path& ko, const Signer& signer,
                      const std::string& hash);

// A signed module taken apart. `content` is what was signed.
struct AppendedSignature {
    std::string_view content;
    std::string_view cms_der;
};

// Splits a signed module; nothing when it carries no signature block. Throws InputError when
// the block is there but malformed.
std::optional<AppendedSignature> split_module_signature(std::string_view module);

// The signer of a module's appended signature as modinfo shows it (signer, sig_key,
// sig_hashalgo), without checking it; nothing when the module is unsigned. Throws InputError
// when the signature block or the PKCS#7 in it is malformed.
std::optional<SignerIdentity> module_signer(std::string_view module);

// The result of checking a module's signature against trusted certificates.
struct ModuleSignatureCheck {
    bool valid = false;
    std::string detail; // the signer's subject when valid, else why not
};

// Checks the appended signature of `module` against `trusted`: a signer among them, and the
// CMS signature valid over the module content.
ModuleSignatureCheck check_module_signature(std::string_view module,
                                            const std::vector<Certificate>& trusted);

// The kernel's CONFIG_MODULE_SIG_HASH; nothing when its configuration does not set it.
std::optional<std::string> kernel_module_hash(const KernelConfig& config);

} // namespace ksx::sign
