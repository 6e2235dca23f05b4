// SHA-256 digests (OpenSSL EVP), as lower-case hex.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

namespace ksx {

std::string sha256_hex(std::string_view data);
std::string sha256_file_hex(const std::filesystem::path& path);

} // namespace ksx
