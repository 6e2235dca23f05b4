// Little-endian integers in on-disk structures (verity superblocks, GPT headers and entries).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace ksx {

// Writes the low `bytes` bytes of `value` at `offset` of `out`, least significant first.
inline void put_le(std::string& out, size_t offset, std::uint64_t value, size_t bytes) {
    for (size_t i = 0; i < bytes; ++i) {
        out[offset + i] = static_cast<char>((value >> (8 * i)) & 0xff);
    }
}

// Reads `bytes` bytes at `offset` of `in` as a little-endian integer.
inline std::uint64_t get_le(std::string_view in, size_t offset, size_t bytes) {
    std::uint64_t value = 0;
    for (size_t i = 0; i < bytes; ++i) {
        value |= std::uint64_t{static_cast<unsigned char>(in[offset + i])} << (8 * i);
    }
    return value;
}

} // namespace ksx
