// An image's modules.load as the activator reads it on the node (load order, dependencies).
#include "contract/modules_load.hpp"
#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    ksx::fuzz::refusals_expected([&] {
        auto order = ksx::contract::parse_load_order(ksx::fuzz::as_text(data, size),
                                                     "usr/lib/kmod-sysext/fuzz/modules.load");
        for (const auto& entry : order.modules) {
            for (const auto& dependency : entry.depends) {
                order.find(dependency);
            }
        }
    });
    return 0;
}
