// The builder's squashfs reader (libsquashfs): `inspect`, `verify` and `publish` read images
// back, also images that someone else built.
#include "fuzz_support.hpp"
#include "image/squashfs_reader.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    ksx::fuzz::MemoryFile image(ksx::fuzz::as_text(data, size));
    ksx::fuzz::refusals_expected([&] {
        auto info = ksx::image::read_image_info(image.path());
        int files = 0;
        for (const auto& entry : info.entries) {
            if (entry.type == 'f' && entry.size <= 64 * 1024 && files++ < 8) {
                ksx::fuzz::refusals_expected(
                    [&] { ksx::image::read_image_file(image.path(), entry.path); });
            }
        }
    });
    ksx::fuzz::refusals_expected([&] {
        ksx::image::read_image_file(image.path(),
                                    "usr/lib/extension-release.d/extension-release.fuzz");
    });
    return 0;
}
