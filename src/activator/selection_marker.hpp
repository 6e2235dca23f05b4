// <root>/run/kmod-sysext/selected: the links in /run/extensions that the activator made, so it
// replaces only those and never touches anything else there. `status` reads it too.
//
// Format 1: '#' comment lines ("# kmod-sysext-activate selection, format 1", "# kernel <r>"),
// then one line per link with three TAB-separated fields:
//   extension  link-name-in-/run/extensions  target (absolute, as the node sees it)
#pragma once

#include "activator/context.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace ksx::activator {

struct SelectedLink {
    std::string extension;
    std::string link; // "hello.raw", "hello.verity", ...
    std::string target;
    bool operator==(const SelectedLink&) const = default;
};

struct Selection {
    std::string kernel;
    std::vector<SelectedLink> links;
};

inline constexpr const char* kSelectionMarker = "/run/kmod-sysext/selected";
inline constexpr const char* kExtensionsDir = "/run/extensions";

std::string format_selection(const Selection& selection);

// Throws InputError "<file>:<line>: ..." on malformed content (including link names that are
// not plain file names, since the activator deletes files by those names).
Selection parse_selection(std::string_view text, const std::string& file_name);

// The marker under context.root; an empty selection when there is none.
Selection read_selection(const Context& context);

void write_selection(const Context& context, const Selection& selection);

} // namespace ksx::activator
