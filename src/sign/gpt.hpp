// GUID partition tables: writing a disk image from partitions given as files, and reading one
// back with every check a partition table reader makes (signatures, CRC32s, both copies).
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace ksx::sign {

inline constexpr std::uint64_t gpt_sector = 512;

// A GUID as 16 bytes in the order of its text form ("8484680c-9521-..." -> 84 84 68 0c ...).
using Guid = std::array<unsigned char, 16>;

// Parses "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx"; throws InputError when malformed.
Guid parse_guid(std::string_view text);

// The lower-case text form.
std::string format_guid(const Guid& guid);

// GPT's on-disk byte order: the first three fields little-endian, the rest as they are.
std::array<unsigned char, 16> guid_to_disk(const Guid& guid);
Guid guid_from_disk(const unsigned char* bytes);

// The CRC32 (IEEE 802.3, as zlib computes it) GPT headers and entry arrays carry.
std::uint32_t crc32(std::string_view data);

struct GptPartition {
    Guid type{};
    Guid uuid{};
    std::string name;             // ASCII, at most 36 characters
    std::uint64_t attributes = 0; // bit 60: read-only
    std::uint64_t first_lba = 0;  // set by write_gpt_image / read_gpt
    std::uint64_t sectors = 0;    // set by write_gpt_image / read_gpt
    std::filesystem::path source; // write_gpt_image: the partition's contents
    std::uint64_t offset() const { return first_lba * gpt_sector; }
    std::uint64_t size() const { return sectors * gpt_sector; }
};

struct GptDisk {
    Guid disk_uuid{};
    std::vector<GptPartition> partitions; // in table order
    std::uint64_t size = 0;               // bytes
};

// Writes `disk` to `output` atomically: protective MBR, primary header and 128 entries, each
// partition's source (its size padded with zeros to a multiple of 4096) at the next 4096-byte
// boundary, then the backup entries and header. Fills in first_lba, sectors and size.
void write_gpt_image(GptDisk& disk, const std::filesystem::path& output);

// Reads the partition table of `image` strictly (as write_gpt_image writes it: the protective
// MBR byte for byte, zeros after each header); throws InputError naming what is wrong (no
// GPT, a CRC32 that does not match, backup differing from primary, partitions outside the
// usable sectors).
GptDisk read_gpt(const std::filesystem::path& image);

// True when the image starts with a protective MBR and a GPT header ("EFI PART" at 512).
bool has_gpt(const std::filesystem::path& image);

// The `size` bytes at `offset` of `image`; InputError when the file is shorter.
std::string read_range(const std::filesystem::path& image, std::uint64_t offset,
                       std::uint64_t size);

// Copies `size` bytes at `offset` of `image` into `output`.
void extract_range(const std::filesystem::path& image, std::uint64_t offset, std::uint64_t size,
                   const std::filesystem::path& output);

} // namespace ksx::sign
