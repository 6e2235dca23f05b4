// Owners of OpenSSL objects and the error text OpenSSL queued for a failed call.
#pragma once

#include "trust/openssl_error.hpp"
#include "util/unique_handle.hpp"

#include <openssl/bio.h>
#include <openssl/cms.h>
#include <openssl/evp.h>
#include <openssl/pkcs7.h>
#include <openssl/x509.h>
#include <string>
#include <string_view>
#include <vector>

namespace ksx::sign {

using Pkey = UniqueHandle<EVP_PKEY, EVP_PKEY_free>;
using PkeyContext = UniqueHandle<EVP_PKEY_CTX, EVP_PKEY_CTX_free>;
using Certificate = UniqueHandle<X509, X509_free>;
using Bio = UniqueHandle<BIO, BIO_free_all>;
using Cms = UniqueHandle<CMS_ContentInfo, CMS_ContentInfo_free>;
using Pkcs7 = UniqueHandle<PKCS7, PKCS7_free>;
using DigestContext = UniqueHandle<EVP_MD_CTX, EVP_MD_CTX_free>;
using Digest = UniqueHandle<EVP_MD, EVP_MD_free>;
using Extension = UniqueHandle<X509_EXTENSION, X509_EXTENSION_free>;
using Name = UniqueHandle<X509_NAME, X509_NAME_free>;

// A STACK_OF(X509) that borrows its certificates (they stay owned by the caller).
class CertificateStack {
public:
    explicit CertificateStack(const std::vector<Certificate>& certificates);
    CertificateStack(const CertificateStack&) = delete;
    CertificateStack& operator=(const CertificateStack&) = delete;
    ~CertificateStack();
    STACK_OF(X509) * get() const { return stack_; }

private:
    STACK_OF(X509) * stack_;
};

// "what: <OpenSSL's queued errors>", clearing the queue.
using trust::openssl_message;

// Throws Error(openssl_message(what)).
[[noreturn]] void throw_openssl(const std::string& what);

// A read-only memory BIO over `data` (which must outlive it).
Bio memory_bio(std::string_view data);

// A new, empty, writable memory BIO.
Bio output_bio();

// Everything written to a memory BIO.
std::string bio_contents(BIO* bio);

} // namespace ksx::sign
