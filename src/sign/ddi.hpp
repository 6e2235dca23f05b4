// Signed Discoverable Disk Images of a /usr tree (systemd's Discoverable Partitions
// Specification): a GPT with a usr partition (the squashfs, whose root is /usr), usr-verity
// (its dm-verity hash tree, veritysetup's format) and usr-verity-sig (the JSON object
// {"rootHash", "certificateFingerprint", "signature"} NUL-padded to a multiple of 4096 bytes).
// As systemd-repart does, the usr partition's UUID is the first 128 bits of the root hash and
// usr-verity's the last 128 bits, so the root hash finds both.
#pragma once

#include "sign/gpt.hpp"
#include "sign/keys.hpp"

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace ksx::sign {

// The usr, usr-verity and usr-verity-sig partition type GUIDs of one architecture.
struct DdiTypes {
    Guid usr;
    Guid verity;
    Guid signature;
};

// The types for a systemd architecture name ("x86-64", "arm64"); nothing for others.
std::optional<DdiTypes> ddi_types(std::string_view architecture);

// Writes the signed DDI of `usr_squashfs` (a squashfs of the /usr tree whose size is a multiple
// of 4096; `usr_sha256_hex` its SHA-256, the verity salt) to `output` atomically; returns the
// root hash (hex). Throws InputError for an architecture without DDI partition types.
std::string write_ddi(const std::filesystem::path& usr_squashfs, std::string_view usr_sha256_hex,
                      const std::filesystem::path& output, std::string_view architecture,
                      const Signer& signer, unsigned threads);

// A DDI read back: its three partitions and what the signature partition says.
struct Ddi {
    GptDisk disk;
    std::string architecture; // from the partition types
    GptPartition usr;
    GptPartition verity;
    GptPartition signature;
    std::string root_hash;               // "rootHash"
    std::string certificate_fingerprint; // "certificateFingerprint" (may be empty)
    std::string signature_der;           // "signature", base64-decoded
};

// Reads a DDI; throws InputError naming what is wrong: the partition table, a missing or
// repeated usr, usr-verity or usr-verity-sig partition, mixed architectures, or a signature
// partition that is not the JSON object padded with NULs.
Ddi read_ddi(const std::filesystem::path& image);

// The JSON object of a signature partition, padded with NULs to a multiple of 4096 bytes.
std::string signature_partition(std::string_view root_hash_hex, std::string_view fingerprint_hex,
                                std::string_view signature_der);

} // namespace ksx::sign
