// What `prefetch` reads of a release's index.json (written by `kmod-sysext publish`): each
// image's file name and OS identity, so a node fetches only the images built for its OS.
#pragma once

#include "util/os_release.hpp"

#include <map>
#include <string>
#include <string_view>

namespace ksx::contract {

// File name -> OS identity ("os": {"id", "version_id", "sysext_level"} and "architecture") of
// every entry of "images". Throws InputError when the text is not JSON or not a kmod-sysext
// index (format 1). A small reader of its own keeps the activator free of a JSON library.
std::map<std::string, OsIdentity> parse_release_index(std::string_view text);

} // namespace ksx::contract
