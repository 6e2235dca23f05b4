#include "sign/module_signature.hpp"

#include "sign/detached_signature.hpp"
#include "util/atomic_file.hpp"
#include "util/error.hpp"
#include "util/file_io.hpp"

#include <algorithm>
#include <cstdint>
#include <openssl/err.h>

namespace ksx::sign {

namespace fs = std::filesystem;

namespace {

// struct module_signature from include/linux/module_signature.h: algo, hash, id_type,
// signer_len, key_id_len, pad[3], then sig_len big-endian.
constexpr size_t struct_size = 12;
constexpr unsigned char pkey_id_pkcs7 = 2;

std::string signature_struct(std::uint32_t cms_size) {
    std::string out(struct_size, '\0');
    out[2] = static_cast<char>(pkey_id_pkcs7);
    out[8] = static_cast<char>((cms_size >> 24) & 0xff);
    out[9] = static_cast<char>((cms_size >> 16) & 0xff);
    out[10] = static_cast<char>((cms_size >> 8) & 0xff);
    out[11] = static_cast<char>(cms_size & 0xff);
    return out;
}

const EVP_MD* module_digest(const std::string& hash) {
    const auto& names = module_hash_names();
    if (std::find(names.begin(), names.end(), hash) == names.end()) {
        throw InputError("module signature hash \"" + hash + "\" is not supported");
    }
    const EVP_MD* md = EVP_get_digestbyname(hash.c_str());
    if (md == nullptr) {
        throw_openssl("digest " + hash + " is not available");
    }
    return md;
}

} // namespace

const std::vector<std::string>& module_hash_names() {
    static const std::vector<std::string> names{"sha224", "sha256", "sha384", "sha512"};
    return names;
}

std::string module_signature(std::string_view module, const Signer& signer,
                             const std::string& hash) {
    const EVP_MD* md = module_digest(hash);
    // The calls and flags of sign-file.c (OpenSSL >= 1.0 branch), so the bytes are the same.
    auto content = memory_bio(module);
    Cms cms(CMS_sign(nullptr, nullptr, nullptr, nullptr,
                     CMS_NOCERTS | CMS_PARTIAL | CMS_BINARY | CMS_DETACHED | CMS_STREAM));
    if (!cms) {
        throw_openssl("failed to start a module signature");
    }
    if (CMS_add1_signer(cms.get(), signer.certificate.get(), signer.key.get(), md,
                        CMS_NOCERTS | CMS_BINARY | CMS_NOSMIMECAP | CMS_NOATTR) == nullptr) {
        throw_openssl("failed to add the module signer");
    }
    if (CMS_final(cms.get(), content.get(), nullptr, CMS_NOCERTS | CMS_BINARY) != 1) {
        throw_openssl("failed to sign the module");
    }
    auto out = output_bio();
    if (i2d_CMS_bio_stream(out.get(), cms.get(), nullptr, 0) != 1) {
        throw_openssl("failed to encode the module signature");
    }
    auto der = bio_contents(out.get());
    return der + signature_struct(static_cast<std::uint32_t>(der.size())) +
           std::string(module_signature_magic);
}

std::string sign_module(std::string_view module, const Signer& signer, const std::string& hash) {
    auto signature = module_signature(module, signer, hash);
    std::string out;
    out.reserve(module.size() + signature.size());
    out.append(module);
    out.append(signature);
    return out;
}

void sign_module_file(const fs::path& ko, const Signer& signer, const std::string& hash) {
    auto module = read_file(ko);
    if (split_module_signature(module)) {
        throw Error(ko.string() + " is already signed");
    }
    write_file_atomic(ko, module_signature(module, signer, hash).insert(0, module));
}

std::optional<AppendedSignature> split_module_signature(std::string_view module) {
    if (!module.ends_with(module_signature_magic)) {
        return std::nullopt;
    }
    auto rest = module.substr(0, module.size() - module_signature_magic.size());
    if (rest.size() < struct_size) {
        throw InputError("module signature block is truncated");
    }
    auto info = rest.substr(rest.size() - struct_size);
    auto byte = [&](size_t i) { return static_cast<unsigned char>(info[i]); };
    if (byte(2) != pkey_id_pkcs7) {
        throw InputError("module signature is not PKCS#7 (id_type " + std::to_string(byte(2)) +
                         ")");
    }
    if (byte(0) != 0 || byte(1) != 0 || byte(3) != 0 || byte(4) != 0 || byte(5) != 0 ||
        byte(6) != 0 || byte(7) != 0) {
        throw InputError("module signature header has non-zero algorithm, hash, signer, key id "
                         "or padding");
    }
    std::uint64_t size = (std::uint64_t{byte(8)} << 24) | (std::uint64_t{byte(9)} << 16) |
                         (std::uint64_t{byte(10)} << 8) | byte(11);
    rest.remove_suffix(struct_size);
    if (size == 0 || size > rest.size()) {
        throw InputError("module signature length " + std::to_string(size) +
                         " does not fit the module");
    }
    return AppendedSignature{rest.substr(0, rest.size() - size), rest.substr(rest.size() - size)};
}

std::optional<SignerIdentity> module_signer(std::string_view module) {
    auto parts = split_module_signature(module);
    if (!parts) {
        return std::nullopt;
    }
    return signer_identity(parts->cms_der);
}

ModuleSignatureCheck check_module_signature(std::string_view module,
                                            const std::vector<Certificate>& trusted) {
    std::optional<AppendedSignature> parts;
    try {
        parts = split_module_signature(module);
    } catch (const InputError& e) {
        return {false, e.what()};
    }
    if (!parts) {
        return {false, "not signed"};
    }
    auto result = check_detached_signature(parts->cms_der, parts->content, trusted);
    return {result.valid, result.detail};
}

std::optional<std::string> kernel_module_hash(const KernelConfig& config) {
    return config.value("CONFIG_MODULE_SIG_HASH");
}

} // namespace ksx::sign
