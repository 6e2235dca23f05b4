// What the dkms.conf evaluation writes (NAME NUL VALUE NUL pairs from bash running a package's
// dkms.conf) and the DkmsConf made of it, down to the build commands.
#include "build/dkms.hpp"
#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    ksx::fuzz::refusals_expected([&] {
        auto variables = ksx::build::parse_dkms_output(std::string(ksx::fuzz::as_text(data, size)));
        auto conf = ksx::build::dkms_conf_from(variables, "dkms.conf");
        ksx::build::dkms_make_command(conf, 2, "6.1.0-28-amd64");
        ksx::build::dkms_script_command(conf.pre_build, "/var/lib/dkms/fuzz/1.0/build");
        ksx::build::dkms_script_command(conf.post_build, "/var/lib/dkms/fuzz/1.0/build");
        for (const auto& patch : conf.patches) {
            ksx::build::dkms_patch_command(patch);
        }
    });
    return 0;
}
