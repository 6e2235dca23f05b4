#include "activator/kernel_trust.hpp"

#include "activator/root_files.hpp"
#include "util/lines.hpp"
#include "util/message.hpp"

#include <algorithm>
#include <cctype>
#include <linux/keyctl.h>
#include <openssl/bn.h>
#include <openssl/x509v3.h>
#include <set>
#include <sys/syscall.h>
#include <unistd.h>

namespace ksx::activator {

namespace {

// The EFI global variable GUID, under which the firmware keeps SecureBoot.
constexpr const char* kSecureBootVariable =
    "/sys/firmware/efi/efivars/SecureBoot-8be4df61-93ca-11d2-aa0d-00e098032b8c";

std::optional<std::string> try_read(const Context& context, const char* path) {
    try {
        return read_beneath(context, path, kMaxSmallFile);
    } catch (const std::exception&) {
        return std::nullopt;
    }
}

// Lower-case hex without separators or leading zero bytes: how the kernel, libkmod ("12:AB:..")
// and OpenSSL spell one serial number or key identifier in three ways.
std::string normal_hex(std::string_view text) {
    std::string out;
    for (char c : text) {
        if (std::isxdigit(static_cast<unsigned char>(c))) {
            out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        }
    }
    if (out.size() % 2) {
        out.insert(out.begin(), '0');
    }
    while (out.size() > 2 && out.starts_with("00")) {
        out.erase(0, 2);
    }
    return out;
}

std::string hex_of(const unsigned char* data, int length) {
    static constexpr char digits[] = "0123456789abcdef";
    std::string out;
    for (int i = 0; i < length; ++i) {
        out += digits[data[i] >> 4];
        out += digits[data[i] & 15];
    }
    return out;
}

std::string serial_hex(const X509* certificate) {
    const ASN1_INTEGER* serial = X509_get0_serialNumber(certificate);
    return serial ? normal_hex(hex_of(serial->data, serial->length)) : std::string();
}

std::string key_id_hex(const X509* certificate) {
    const ASN1_OCTET_STRING* id = X509_get0_subject_key_id(const_cast<X509*>(certificate));
    return id ? normal_hex(hex_of(id->data, id->length)) : std::string();
}

std::string issuer_name(const X509* certificate) {
    const X509_NAME* name = X509_get_issuer_name(certificate);
    int at = X509_NAME_get_index_by_NID(name, NID_commonName, -1);
    if (at < 0) {
        return {};
    }
    const ASN1_STRING* data = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, at));
    return std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(data)),
                       static_cast<std::size_t>(ASN1_STRING_length(data)));
}

} // namespace

std::vector<ProcKey> parse_proc_keys(std::string_view text) {
    std::vector<ProcKey> keys;
    for_each_line(text, [&](std::string_view line, int) {
        // id flags usage timeout perm uid gid type, then the rest of the line.
        std::string_view fields[8];
        for (auto& field : fields) {
            field = take_word(line);
        }
        if (fields[7].empty()) {
            return;
        }
        const std::string id(fields[0]);
        const auto rest = skip_blanks(line);
        // "<description>: <summary>"; an X.509 key's description holds ": " itself, its summary
        // ("X509.rsa 4b6c0d1f []") does not.
        auto colon = rest.rfind(": ");
        ProcKey key;
        try {
            std::size_t used = 0;
            auto value = std::stoul(id, &used, 16);
            if (used != id.size() || value > 0x7fffffffUL) {
                return;
            }
            key.id = static_cast<std::int32_t>(value);
        } catch (const std::exception&) {
            return;
        }
        key.type = fields[7];
        key.description = rest.substr(0, colon);
        keys.push_back(std::move(key));
    });
    return keys;
}

std::vector<TrustedKey> trusted_keys(const std::vector<ProcKey>& keys,
                                     const KeyringReader& read_keyring) {
    // The key of an id (the last listed, were one listed twice); a few hundred at most, searched
    // in place rather than indexed.
    auto by_id = [&](std::int32_t id) -> const ProcKey* {
        auto it = std::find_if(keys.rbegin(), keys.rend(),
                               [&](const ProcKey& key) { return key.id == id; });
        return it == keys.rend() ? nullptr : &*it;
    };
    std::vector<TrustedKey> out;
    // (keyring, key) listed in `out`; each keyring name is the description of one of `keys`.
    std::vector<std::pair<std::string_view, std::int32_t>> seen;
    auto wanted = [](const std::string& name) {
        return name == kPlatformKeyring ||
               std::find(std::begin(kModuleKeyrings), std::end(kModuleKeyrings), name) !=
                   std::end(kModuleKeyrings);
    };
    // A linked keyring that is one of ours is listed under its own name; another is followed once.
    auto add_members = [&](const std::string& keyring, std::int32_t id, bool follow_links,
                           auto& self) -> void {
        auto members = read_keyring(id);
        if (!members) {
            return;
        }
        for (auto member : *members) {
            const ProcKey* listed = by_id(member);
            if (listed == nullptr) {
                continue;
            }
            const ProcKey& key = *listed;
            std::pair<std::string_view, std::int32_t> pair{keyring, key.id};
            if (key.type == "keyring") {
                if (follow_links && !wanted(key.description)) {
                    self(key.description, key.id, false, self);
                }
            } else if (std::find(seen.begin(), seen.end(), pair) == seen.end()) {
                seen.push_back(pair);
                out.push_back({keyring, key.description});
            }
        }
    };
    for (const auto& key : keys) {
        if (key.type == "keyring" && wanted(key.description)) {
            add_members(key.description, key.id, true, add_members);
        }
    }
    return out;
}

