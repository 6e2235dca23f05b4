// What the running kernel trusts: UEFI Secure Boot, the lockdown mode, module signature
// enforcement, and the keys of its trusted keyrings as /proc/keys shows them.
#pragma once

#include "activator/context.hpp"
#include "activator/signature.hpp"

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ksx::activator {

// One line of /proc/keys: "<id> <flags> <usage> <timeout> <perm> <uid> <gid> <type> <desc>:
// <summary>".
struct ProcKey {
    std::int32_t id = 0;
    std::string type;        // "keyring", "asymmetri" (the kernel cuts types to 9 characters)
    std::string description; // ".machine", or for an X.509 key "<subject CN>: <key id in hex>"
};

// Parses /proc/keys; lines that are not of that shape are skipped.
std::vector<ProcKey> parse_proc_keys(std::string_view text);

// The keyrings the kernel checks module signatures against (a Machine Owner Key from shim's
// MokList lands in .machine, which is linked into .secondary_trusted_keys), and .platform (the
// firmware's db: kexec and, on some distributions' kernels, modules).
inline constexpr std::string_view kModuleKeyrings[] = {".builtin_trusted_keys",
                                                       ".secondary_trusted_keys", ".machine"};
inline constexpr std::string_view kPlatformKeyring = ".platform";

// A key of one of those keyrings.
struct TrustedKey {
    std::string keyring;     // where it is: ".builtin_trusted_keys", ".machine", ...
    std::string description; // "<subject CN>: <key id in hex>"
};

// The members of a keyring by id (KEYCTL_READ), nullopt when it cannot be read.
using KeyringReader = std::function<std::optional<std::vector<std::int32_t>>(std::int32_t)>;

// The keys of kModuleKeyrings and kPlatformKeyring, each with the keyring that holds it; a keyring
// linked into another (.machine into .secondary_trusted_keys) is followed once.
std::vector<TrustedKey> trusted_keys(const std::vector<ProcKey>& keys,
                                     const KeyringReader& read_keyring);

struct KernelTrust {
    std::optional<bool> secure_boot; // the SecureBoot EFI variable; nullopt: no EFI or unknown
    std::string lockdown;            // "none", "integrity", "confidentiality"; empty: unknown
    std::optional<bool> sig_enforce; // module.sig_enforce
    bool keys_known = false;         // /proc/keys and the keyrings could be read
    std::vector<TrustedKey> keys;

    // The kernel refuses modules without a trusted signature: sig_enforce, or any lockdown.
    bool enforces_module_signatures() const {
        return sig_enforce.value_or(false) || (!lockdown.empty() && lockdown != "none");
    }
};

// "none [integrity] confidentiality" -> "integrity"; empty if none is bracketed.
std::string parse_lockdown(std::string_view text);

// The SecureBoot EFI variable as efivarfs gives it (4 bytes of attributes, then the value).
std::optional<bool> parse_secure_boot_variable(std::string_view bytes);

// Reads it all beneath context.root (/sys/firmware/efi/efivars, /sys/kernel/security/lockdown,
// /sys/module/module/parameters/sig_enforce, /proc/keys); the keyrings' members from the
// running kernel via `read_keyring`. What cannot be read stays unknown.
KernelTrust read_kernel_trust(const Context& context, const KeyringReader& read_keyring);

// The running kernel's keyrings (keyctl(2) KEYCTL_READ).
std::optional<std::vector<std::int32_t>> read_keyring_members(std::int32_t id);

// Whether the kernel trusts a module signer.
enum class SignerTrust {
    trusted,   // its key is in .builtin_trusted_keys, .secondary_trusted_keys or .machine
    platform,  // only in .platform (the firmware's db): not used for dm-verity signatures
    untrusted, // in none of them
    unknown    // the keyrings could not be read, or the module carries no signer to look up
};
std::string_view signer_trust_name(SignerTrust trust);

struct SignerCheck {
    SignerTrust trust = SignerTrust::unknown;
    std::string keyring; // the keyring that holds the key, when trusted or platform
};

// Looks up the key that signed a module — `signer` (the issuer's CN, as modinfo shows it) and
// `serial` ("12:AB:..") — among `keys`. The kernel names an X.509 key "<subject CN>: <subject key
// identifier>" (its serial number when it has no identifier), so the identifier comes from the
// matching certificate among `certificates` (the node's /etc/verity.d, /etc/kmod-sysext/keys).
SignerCheck check_signer(const KernelTrust& kernel, const std::string& signer,
                         const std::string& serial, const std::vector<Certificate>& certificates);

// The keyring of kModuleKeyrings (those dm-verity's signature check uses too) that holds the key
// of `certificate`, by the kernel's name for it ("<subject CN>: <subject key identifier>");
// empty if none does.
std::string keyring_of_certificate(const KernelTrust& kernel, const X509* certificate);

// The one line that says why the kernel will refuse modules of `extension` and how to enrol the
// key (`signer` empty: the modules carry no signature).
std::string enrol_hint(const KernelTrust& kernel, const std::string& extension,
                       const std::string& signer, const std::string& serial);

} // namespace ksx::activator
