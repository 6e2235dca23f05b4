// GPT disk images and signed DDIs: the partition table as util-linux's partx and blkid read
// it, the usr/usr-verity/usr-verity-sig layout of the Discoverable Partitions Specification,
// and a table read back strictly (every changed byte of the tables refused).
#include "image/squashfs_writer.hpp"
#include "sign/ddi.hpp"
#include "sign/gpt.hpp"
#include "sign/roothash_signature.hpp"
#include "sign/verity.hpp"
#include "sign_fixture.hpp"
#include "util/error.hpp"
#include "util/sha256.hpp"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

namespace fs = std::filesystem;
using namespace ksx;
using namespace ksx::sign;
using ksx::test::keygen_pair;
using ksx::test::random_data;
using ksx::test::write_data;

namespace {

// A squashfs of a small /usr tree, as the usr partition holds it.
fs::path usr_squashfs(const std::string& name) {
    image::Tree tree;
    tree.add_file_content("lib/extension-release.d/extension-release.demo", "ID=_any\n");
    tree.add_file_content("lib/modules/6.1.0-test-amd64/extra/demo/a.ko", random_data(9000, 1));
    image::WriteOptions options;
    options.mtime = 1;
    auto path = fs::absolute(name);
    image::write_squashfs(tree, path, options);
    return path;
}

Signer rsa_signer() {
    const auto& keys = keygen_pair(KeyAlgorithm::Rsa4096);
    return load_signer(keys.key, keys.cert_pem);
}

// partx's view: one "START SECTORS TYPE UUID NAME FLAGS" line per partition.
std::string partx(const fs::path& image) {
    auto table = test::run_sign_tool({"partx", "--show", "--noheadings", "-o",
                                      "START,SECTORS,TYPE,UUID,NAME,FLAGS", image.string()});
    // Columns are aligned with blanks: one blank between fields, none around a line.
    std::string out;
    bool blank = true;
    for (char c : table) {
        if (c == ' ') {
            blank = true;
            continue;
        }
        if (blank && !out.empty() && out.back() != '\n' && c != '\n') {
            out += ' ';
        }
        blank = false;
        out += c;
    }
    return out;
}

} // namespace

TEST_CASE("CRC32 and GUID byte order are GPT's") {
    CHECK(crc32("123456789") == 0xcbf43926u);
    CHECK(crc32("") == 0u);
    auto guid = parse_guid("8484680c-9521-48c6-9c11-b0720656f69e");
    auto disk = guid_to_disk(guid);
    CHECK(std::vector<unsigned char>(disk.begin(), disk.begin() + 8) ==
          std::vector<unsigned char>{0x0c, 0x68, 0x84, 0x84, 0x21, 0x95, 0xc6, 0x48});
    CHECK(guid_from_disk(disk.data()) == guid);
    CHECK(format_guid(guid) == "8484680c-9521-48c6-9c11-b0720656f69e");
    CHECK_THROWS_AS(parse_guid("8484680c-9521-48c6-9c11-b0720656f69"), InputError);
    CHECK_THROWS_AS(parse_guid("8484680c-9521-48c6-9c11+b0720656f69e"), InputError);
}

TEST_CASE("a GPT image is what partx and blkid read, and reads back the same") {
    write_data("part-a", random_data(5000, 2));
    write_data("part-b", random_data(4096, 3));
    GptDisk disk;
    disk.disk_uuid = parse_guid("01234567-89ab-4def-8123-456789abcdef");
    disk.partitions.push_back({parse_guid("0fc63daf-8483-4772-8e79-3d69d8477de4"),
                               parse_guid("11111111-2222-4333-8444-555555555555"), "first",
                               std::uint64_t{1} << 60, 0, 0, fs::absolute("part-a")});
    disk.partitions.push_back({parse_guid("0fc63daf-8483-4772-8e79-3d69d8477de4"),
                               parse_guid("66666666-7777-4888-9999-aaaaaaaaaaaa"), "second", 0, 0,
                               0, fs::absolute("part-b")});
    write_gpt_image(disk, "disk.img");
    CHECK(fs::file_size("disk.img") == disk.size);
    CHECK(disk.partitions[0].first_lba == 40);
    CHECK(disk.partitions[0].sectors == 16);
    CHECK(disk.partitions[1].first_lba == 56);
    CHECK(partx("disk.img") ==
          "40 16 0fc63daf-8483-4772-8e79-3d69d8477de4 11111111-2222-4333-8444-555555555555 first "
          "0x1000000000000000\n"
          "56 8 0fc63daf-8483-4772-8e79-3d69d8477de4 66666666-7777-4888-9999-aaaaaaaaaaaa second "
          "0x0\n");
    auto blkid = test::run_sign_tool({"blkid", "-p", "-o", "export", "disk.img"});
    CHECK(blkid.find("PTTYPE=gpt\n") != std::string::npos);
    CHECK(blkid.find("PTUUID=01234567-89ab-4def-8123-456789abcdef\n") != std::string::npos);

    auto back = read_gpt("disk.img");
    CHECK(back.disk_uuid == disk.disk_uuid);
    REQUIRE(back.partitions.size() == 2);
    CHECK(back.partitions[0].name == "first");
    CHECK(back.partitions[0].attributes == std::uint64_t{1} << 60);
    CHECK(back.partitions[1].uuid == disk.partitions[1].uuid);
    CHECK(read_range("disk.img", back.partitions[0].offset(), 5000) == read_file("part-a"));
    CHECK(read_range("disk.img", back.partitions[0].offset() + 5000, 3192) ==
          std::string(3192, '\0'));
}

