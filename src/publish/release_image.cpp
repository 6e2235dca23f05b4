#include "publish/release_image.hpp"

#include "contract/extension_release.hpp"
#include "contract/image_name.hpp"
#include "contract/modules_load.hpp"
#include "image/squashfs_reader.hpp"
#include "sign/image_signature.hpp"
#include "sign/roothash_signature.hpp"
#include "util/error.hpp"
#include "util/file_io.hpp"
#include "util/sha256.hpp"

#include <openssl/pkcs7.h>

namespace ksx::publish {

namespace fs = std::filesystem;

namespace {

ReleaseFile release_file(const fs::path& path) {
    return {path.filename().string(), path, sha256_file_hex(path), fs::file_size(path)};
}

std::string trimmed(std::string text) {
    while (!text.empty() && (text.back() == '\n' || text.back() == ' ' || text.back() == '\r')) {
        text.pop_back();
    }
    return text;
}

// Certificates a signer chose to embed in the PKCS#7 (ours embeds none: -nocerts).
std::vector<sign::Certificate> embedded_certificates(const std::string& der) {
    std::vector<sign::Certificate> certs;
    const auto* p = reinterpret_cast<const unsigned char*>(der.data());
    sign::Pkcs7 p7(d2i_PKCS7(nullptr, &p, static_cast<long>(der.size())));
    if (!p7 || !PKCS7_type_is_signed(p7.get()) || p7->d.sign->cert == nullptr) {
        return certs;
    }
    for (int i = 0; i < sk_X509_num(p7->d.sign->cert); ++i) {
        X509* cert = sk_X509_value(p7->d.sign->cert, i);
        X509_up_ref(cert);
        certs.emplace_back(cert);
    }
    return certs;
}

std::string signer_subject(const fs::path& p7s, const std::string& root_hash,
                           const std::vector<sign::Certificate>& given) {
    auto der = read_file(p7s);
    auto embedded = embedded_certificates(der);
    const auto& certs = embedded.empty() ? given : embedded;
    if (certs.empty()) {
        return "";
    }
    auto check = sign::check_root_hash_signature(der, root_hash, certs);
    if (!check.valid) {
        throw InputError(p7s.string() + ": the root hash signature does not verify with " +
                         (embedded.empty() ? "the certificate(s) given" : "its own certificate") +
                         ": " + check.detail);
    }
    for (const auto& cert : certs) {
        if (sign::certificate_fingerprint(cert.get()) == check.fingerprint) {
            return sign::certificate_subject(cert.get());
        }
    }
    return "";
}

} // namespace

ReleaseImage read_release_image(const fs::path& path, const std::vector<sign::Certificate>& certs) {
    ReleaseImage result;
    result.image = release_file(path);
    const auto& file = result.image.file;
    auto name = contract::parse_image_name(file);
    if (!name) {
        throw InputError(path.string() + ": not a kmod-sysext image name (NAME_VERSION_KERNEL.raw "
                                         "or NAME-userspace_VERSION.raw)");
    }
    auto info = image::read_image_info(path);
    result.build_time = info.mkfs_time;
    auto release = contract::parse_extension_release(
        image::read_image_file(path, contract::extension_release_path(name->sysext_name())));
    result.name = release.name;
    result.version = release.version;
    result.kernel = release.kernel;
    result.userspace = release.userspace;
    result.os_id = release.os.id;
    result.os_version_id = release.os.version_id;
    result.sysext_level = release.os.sysext_level;
    result.architecture = release.os.architecture;
    auto expected = contract::ImageName{result.name, result.version, result.kernel}.file_name();
    if (result.name != name->extension || expected != file) {
        throw InputError(path.string() + ": its extension-release names \"" + expected + "\"");
    }
    if (!name->is_userspace()) {
        const auto load_path = "usr/lib/kmod-sysext/" + name->extension + "/modules.load";
        for (const auto& module :
             contract::parse_load_order(image::read_image_file(path, load_path),
                                        path.string() + ": " + load_path)
                 .modules) {
            result.modules.push_back(module.name);
        }
    }

    auto sidecars = sign::sidecar_paths(path);
    for (const auto& sidecar : {sidecars.verity, sidecars.roothash, sidecars.signature}) {
        if (fs::exists(sidecar)) {
            result.sidecars.push_back(release_file(sidecar));
        }
    }
    if (fs::exists(sidecars.roothash)) {
        result.root_hash = trimmed(read_file(sidecars.roothash));
        if (fs::exists(sidecars.signature)) {
            result.signer = signer_subject(sidecars.signature, result.root_hash, certs);
        }
    }
    return result;
}

} // namespace ksx::publish
