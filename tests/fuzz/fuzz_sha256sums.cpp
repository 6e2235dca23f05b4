// A release's SHA256SUMS as `prefetch` reads it from the release server, and the image names in
// it as the one name rule (contract/image_name.hpp) splits them.
#include "activator/prefetch.hpp"
#include "contract/image_name.hpp"
#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    auto text = ksx::fuzz::as_text(data, size);
    ksx::fuzz::refusals_expected([&] {
        for (const auto& [sha256, file] : ksx::activator::parse_sha256sums(std::string(text))) {
            if (auto name = ksx::contract::parse_image_name(file)) {
                // The rule holds both ways: a parsed name formats back to the same file name.
                if (name->file_name() != file) {
                    __builtin_trap();
                }
            }
        }
    });
    ksx::contract::parse_image_name(text);
    return 0;
}
