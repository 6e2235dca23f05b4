// A release's SHA256SUMS as `prefetch` reads it from the release server, and the image names in
// it as the one name rule (contract/image_name.hpp) splits them.
#include "contract/image_name.hpp"
#include "contract/sha256sums.hpp"
#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    auto text = ksx::fuzz::as_text(data, size);
    ksx::fuzz::refusals_expected([&] {
        for (const auto& sum : ksx::contract::parse_sha256sums(text)) {
            if (auto name = ksx::contract::parse_image_name(sum.file)) {
                // The rule holds both ways: a parsed name formats back to the same file name.
                if (name->file_name() != sum.file) {
                    __builtin_trap();
                }
            }
        }
    });
    ksx::contract::parse_image_name(text);
    return 0;
}
