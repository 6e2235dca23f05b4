// A release's index.json: as `prefetch` reads it from the release server (the activator's own
// JSON reader), and as `ignition` reads a release directory (nlohmann-json).
#include "contract/release_index.hpp"
#include "fuzz_support.hpp"
#include "ignition/node_config.hpp"
#include "util/temp_dir.hpp"

#include <fstream>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    auto text = ksx::fuzz::as_text(data, size);
    ksx::fuzz::refusals_expected([&] { ksx::contract::parse_release_index(text); });

    // In memory (/dev/shm): the release directory `ignition` reads.
    static const ksx::TempDir release("ksx-fuzz-release", "/dev/shm");
    std::ofstream(release.path() / "index.json", std::ios::binary | std::ios::trunc) << text;
    ksx::fuzz::refusals_expected([&] {
        std::vector<std::string> warnings;
        ksx::ignition::NodeOptions options;
        options.base_url = "https://example.org/release";
        ksx::ignition::node_config_from_release(release.path(), options, warnings);
    });
    return 0;
}
