#include "build/apt_source.hpp"

#include "build/kernel_failure.hpp"
#include "util/atomic_file.hpp"
#include "util/error.hpp"
#include "util/file_io.hpp"
#include "util/process.hpp"
#include "util/sha256.hpp"
#include "util/temp_dir.hpp"

#include <fstream>
#include <sstream>

namespace ksx::build {

namespace fs = std::filesystem;

namespace {

constexpr const char* kOutInside = "/tmp/apt-download"; // inside the container
// Builds run without capabilities, so apt cannot drop to its _apt user; the container is the
// sandbox and the .deb is checked against apt's signed index afterwards.
constexpr const char* kNoSandbox = "-oAPT::Sandbox::User=root";

void append_log(const fs::path& log, const std::string& text) {
    std::ofstream out(log, std::ios::app);
    out << text;
    if (!out) {
        throw Error("failed to write " + log.string());
    }
}

// apt's error lines ("E: Unable to locate package x"), joined, for the message.
std::string apt_errors(const std::string& output) {
    std::istringstream in(output);
    std::string line, errors;
    while (std::getline(in, line)) {
        if (line.starts_with("E: ")) {
            errors += (errors.empty() ? "" : "; ") + line.substr(3);
        }
    }
    return errors;
}

// Runs `argv` in the container with a writable dir at kOutInside; its output goes to `out`
// and is then appended to the build log.
int run_apt(const container::Rootfs& rootfs, const std::vector<std::string>& argv,
            const fs::path& dir, bool network, const fs::path& log, std::string& output) {
    const auto output_file = dir / ".apt-output";
    container::RunSpec run;
    run.argv = argv;
    run.binds = {{dir, kOutInside, true}};
    run.cwd = kOutInside;
    run.network = network;
    run.env = {"DEBIAN_FRONTEND=noninteractive"};
    run.log_file = output_file;
    append_log(log, "$ " + quote_command(argv) + "\n");
    int status = container::run(rootfs, run);
    std::error_code ec;
    output = fs::exists(output_file, ec) ? read_file(output_file) : std::string();
    fs::remove(output_file, ec);
    append_log(log, output);
    return status;
}

} // namespace

std::string apt_argument(const AptRequest& request) {
    if (!request.version.empty()) {
        return request.package + "=" + request.version;
    }
    if (!request.release.empty()) {
        return request.package + "/" + request.release;
    }
    return request.package;
}

AptUri parse_print_uris(const std::string& output, const std::string& package) {
    std::istringstream in(output);
    std::string line;
    while (std::getline(in, line)) {
        if (!line.starts_with('\'')) {
            continue;
        }
        auto close = line.find('\'', 1);
        if (close == std::string::npos) {
            continue;
        }
        AptUri uri;
        uri.url = line.substr(1, close - 1);
        std::istringstream fields(line.substr(close + 1));
        std::string size, hash;
        fields >> uri.file >> size >> hash;
        if (!uri.file.starts_with(package + "_") || !hash.starts_with("SHA256:")) {
            continue;
        }
        uri.sha256 = hash.substr(7);
        return uri;
    }
    throw Error("apt-get download --print-uris named no .deb with a SHA-256 for " + package);
}

fs::path apt_download(const container::Rootfs& rootfs, const AptRequest& request,
                      const fs::path& cache_dir, const fs::path& log) {
    const auto debs = cache_dir / "apt";
    fs::create_directories(debs);
    const auto argument = apt_argument(request);
    TempDir temp(".download-", debs);
    std::string output;
    int status = run_apt(rootfs, {"apt-get", kNoSandbox, "download", "--print-uris", argument},
                         temp.path(), false, log, output);
    if (status != 0) {
        auto why = apt_errors(output);
        throw LoggedInputError(request.field + ": package \"" + argument +
                                   "\" cannot be downloaded with the developer container's apt" +
                                   (why.empty() ? "" : " (" + why + ")"),
                               log);
    }
    auto uri = parse_print_uris(output, request.package);
    if (uri.file.find('/') != std::string::npos || uri.file.starts_with('.')) {
        throw Error(request.field + ": apt named an unusable file name \"" + uri.file + "\"");
    }
    const auto cached = debs / uri.file;
    std::error_code ec;
    if (fs::is_regular_file(cached, ec) && sha256_file_hex(cached) == uri.sha256) {
        append_log(log, "# using the cached " + cached.string() + "\n");
        return cached;
    }
    status = run_apt(rootfs, {"apt-get", kNoSandbox, "download", argument}, temp.path(), true, log,
                     output);
    const auto downloaded = temp.path() / uri.file;
    if (status != 0 || !fs::is_regular_file(downloaded, ec)) {
        auto why = apt_errors(output);
        throw LoggedError(request.field + ": apt-get download " + argument + " failed" +
                              (why.empty() ? "" : " (" + why + ")"),
                          log);
    }
    auto digest = sha256_file_hex(downloaded);
    if (digest != uri.sha256) {
        throw LoggedError(request.field + ": " + uri.file + " has SHA-256 " + digest +
                              ", apt's index says " + uri.sha256,
                          log);
    }
    commit_file(downloaded, cached);
    return cached;
}

} // namespace ksx::build
