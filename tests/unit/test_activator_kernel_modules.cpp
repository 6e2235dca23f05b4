// The activator's libkmod reading a module file's appended signature (to explain why the kernel
// refused it): on a small ELF object with a .modinfo section, signed here and compressed.
#include "activator/kernel_modules.hpp"
#include "activator_fixture.hpp"
#include "sign/module_compression.hpp"
#include "sign/module_signature.hpp"
#include "sign/signer_identity.hpp"
#include "sign_fixture.hpp"

#include <doctest/doctest.h>

namespace fs = std::filesystem;
using namespace ksx;
using namespace ksx::activator;

namespace {

// A relocatable ELF object with a .modinfo section, as libkmod expects of a module.
fs::path elf_module(const std::string& name) {
    test::write_data(name + ".c", "__attribute__((section(\".modinfo\"), used)) static const "
                                  "char license[] = \"license=GPL\";\n");
    test::run_sign_tool({"cc", "-c", name + ".c", "-o", name + ".ko"});
    return fs::absolute(name + ".ko");
}

} // namespace

TEST_CASE("libkmod reads whether a module file is signed, and by whom") {
    test::ActivatorNode node("node", "6.1.0-test-amd64");
    const auto& context = node.context;
    fs::create_directories(context.root / "lib/modules" / context.kernel);
    auto modules = open_libkmod(context, node.log);

    // Module files are read beneath the root, as the loader finds them on the node.
    auto on_node = [&](const fs::path& file) {
        auto copy = context.root / "usr/lib/m" / file.filename();
        fs::create_directories(copy.parent_path());
        fs::copy_file(file, copy, fs::copy_options::overwrite_existing);
        return copy;
    };
    auto plain = on_node(elf_module("plain"));
    auto unsigned_info = modules->signature_of(plain);
    CHECK(unsigned_info.readable);
    CHECK_FALSE(unsigned_info.is_signed);

    const auto& keys = test::keygen_pair(sign::KeyAlgorithm::Rsa4096);
    auto signer = sign::load_signer(keys.key, keys.cert_pem);
    auto module = elf_module("signed");
    sign::sign_module_file(module, signer, "sha512");
    auto identity = sign::module_signer(read_file(module));
    REQUIRE(identity);
    auto uncompressed = fs::absolute("signed-copy.ko");
    fs::copy_file(module, uncompressed);
    auto compressed = sign::compress_module(module, sign::ModuleCompression::Xz);
    for (const auto& file : {on_node(uncompressed), on_node(compressed)}) {
        CAPTURE(file);
        auto info = modules->signature_of(file);
        CHECK(info.readable);
        CHECK(info.is_signed);
        CHECK(info.signer == "kmod-sysext test");
        CHECK(info.key == identity->serial);
        CHECK(info.hash == "sha512");
    }

    CHECK_FALSE(modules->signature_of(context.root / "usr/lib/m/missing.ko").readable);
    // A module file outside the root is not read.
    CHECK_FALSE(modules->signature_of(uncompressed).readable);
}
