// KEY=value text: the activator's /etc/kmod-sysext files, os-release and extension-release as the
// activator matches them, and extension-release as `publish` and `inspect` read it back.
#include "activator/log.hpp"
#include "activator/pin_config.hpp"
#include "activator/trust_policy.hpp"
#include "fuzz_support.hpp"
#include "util/key_value.hpp"
#include "util/os_release.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    auto text = ksx::fuzz::as_text(data, size);
    ksx::fuzz::refusals_expected([&] {
        ksx::parse_key_values(text, "/etc/kmod-sysext/fuzz.conf",
                              [](std::string_view, std::string_view, const std::string&) {});
    });
    // The activator's logging goes through printable.hpp's escaping: keep that in the run.
    ksx::activator::Log log([](const std::string&) {});
    ksx::fuzz::refusals_expected(
        [&] { ksx::activator::parse_extension_config(text, "/etc/kmod-sysext/fuzz.conf", log); });
    ksx::fuzz::refusals_expected(
        [&] { ksx::activator::parse_signature_policy(text, "/etc/kmod-sysext/policy.conf", log); });
    ksx::fuzz::refusals_expected([&] {
        auto extension = ksx::parse_os_release(text);
        ksx::OsIdentity host{"debian", "12", "", "x86-64"};
        ksx::extension_mismatch(host, extension);
        ksx::extension_mismatch(extension, host);
        ksx::describe(extension);
    });
    ksx::fuzz::refusals_expected(
        [&] { ksx::for_each_key_value(text, [](std::string_view, std::string_view, int) {}); });
    return 0;
}
