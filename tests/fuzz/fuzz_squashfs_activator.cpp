// The activator's own squashfs reader (read_squashfs_file), which `select` runs on images from the
// store before anything has checked them when no signature is required.
#include "activator/squashfs_file.hpp"
#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    ksx::fuzz::MemoryFile image(ksx::fuzz::as_text(data, size));
    for (const char* path : {"usr/lib/extension-release.d/extension-release.fuzz",
                             "usr/lib/kmod-sysext/fuzz/modules.load"}) {
        ksx::fuzz::refusals_expected(
            [&] { ksx::activator::read_squashfs_file(image.path(), path, 64 * 1024); });
    }
    return 0;
}
