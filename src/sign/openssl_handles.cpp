#include "sign/openssl_handles.hpp"

#include "util/error.hpp"

#include <openssl/err.h>

namespace ksx::sign {

CertificateStack::CertificateStack(const std::vector<Certificate>& certificates)
    : stack_(sk_X509_new_null()) {
    if (stack_ == nullptr) {
        throw_openssl("failed to allocate a certificate list");
    }
    for (const auto& certificate : certificates) {
        if (sk_X509_push(stack_, certificate.get()) == 0) {
            sk_X509_free(stack_);
            throw_openssl("failed to build a certificate list");
        }
    }
}

CertificateStack::~CertificateStack() {
    sk_X509_free(stack_);
}

void throw_openssl(const std::string& what) {
    throw Error(openssl_message(what));
}

Bio memory_bio(std::string_view data) {
    Bio bio(BIO_new_mem_buf(data.data(), static_cast<int>(data.size())));
    if (!bio) {
        throw_openssl("failed to allocate a memory BIO");
    }
    return bio;
}

Bio output_bio() {
    Bio bio(BIO_new(BIO_s_mem()));
    if (!bio) {
        throw_openssl("failed to allocate a memory BIO");
    }
    return bio;
}

std::string bio_contents(BIO* bio) {
    char* data = nullptr;
    long size = BIO_get_mem_data(bio, &data);
    return size > 0 ? std::string(data, static_cast<size_t>(size)) : std::string();
}

} // namespace ksx::sign
