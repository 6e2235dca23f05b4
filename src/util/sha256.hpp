// SHA-256 digests (OpenSSL EVP), as lower-case hex.
#pragma once

#include "util/unique_handle.hpp"

#include <filesystem>
#include <openssl/evp.h>
#include <string>
#include <string_view>

namespace ksx {

// A digest computed piece by piece (a download is hashed while it is written).
class Sha256Stream {
public:
    Sha256Stream();
    void update(std::string_view data);
    // Starts over, as if nothing had been hashed.
    void reset();
    // The digest of everything so far as lower-case hex; the stream can keep going.
    std::string hex() const;

private:
    UniqueHandle<EVP_MD_CTX, EVP_MD_CTX_free> ctx_;
};

std::string sha256_hex(std::string_view data);
std::string sha256_file_hex(const std::filesystem::path& path);

} // namespace ksx
