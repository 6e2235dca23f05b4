// The manifest loader (manifest::parse): YAML from the user, positioned errors for bad input.
#include "fuzz_support.hpp"
#include "manifest/manifest.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    // Paths in the manifest resolve below a directory that does not exist: nothing is read.
    ksx::fuzz::refusals_expected([&] {
        auto manifest = ksx::manifest::parse(std::string(ksx::fuzz::as_text(data, size)),
                                             "/nonexistent/kmod-sysext-fuzz/manifest.yaml");
        for (std::size_t i = 0; i < manifest.targets.size(); ++i) {
            ksx::manifest::with_target(manifest, i);
        }
    });
    return 0;
}
