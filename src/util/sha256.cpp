#include "util/sha256.hpp"

#include "util/error.hpp"
#include "util/file_io.hpp"
#include "util/unique_handle.hpp"

#include <openssl/evp.h>

namespace ksx {

namespace {

using DigestContext = UniqueHandle<EVP_MD_CTX, EVP_MD_CTX_free>;

class Sha256 {
public:
    Sha256() : ctx_(EVP_MD_CTX_new()) {
        if (!ctx_ || EVP_DigestInit_ex(ctx_.get(), EVP_sha256(), nullptr) != 1) {
            throw Error("failed to initialise SHA-256");
        }
    }
    void update(const void* data, size_t size) {
        if (EVP_DigestUpdate(ctx_.get(), data, size) != 1) {
            throw Error("SHA-256 update failed");
        }
    }
    std::string hex() {
        unsigned char digest[EVP_MAX_MD_SIZE];
        unsigned int length = 0;
        if (EVP_DigestFinal_ex(ctx_.get(), digest, &length) != 1) {
            throw Error("SHA-256 final failed");
        }
        static constexpr char digits[] = "0123456789abcdef";
        std::string out;
        for (unsigned int i = 0; i < length; ++i) {
            out += digits[digest[i] >> 4];
            out += digits[digest[i] & 15];
        }
        return out;
    }

private:
    DigestContext ctx_;
};

} // namespace

std::string sha256_hex(std::string_view data) {
    Sha256 sha;
    sha.update(data.data(), data.size());
    return sha.hex();
}

std::string sha256_file_hex(const std::filesystem::path& path) {
    Sha256 sha;
    read_file_chunks(path, [&](std::string_view piece) { sha.update(piece.data(), piece.size()); });
    return sha.hex();
}

} // namespace ksx
