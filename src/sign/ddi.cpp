#include "sign/ddi.hpp"

#include "sign/roothash_signature.hpp"
#include "sign/verity.hpp"
#include "util/atomic_file.hpp"
#include "util/error.hpp"
#include "util/sha256.hpp"
#include "util/temp_dir.hpp"

#include <algorithm>
#include <array>
#include <nlohmann/json.hpp>
#include <openssl/evp.h>

namespace ksx::sign {

namespace fs = std::filesystem;

namespace {

struct ArchitectureTypes {
    std::string_view architecture;
    std::string_view usr, verity, signature;
};

// From the Discoverable Partitions Specification.
constexpr std::array architecture_types{
    ArchitectureTypes{"x86-64", "8484680c-9521-48c6-9c11-b0720656f69e",
                      "77ff5f63-e7b6-4633-acf4-1565b864c0e6",
                      "e7bb33fb-06cf-4e81-8273-e543b413e2e2"},
    ArchitectureTypes{"arm64", "b0e01050-ee5f-4390-949a-9101b17104e9",
                      "6e11a4e7-fbca-4ded-b9e9-e1a512bb664e",
                      "c23ce4ff-44bd-4b00-b2d4-b41b3419e02a"},
};

constexpr std::uint64_t read_only = std::uint64_t{1} << 60;
constexpr std::uint64_t max_signature_partition = 1 << 20;

// A version 4 UUID from SHA-256(label + root hash), for the identifiers the specification
// leaves free (the disk and the signature partition): the same image gets the same ones.
Guid derived_guid(std::string_view label, std::string_view root_hash_hex) {
    auto digest = sha256_hex(std::string(label) + std::string(root_hash_hex));
    auto guid =
        parse_guid(digest.substr(0, 8) + "-" + digest.substr(8, 4) + "-" + digest.substr(12, 4) +
                   "-" + digest.substr(16, 4) + "-" + digest.substr(20, 12));
    guid[6] = static_cast<unsigned char>((guid[6] & 0x0f) | 0x40);
    guid[8] = static_cast<unsigned char>((guid[8] & 0x3f) | 0x80);
    return guid;
}

Guid half_of(std::string_view root_hash_hex, bool first) {
    auto hex =
        first ? root_hash_hex.substr(0, 32) : root_hash_hex.substr(root_hash_hex.size() - 32);
    return parse_guid(std::string(hex.substr(0, 8)) + "-" + std::string(hex.substr(8, 4)) + "-" +
                      std::string(hex.substr(12, 4)) + "-" + std::string(hex.substr(16, 4)) + "-" +
                      std::string(hex.substr(20, 12)));
}

std::string base64(std::string_view bytes) {
    std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
    int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                            reinterpret_cast<const unsigned char*>(bytes.data()),
                            static_cast<int>(bytes.size()));
    out.resize(static_cast<size_t>(n));
    return out;
}

// Strict: only the canonical encoding of some bytes is accepted.
std::optional<std::string> unbase64(std::string_view text) {
    if (text.empty() || text.size() % 4 != 0) {
        return std::nullopt;
    }
    std::string out(text.size() / 4 * 3, '\0');
    int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                            reinterpret_cast<const unsigned char*>(text.data()),
                            static_cast<int>(text.size()));
    if (n < 0) {
        return std::nullopt;
    }
    size_t padding = text.ends_with("==") ? 2 : text.ends_with("=") ? 1 : 0;
    out.resize(static_cast<size_t>(n) - padding);
    if (base64(out) != text) {
        return std::nullopt;
    }
    return out;
}

} // namespace

std::optional<DdiTypes> ddi_types(std::string_view architecture) {
    for (const auto& t : architecture_types) {
        if (t.architecture == architecture) {
            return DdiTypes{parse_guid(t.usr), parse_guid(t.verity), parse_guid(t.signature)};
        }
    }
    return std::nullopt;
}

std::string signature_partition(std::string_view root_hash_hex, std::string_view fingerprint_hex,
                                std::string_view signature_der) {
    nlohmann::json object{{"rootHash", root_hash_hex},
                          {"certificateFingerprint", fingerprint_hex},
                          {"signature", base64(signature_der)}};
    auto text = object.dump();
    text.resize((text.size() / verity_block_size + 1) * verity_block_size, '\0');
    return text;
}

