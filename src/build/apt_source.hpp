// Debian packages fetched by the developer container's own apt, cached on the host.
#pragma once

#include "container/container.hpp"

#include <filesystem>
#include <string>

namespace ksx::build {

struct AptRequest {
    std::string package;
    std::string version; // exact version, or empty
    std::string release; // suite such as "bookworm-backports", or empty
    std::string field;   // manifest field for messages: "sources[1].apt"
};

// "name", "name=version" or "name/release": what apt-get is asked for.
std::string apt_argument(const AptRequest& request);

// One line of `apt-get download --print-uris`: 'URL' FILE SIZE SHA256:HEX.
struct AptUri {
    std::string url;
    std::string file;
    std::string sha256;
};

// The entry for `package` in --print-uris output; throws Error when there is none.
AptUri parse_print_uris(const std::string& output, const std::string& package);

// The .deb for `request`: `apt-get download` inside the container (network on) unless
// `<cache_dir>/apt/<file>` already holds it with the SHA-256 apt's index names. The download is
// verified and renamed into the cache only when complete. Commands and their output go to
// `log`; a package apt does not know throws LoggedInputError naming the field, carrying the log.
std::filesystem::path apt_download(const container::Rootfs& rootfs, const AptRequest& request,
                                   const std::filesystem::path& cache_dir,
                                   const std::filesystem::path& log);

} // namespace ksx::build
