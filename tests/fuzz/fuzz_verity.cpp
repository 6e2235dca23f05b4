// dm-verity hash files: the superblock as `verify` and the activator's `select` decode and check
// it, then the whole file against a one-block image (trust/verity_tree.hpp, both sides' check).
#include "fuzz_support.hpp"
#include "trust/verity_tree.hpp"

#include <string>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    auto bytes = ksx::fuzz::as_text(data, size);
    ksx::fuzz::refusals_expected([&] { ksx::trust::decode_superblock(bytes); });
    ksx::trust::superblock_problem(bytes.substr(0, ksx::trust::verity_block_size),
                                   ksx::trust::verity_block_size);
    // The seeds' image: one block of zeros.
    static const ksx::fuzz::MemoryFile image(std::string(ksx::trust::verity_block_size, '\0'));
    ksx::fuzz::MemoryFile verity(bytes);
    ksx::fuzz::refusals_expected(
        [&] { ksx::trust::check_verity_tree(image.fd(), "fuzz.raw", verity.fd(), "fuzz.verity"); });
    return 0;
}
