#include "util/sha256.hpp"

#include "util/error.hpp"
#include "util/file_io.hpp"

namespace ksx {

Sha256Stream::Sha256Stream() : ctx_(EVP_MD_CTX_new()) {
    if (!ctx_) {
        throw_error("out of memory creating a SHA-256 context", {});
    }
    reset();
}

void Sha256Stream::reset() {
    if (EVP_DigestInit_ex(ctx_.get(), EVP_sha256(), nullptr) != 1) {
        throw_error("failed to initialise SHA-256", {});
    }
}

void Sha256Stream::update(std::string_view data) {
    if (EVP_DigestUpdate(ctx_.get(), data.data(), data.size()) != 1) {
        throw_error("failed to update SHA-256", {});
    }
}

std::string Sha256Stream::hex() const {
    // Finalising consumes a context: finish a copy so this one can take more data.
    UniqueHandle<EVP_MD_CTX, EVP_MD_CTX_free> copy(EVP_MD_CTX_new());
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned length = 0;
    if (!copy || EVP_MD_CTX_copy_ex(copy.get(), ctx_.get()) != 1 ||
        EVP_DigestFinal_ex(copy.get(), digest, &length) != 1) {
        throw_error("failed to finish SHA-256", {});
    }
    static constexpr char digits[] = "0123456789abcdef";
    std::string out;
    out.reserve(length * 2);
    for (unsigned i = 0; i < length; ++i) {
        out += digits[digest[i] >> 4];
        out += digits[digest[i] & 0xf];
    }
    return out;
}

std::string sha256_hex(std::string_view data) {
    Sha256Stream sha;
    sha.update(data);
    return sha.hex();
}

std::string sha256_file_hex(const std::filesystem::path& path) {
    Sha256Stream sha;
    read_file_chunks(path, [&](std::string_view piece) { sha.update(piece); });
    return sha.hex();
}

} // namespace ksx
