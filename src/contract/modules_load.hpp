// Parsing an image's usr/lib/kmod-sysext/<name>/modules.load (format: image/sysext_layout.hpp):
// '#' comments ("# kmod-sysext load order, format 1", "# extension <name> <version>",
// "# kernel <release>"), then one module per line in load order with five TAB-separated fields:
//   name  path-in-image  depends(comma-separated, "-" for none)  boot|demand  options
#pragma once

#include <cstddef>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ksx::contract {

struct LoadEntry {
    std::string name;
    std::string path; // absolute, as the node sees it once merged
    std::vector<std::string> depends;
    bool boot = true; // loaded by `load`; "demand" ones only through `modprobe` or a dependency
    std::string options;
    int line = 0;
};

// Bounds on what the activator reads from a modules.load, far above any real driver (NVIDIA
// ships 5 modules, a whole kernel about 6000) and low enough that a hostile file costs little:
// the parse and every walk over the dependencies are linear and iterative.
inline constexpr std::size_t kMaxLoadOrderBytes = 16 * 1024 * 1024;
inline constexpr std::size_t kMaxLoadOrderModules = 100000;

struct LoadOrder {
    std::string file;
    std::optional<std::string> kernel; // from "# kernel <release>"
    std::vector<LoadEntry> modules;

    const LoadEntry* find(std::string_view name) const;

private:
    friend LoadOrder parse_load_order(std::string_view text, const std::string& file_name);

    // The text of a modules.load for `modules` (in load order; `line` is not used) of the extension
    // `extension` at `version`, built for `kernel`.
    std::string format_load_order(const std::string& extension, const std::string& version,
                                  const std::string& kernel, const std::vector<LoadEntry>& modules);
    std::map<std::string, std::size_t, std::less<>> index_; // name -> position in modules
};

// Throws InputError "<file>:<line>: <what is wrong>" for anything it cannot trust: wrong field
// counts, names, paths outside /usr or /opt, unknown modes, duplicates, dependency cycles,
// unknown formats and more than kMaxLoadOrderBytes or kMaxLoadOrderModules.
LoadOrder parse_load_order(std::string_view text, const std::string& file_name);

// The text of a modules.load for `modules` (in load order; `line` is not used) of the extension
// `extension` at `version`, built for `kernel`.
std::string format_load_order(const std::string& extension, const std::string& version,
                              const std::string& kernel, const std::vector<LoadEntry>& modules);

} // namespace ksx::contract
