// The bubblewrap command line for container::run().
#pragma once

#include "container/container.hpp"

#include <cstddef>
#include <string>
#include <vector>

namespace ksx::container {

// Whether to add the isolation that only matters when bwrap runs as root: without a user
// namespace (which would map only uid 0 and break apt's _apt sandbox and dpkg's chown), and
// without capabilities unless the root is writable.
enum class Privilege { Root, User };

// bubblewrap refuses a command line of more arguments than this (its own and the command's),
// with a message that only reaches the log.
inline constexpr size_t kBwrapMaxArgs = 9000;

// `bwrap ... -- argv...` for `spec` in `rootfs`; `resolv_conf` is the host's resolver file
// bound over the container's when the network is on (empty: none).
std::vector<std::string> bwrap_argv(const Rootfs& rootfs, const RunSpec& spec, Privilege privilege,
                                    const std::string& resolv_conf);

} // namespace ksx::container