TEST_CASE("every changed byte of the partition tables is refused") {
    write_data("part", random_data(4096, 4));
    GptDisk disk;
    disk.partitions.push_back({parse_guid("0fc63daf-8483-4772-8e79-3d69d8477de4"),
                               parse_guid("11111111-2222-4333-8444-555555555555"), "p", 0, 0, 0,
                               fs::absolute("part")});
    write_gpt_image(disk, "tables.img");
    auto bytes = read_file("tables.img");
    REQUIRE_NOTHROW(read_gpt("tables.img"));
    // The MBR and primary header, and the backup header (the entries are covered by the CRC32).
    std::vector<size_t> offsets;
    for (size_t i = 0; i < 1024; ++i) {
        offsets.push_back(i);
    }
    for (size_t i = bytes.size() - 512; i < bytes.size(); ++i) {
        offsets.push_back(i);
    }
    for (size_t i = 1024; i < 1024 + 16384; i += 97) {
        offsets.push_back(i);
    }
    size_t refused = 0;
    for (auto offset : offsets) {
        auto changed = bytes;
        changed[offset] = static_cast<char>(changed[offset] ^ 0x01);
        write_data("tables-changed.img", changed);
        try {
            read_gpt("tables-changed.img");
        } catch (const InputError&) {
            ++refused;
            continue;
        }
        CAPTURE(offset);
        FAIL("a changed byte was accepted");
    }
    CHECK(refused == offsets.size());
}

TEST_CASE("a signed DDI has the usr, usr-verity and usr-verity-sig partitions systemd expects") {
    auto usr = usr_squashfs("usr.squashfs");
    auto signer = rsa_signer();
    auto image = fs::absolute("demo_1.0_6.1.0-test-amd64.raw");
    auto root_hash = write_ddi(usr, sha256_file_hex(usr), image, "x86-64", signer, 2);
    REQUIRE(root_hash.size() == 64);
    auto halves = [&](size_t at) {
        auto h = root_hash.substr(at, 32);
        return h.substr(0, 8) + "-" + h.substr(8, 4) + "-" + h.substr(12, 4) + "-" +
               h.substr(16, 4) + "-" + h.substr(20, 12);
    };
    auto lines = partx(image);
    CAPTURE(lines);
    CHECK(lines.find(" 8484680c-9521-48c6-9c11-b0720656f69e " + halves(0) + " usr-x86-64 ") !=
          std::string::npos);
    CHECK(lines.find(" 77ff5f63-e7b6-4633-acf4-1565b864c0e6 " + halves(32) +
                     " usr-x86-64-verity ") != std::string::npos);
    CHECK(lines.find(" e7bb33fb-06cf-4e81-8273-e543b413e2e2 ") != std::string::npos);

    auto ddi = read_ddi(image);
    CHECK(ddi.architecture == "x86-64");
    CHECK(ddi.root_hash == root_hash);
    CHECK(read_range(image, ddi.usr.offset(), ddi.usr.size()) == read_file(usr));
    // The hash partition is veritysetup's tree of the usr partition, with its root hash.
    extract_range(image, ddi.verity.offset(), ddi.verity.size(), "usr-verity");
    test::run_sign_tool({"veritysetup", "verify", usr.string(), "usr-verity", root_hash});
    // The signature partition: NUL-padded JSON, the root hash signed as for .roothash.p7s.
    auto sig = read_range(image, ddi.signature.offset(), ddi.signature.size());
    CHECK(sig.size() % 4096 == 0);
    auto object = nlohmann::json::parse(sig.substr(0, sig.find('\0')));
    CHECK(object["rootHash"] == root_hash);
    CHECK(object["certificateFingerprint"] == certificate_fingerprint(signer.certificate.get()));
    CHECK(ddi.signature_der == sign_root_hash(root_hash, signer));
    std::vector<Certificate> trusted;
    trusted.push_back(load_certificate(keygen_pair(KeyAlgorithm::Rsa4096).crt));
    CHECK(check_root_hash_signature(ddi.signature_der, root_hash, trusted).valid);

    // Reproducible: the same usr tree gives the same image.
    auto again = fs::absolute("again.raw");
    write_ddi(usr, sha256_file_hex(usr), again, "x86-64", signer, 1);
    CHECK(read_file(again) == read_file(image));
    CHECK_THROWS_AS(write_ddi(usr, sha256_file_hex(usr), "s390x.raw", "s390x", signer, 1),
                    InputError);
}

TEST_CASE("a DDI whose signature partition or gaps were changed is refused") {
    auto usr = usr_squashfs("usr2.squashfs");
    auto image = fs::absolute("ddi.raw");
    write_ddi(usr, sha256_file_hex(usr), image, "arm64", rsa_signer(), 1);
    auto ddi = read_ddi(image);
    CHECK(ddi.architecture == "arm64");
    auto bytes = read_file(image);
    auto expect_refused = [&](size_t offset, const std::string& message) {
        auto changed = bytes;
        changed[offset] = static_cast<char>(changed[offset] ^ 0x20);
        write_data("ddi-changed.raw", changed);
        CAPTURE(offset);
        CHECK_THROWS_WITH_AS(read_ddi("ddi-changed.raw"), doctest::Contains(message.c_str()),
                             InputError);
    };
    expect_refused(ddi.signature.offset() + ddi.signature.size() - 1, "padded with NUL bytes");
    expect_refused(ddi.signature.offset(), "usr-verity-sig partition: ");
    expect_refused(17408 + 10, "non-zero bytes between partitions");
}