std::string write_ddi(const fs::path& usr_squashfs, std::string_view usr_sha256_hex,
                      const fs::path& output, std::string_view architecture, const Signer& signer,
                      unsigned threads) {
    auto types = ddi_types(architecture);
    if (!types) {
        throw InputError("image.format ddi: no partition types for architecture \"" +
                         std::string(architecture) + "\" (x86-64 and arm64 have them)");
    }
    TempDir work(".ksx-ddi-", output.parent_path());
    VerityParams params;
    params.salt = salt_from_hex(usr_sha256_hex);
    params.uuid = uuid_from_salt(params.salt);
    params.threads = threads;
    auto hash_file = work.path() / "usr-verity";
    auto root_hash = write_verity(usr_squashfs, hash_file, params);
    auto signature_file = work.path() / "usr-verity-sig";
    write_file_atomic(signature_file,
                      signature_partition(root_hash,
                                          certificate_fingerprint(signer.certificate.get()),
                                          sign_root_hash(root_hash, signer)));
    const std::string arch(architecture);
    GptDisk disk;
    disk.disk_uuid = derived_guid("kmod-sysext ddi disk ", root_hash);
    disk.partitions.push_back(
        {types->usr, half_of(root_hash, true), "usr-" + arch, read_only, 0, 0, usr_squashfs});
    disk.partitions.push_back({types->verity, half_of(root_hash, false), "usr-" + arch + "-verity",
                               read_only, 0, 0, hash_file});
    disk.partitions.push_back({types->signature,
                               derived_guid("kmod-sysext ddi usr-verity-sig ", root_hash),
                               "usr-" + arch + "-verity-sig", read_only, 0, 0, signature_file});
    write_gpt_image(disk, output);
    return root_hash;
}

Ddi read_ddi(const fs::path& image) {
    Ddi ddi;
    ddi.disk = read_gpt(image);
    auto fail = [&](const std::string& what) { return InputError(image.string() + ": " + what); };
    int found = 0;
    for (const auto& p : ddi.disk.partitions) {
        for (const auto& t : architecture_types) {
            GptPartition* slot = nullptr;
            if (p.type == parse_guid(t.usr)) {
                slot = &ddi.usr;
            } else if (p.type == parse_guid(t.verity)) {
                slot = &ddi.verity;
            } else if (p.type == parse_guid(t.signature)) {
                slot = &ddi.signature;
            } else {
                continue;
            }
            if (slot->sectors != 0) {
                throw fail("more than one " + p.name + " partition");
            }
            if (!ddi.architecture.empty() && ddi.architecture != t.architecture) {
                throw fail("partitions of two architectures (" + ddi.architecture + ", " +
                           std::string(t.architecture) + ")");
            }
            ddi.architecture = t.architecture;
            *slot = p;
            ++found;
        }
    }
    if (ddi.usr.sectors == 0 || ddi.verity.sectors == 0 || ddi.signature.sectors == 0 ||
        found != static_cast<int>(ddi.disk.partitions.size())) {
        throw fail("expected exactly a usr, a usr-verity and a usr-verity-sig partition");
    }
    if (ddi.signature.size() > max_signature_partition) {
        throw fail("usr-verity-sig partition is larger than 1 MiB");
    }
    // Every byte outside the tables and partitions is zero, so none can change unnoticed.
    std::vector<std::pair<std::uint64_t, std::uint64_t>> used;
    for (const auto& p : ddi.disk.partitions) {
        used.emplace_back(p.offset(), p.offset() + p.size());
    }
    std::sort(used.begin(), used.end());
    std::uint64_t at = 34 * gpt_sector;
    auto check_zero = [&](std::uint64_t from, std::uint64_t to) {
        if (to <= from) {
            return;
        }
        auto gap = read_range(image, from, to - from);
        if (gap.find_first_not_of('\0') != std::string::npos) {
            throw fail("non-zero bytes between partitions at byte " +
                       std::to_string(from + gap.find_first_not_of('\0')));
        }
    };
    for (const auto& [from, to] : used) {
        if (from < at) {
            throw fail("partitions overlap");
        }
        check_zero(at, from);
        at = to;
    }
    check_zero(at, ddi.disk.size - 33 * gpt_sector);

    auto bytes = read_range(image, ddi.signature.offset(), ddi.signature.size());
    auto end = bytes.find('\0');
    if (end == std::string::npos || bytes.find_first_not_of('\0', end) != std::string::npos) {
        throw fail("usr-verity-sig partition is not a JSON object padded with NUL bytes");
    }
    nlohmann::json object;
    try {
        object = nlohmann::json::parse(bytes.substr(0, end));
    } catch (const nlohmann::json::exception& e) {
        throw fail(std::string("usr-verity-sig partition: ") + e.what());
    }
    auto text_field = [&](const char* key, bool required) -> std::string {
        if (!object.is_object() || !object.contains(key)) {
            if (required) {
                throw fail(std::string("usr-verity-sig partition: no \"") + key + "\"");
            }
            return {};
        }
        if (!object[key].is_string()) {
            throw fail(std::string("usr-verity-sig partition: \"") + key + "\" is not a string");
        }
        return object[key].get<std::string>();
    };
    ddi.root_hash = text_field("rootHash", true);
    ddi.certificate_fingerprint = text_field("certificateFingerprint", false);
    auto der = unbase64(text_field("signature", true));
    if (!der) {
        throw fail("usr-verity-sig partition: \"signature\" is not canonical base64");
    }
    ddi.signature_der = *der;
    return ddi;
}

} // namespace ksx::sign
