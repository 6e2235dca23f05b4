// The dm-verity hash tree: byte for byte what `veritysetup format` writes for the same salt
// and UUID, for any number of threads, and the superblock read back.
#include "sign/verity.hpp"
#include "sign_fixture.hpp"
#include "util/error.hpp"
#include "util/sha256.hpp"

#include <doctest/doctest.h>

namespace fs = std::filesystem;
using namespace ksx;
using namespace ksx::sign;
using ksx::test::random_data;
using ksx::test::write_data;

namespace {

struct Reference {
    std::string hash_file;
    std::string root_hash; // hex
};

Reference veritysetup(const fs::path& data, const Salt& salt, const Uuid& uuid) {
    auto hash = fs::absolute("sign-reference.verity");
    fs::remove(hash);
    auto output = test::run_sign_tool(
        {"veritysetup", "format", "--hash=sha256", "--format=1", "--data-block-size=4096",
         "--hash-block-size=4096",
         "--salt=" + to_hex(std::string_view(reinterpret_cast<const char*>(salt.data()), 32)),
         "--uuid=" + format_uuid(uuid), data.string(), hash.string()});
    auto at = output.find("Root hash:");
    REQUIRE(at != std::string::npos);
    auto line = output.substr(at + 10, output.find('\n', at) - at - 10);
    line.erase(0, line.find_first_not_of(" \t"));
    return {read_file(hash), line};
}

} // namespace

TEST_CASE("the hash tree equals veritysetup format's for one to several levels") {
    // 1 block (no level), 2, 128 (one full hash block), 129 (two level-0 blocks), and
    // 128*128+1 (three levels).
    for (size_t blocks :
         {size_t{1}, size_t{2}, size_t{128}, size_t{129}, size_t{1000}, size_t{128 * 128 + 1}}) {
        CAPTURE(blocks);
        auto data = fs::absolute("sign-data.img");
        write_data(data, random_data(blocks * 4096, static_cast<unsigned>(blocks)));
        auto salt = salt_from_hex(sha256_file_hex(data));
        auto uuid = uuid_from_salt(salt);
        auto reference = veritysetup(data, salt, uuid);
        for (unsigned threads : {1u, 2u, 7u}) {
            CAPTURE(threads);
            VerityParams params{salt, uuid, threads};
            auto tree = compute_verity(data, params);
            CHECK(to_hex(tree.root_hash) == reference.root_hash);
            CHECK(tree.hash_file.size() == reference.hash_file.size());
            CHECK(tree.hash_file == reference.hash_file);
        }
    }
}

TEST_CASE("write_verity writes the hash file and returns the hex root hash") {
    auto data = fs::absolute("sign-small.img");
    write_data(data, random_data(3 * 4096, 9));
    auto salt = salt_from_hex(sha256_file_hex(data));
    VerityParams params{salt, uuid_from_salt(salt), 2};
    auto root = write_verity(data, "sign-small.verity", params);
    auto reference = veritysetup(data, salt, params.uuid);
    CHECK(root == reference.root_hash);
    CHECK(read_file("sign-small.verity") == reference.hash_file);
}

TEST_CASE("the UUID is derived from the salt with version 4 and variant bits") {
    auto salt = salt_from_hex(std::string(64, 'a'));
    auto uuid = uuid_from_salt(salt);
    auto text = format_uuid(uuid);
    CHECK(text.size() == 36);
    CHECK(text[14] == '4');
    CHECK(std::string("89ab").find(text[19]) != std::string::npos);
    CHECK(uuid_from_salt(salt) == uuid);
    CHECK(uuid_from_salt(salt_from_hex(std::string(64, 'b'))) != uuid);
}

TEST_CASE("a superblock survives encoding and decoding") {
    VeritySuperblock sb;
    sb.uuid = uuid_from_salt(Salt{});
    sb.data_blocks = 12345;
    sb.salt = std::string(32, '\x5a');
    auto bytes = encode_superblock(sb);
    CHECK(bytes.size() == 512);
    CHECK(bytes.starts_with(std::string("verity\0\0", 8)));
    auto back = decode_superblock(bytes);
    CHECK(back.data_blocks == 12345);
    CHECK(back.uuid == sb.uuid);
    CHECK(back.salt == sb.salt);
    CHECK(back.algorithm == "sha256");
}

TEST_CASE("a foreign superblock and a misaligned data file are input errors") {
    VeritySuperblock sb;
    sb.algorithm = "sha1";
    CHECK_THROWS_WITH_AS(decode_superblock(encode_superblock(sb)),
                         "unsupported verity superblock (version 1, hash type 1, sha1, blocks "
                         "4096/4096; expected 1, 1, sha256, 4096/4096)",
                         InputError);
    CHECK_THROWS_WITH_AS(decode_superblock(std::string(512, '\0')), "no verity superblock",
                         InputError);
    write_data("sign-odd.img", "12345");
    CHECK_THROWS_AS(compute_verity("sign-odd.img", VerityParams{}), InputError);
    CHECK_THROWS_AS(salt_from_hex("XYZ"), Error);
}
