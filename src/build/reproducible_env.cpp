#include "build/reproducible_env.hpp"

#include "util/atomic_file.hpp"

namespace ksx::build {

namespace fs = std::filesystem;

std::vector<std::string> reproducible_environment(std::uint32_t epoch) {
    auto seconds = std::to_string(epoch);
    return {"SOURCE_DATE_EPOCH=" + seconds, "KBUILD_BUILD_TIMESTAMP=@" + seconds,
            "KBUILD_BUILD_USER=kmod-sysext", "KBUILD_BUILD_HOST=kmod-sysext",
            std::string("PATH=") + kToolsInside + ":" + container::kContainerPath};
}

bool write_reproducible_tools(const container::Rootfs& rootfs, const fs::path& tools) {
    fs::create_directories(tools);
    std::error_code ec;
    if (!fs::exists(fs::symlink_status(rootfs.root / "usr/bin/pahole", ec))) {
        return false;
    }
    write_file_atomic(tools / "pahole",
                      "#!/bin/sh\n"
                      "# kmod-sysext: pahole without -j, whose parallel BTF encoding is not\n"
                      "# reproducible before pahole 1.27.\n"
                      "for arg do\n"
                      "    shift\n"
                      "    case $arg in\n"
                      "    -j | -j[0-9]* | --jobs | --jobs=*) ;;\n"
                      "    *) set -- \"$@\" \"$arg\" ;;\n"
                      "    esac\n"
                      "done\n"
                      "exec /usr/bin/pahole \"$@\"\n",
                      0755);
    return true;
}

} // namespace ksx::build
