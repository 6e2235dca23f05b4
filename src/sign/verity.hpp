// dm-verity hash trees for image files: the format and the tree are trust/verity_tree.hpp's
// (shared with the activator); this names them for the builder and writes the hash file.
#pragma once

#include "trust/verity_tree.hpp"

#include <filesystem>
#include <string>

namespace ksx::sign {

using trust::decode_superblock;
using trust::encode_superblock;
using trust::format_uuid;
using trust::Salt;
using trust::salt_from_hex;
using trust::to_hex;
using trust::Uuid;
using trust::uuid_from_salt;
using trust::verity_block_size;
using trust::verity_superblock_size;
using trust::VerityParams;
using trust::VeritySuperblock;
using trust::VerityTree;

// Computes the tree of the file `data` (whose size must be a multiple of 4096 bytes).
VerityTree compute_verity(const std::filesystem::path& data, const VerityParams& params);

// Computes the tree and writes it to `hash_file` atomically; returns the root hash as hex.
std::string write_verity(const std::filesystem::path& data, const std::filesystem::path& hash_file,
                         const VerityParams& params);

} // namespace ksx::sign