std::string parse_lockdown(std::string_view text) {
    auto open = text.find('[');
    auto close = text.find(']', open == std::string_view::npos ? 0 : open);
    if (open == std::string_view::npos || close == std::string_view::npos) {
        return {};
    }
    return std::string(text.substr(open + 1, close - open - 1));
}

std::optional<bool> parse_secure_boot_variable(std::string_view bytes) {
    if (bytes.size() != 5) {
        return std::nullopt;
    }
    return bytes[4] == 1;
}

std::optional<std::vector<std::int32_t>> read_keyring_members(std::int32_t id) {
    std::vector<std::int32_t> members(256);
    for (;;) {
        long size = ::syscall(SYS_keyctl, KEYCTL_READ, id, members.data(),
                              members.size() * sizeof(std::int32_t));
        if (size < 0) {
            return std::nullopt;
        }
        auto count = static_cast<std::size_t>(size) / sizeof(std::int32_t);
        if (count <= members.size()) {
            members.resize(count);
            return members;
        }
        members.resize(count);
    }
}

KernelTrust read_kernel_trust(const Context& context, const KeyringReader& read_keyring) {
    KernelTrust trust;
    if (auto bytes = try_read(context, kSecureBootVariable)) {
        trust.secure_boot = parse_secure_boot_variable(*bytes);
    } else if (stat_beneath(context, "/sys/firmware/efi")) {
        trust.secure_boot = false; // EFI without the variable: Secure Boot is not supported
    }
    if (auto text = try_read(context, "/sys/kernel/security/lockdown")) {
        trust.lockdown = parse_lockdown(*text);
    }
    if (auto text = try_read(context, "/sys/module/module/parameters/sig_enforce")) {
        if (text->starts_with("Y")) {
            trust.sig_enforce = true;
        } else if (text->starts_with("N")) {
            trust.sig_enforce = false;
        }
    }
    if (auto text = try_read(context, "/proc/keys")) {
        auto keys = parse_proc_keys(*text);
        bool any_keyring = std::any_of(keys.begin(), keys.end(), [](const ProcKey& key) {
            return key.type == "keyring" && key.description == kModuleKeyrings[0];
        });
        trust.keys = trusted_keys(keys, read_keyring);
        trust.keys_known = any_keyring;
    }
    return trust;
}

std::string_view signer_trust_name(SignerTrust trust) {
    switch (trust) {
    case SignerTrust::trusted:
        return "trusted";
    case SignerTrust::platform:
        return "platform";
    case SignerTrust::untrusted:
        return "untrusted";
    case SignerTrust::unknown:
        break;
    }
    return "unknown";
}

SignerCheck check_signer(const KernelTrust& kernel, const std::string& signer,
                         const std::string& serial, const std::vector<Certificate>& certificates) {
    if (!kernel.keys_known || signer.empty() || serial.empty()) {
        return {};
    }
    const auto serial_id = normal_hex(serial);
    std::set<std::string> ids{serial_id};
    for (const auto& certificate : certificates) {
        const X509* x509 = certificate.x509.get();
        if (serial_hex(x509) == serial_id && issuer_name(x509) == signer) {
            if (auto id = key_id_hex(x509); !id.empty()) {
                ids.insert(id);
            }
        }
    }
    SignerCheck found{SignerTrust::untrusted, {}};
    for (const auto& key : kernel.keys) {
        auto colon = key.description.rfind(": ");
        const std::string_view description = key.description;
        if (colon == std::string::npos || description.substr(0, colon) != signer ||
            !ids.contains(normal_hex(description.substr(colon + 2)))) {
            continue;
        }
        if (key.keyring != kPlatformKeyring) {
            return {SignerTrust::trusted, key.keyring};
        }
        found = {SignerTrust::platform, key.keyring};
    }
    return found;
}

std::string keyring_of_certificate(const KernelTrust& kernel, const X509* certificate) {
    auto id = key_id_hex(certificate);
    if (id.empty()) {
        id = serial_hex(certificate);
    }
    const std::string name = message("{}: ", {subject_name(certificate)});
    for (const auto& key : kernel.keys) {
        if (key.keyring != kPlatformKeyring && key.description.starts_with(name) &&
            normal_hex(key.description.substr(name.size())) == id) {
            return key.keyring;
        }
    }
    return {};
}

std::string enrol_hint(const KernelTrust& kernel, const std::string& extension,
                       const std::string& signer, const std::string& serial) {
    std::string why = kernel.lockdown.empty() || kernel.lockdown == "none"
                          ? "module.sig_enforce=1"
                          : message("lockdown {}", {kernel.lockdown});
    if (kernel.secure_boot.value_or(false)) {
        why = message("Secure Boot, {}", {why});
    }
    std::string head =
        message("{}: the kernel enforces module signatures ({}) and ", {extension, why});
    if (signer.empty()) {
        return message("{}these modules carry no signature: build them with `kmod-sysext build "
                       "--sign-key` and enrol that key",
                       {head});
    }
    return message(
        "{}does not trust the key that signed these modules, \"{}\" (serial {}): enrol its "
        "certificate as a Machine Owner Key (`kmod-sysext enroll` on the build host writes the DER "
        "file and the `mokutil --import` step) and confirm it in MokManager at the next boot",
        {head, signer, serial});
}

} // namespace ksx::activator
