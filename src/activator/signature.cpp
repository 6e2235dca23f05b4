#include "activator/signature.hpp"

#include "trust/detached_signature.hpp"
#include "util/error.hpp"
#include "util/file_io.hpp"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/pem.h>

namespace ksx::activator {

namespace {

using BioHandle = UniqueHandle<BIO, BIO_free>;

BioHandle memory_bio(std::string_view bytes) {
    BioHandle bio(BIO_new_mem_buf(bytes.data(), static_cast<int>(bytes.size())));
    if (!bio) {
        throw_error("out of memory", {});
    }
    return bio;
}

} // namespace

std::vector<Certificate> read_certificates(const std::filesystem::path& file) {
    return parse_certificates(read_file(file), file);
}

std::vector<Certificate> parse_certificates(std::string_view bytes,
                                            const std::filesystem::path& file) {
    std::vector<Certificate> out;
    auto bio = memory_bio(bytes);
    while (X509* certificate = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) {
        out.push_back({file, X509Handle(certificate)});
    }
    if (out.empty()) {
        const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
        if (X509* certificate = d2i_X509(nullptr, &p, static_cast<long>(bytes.size()))) {
            out.push_back({file, X509Handle(certificate)});
        }
    }
    ERR_clear_error();
    if (out.empty()) {
        throw_error("{}: not a PEM or DER certificate", {file.native()});
    }
    return out;
}

std::string subject_name(const X509* certificate) {
    const X509_NAME* subject = X509_get_subject_name(certificate);
    int at = X509_NAME_get_index_by_NID(subject, NID_commonName, -1);
    if (at >= 0) {
        unsigned char* utf8 = nullptr;
        int size =
            ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, at)));
        if (size >= 0) {
            std::string name(reinterpret_cast<char*>(utf8), static_cast<std::size_t>(size));
            OPENSSL_free(utf8);
            return name;
        }
    }
    char line[256];
    X509_NAME_oneline(subject, line, sizeof line);
    return line;
}

const Certificate* verify_signature(std::string_view p7s, std::string_view content,
                                    const std::vector<Certificate>& trusted) {
    std::vector<X509*> certificates;
    for (const auto& certificate : trusted) {
        certificates.push_back(certificate.x509.get());
    }
    auto check = trust::check_detached_signature(p7s, content, certificates);
    for (const auto& certificate : trusted) {
        if (check.signer != nullptr && certificate.x509.get() == check.signer) {
            return &certificate;
        }
    }
    return nullptr;
}

} // namespace ksx::activator
