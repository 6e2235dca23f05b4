#include "build/makeself.hpp"

#include "build/kernel_failure.hpp"
#include "util/error.hpp"

#include <fstream>
#include <string>

namespace ksx::build {

namespace fs = std::filesystem;

namespace {

// The script part of an installer: makeself's header is well under this size.
std::string script_head(const fs::path& file) {
    std::ifstream in(file, std::ios::binary);
    if (!in) {
        throw_errno("failed to open " + file.string());
    }
    std::string head(32768, '\0');
    in.read(head.data(), static_cast<std::streamsize>(head.size()));
    head.resize(static_cast<size_t>(in.gcount()));
    return head;
}

bool has_extract_only(const fs::path& installer) {
    return script_head(installer).find("--extract-only") != std::string::npos;
}

} // namespace

bool is_makeself_installer(const fs::path& file) {
    // makeself writes its name into the first lines of the script it generates.
    auto head = script_head(file);
    return head.starts_with("#!") && head.find("akeself") != std::string::npos;
}

void extract_makeself(const container::Rootfs& rootfs, const fs::path& installer,
                      const fs::path& destination, const fs::path& log, const std::string& field) {
    const fs::path parent = destination.parent_path();
    fs::create_directories(parent);
    container::RunSpec run;
    run.binds = {{installer.parent_path(), "/installer", false}, {parent, "/out", true}};
    // NVIDIA's installers take --extract-only (plain --noexec would still want a terminal);
    // stock makeself archives take --noexec. Both honour --target.
    const std::string mode = has_extract_only(installer) ? "--extract-only" : "--noexec";
    run.argv = {"/bin/sh", "/installer/" + installer.filename().string(), mode, "--target",
                "/out/" + destination.filename().string()};
    run.cwd = "/out";
    run.env = {"TMPDIR=/out"};
    run.log_file = log;
    int status = container::run(rootfs, run);
    std::error_code ec;
    if (status != 0 || !fs::is_directory(destination, ec)) {
        throw LoggedError(field + ": " + installer.filename().string() +
                              " --extract-only failed (exit status " + std::to_string(status) + ")",
                          log);
    }
}

} // namespace ksx::build
