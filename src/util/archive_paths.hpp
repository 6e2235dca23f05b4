// Checks on entry names read from archives, shared by every extraction.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

namespace ksx {

struct ArchivePath {
    std::string relative; // without empty and "." components; "" names the root itself
    std::string problem;  // why the name is refused ("is absolute", "contains \"..\""), or ""
};

// An entry name as a path relative to the extraction root. Names that could land outside it
// (absolute, any ".." component) or that no file system takes (a component longer than 255
// bytes, a name longer than 4095) come back with `problem` set.
ArchivePath archive_relative_path(std::string_view name);

// An entry name as messages show it: cut after 100 bytes with "…", so a hostile name of
// megabytes does not flood the terminal.
std::string shown_entry_name(std::string_view name);

// The first leading component of `relative` that exists below `root` as a symbolic link, or ""
// when there is none. Writing through such a component could leave the root.
std::string symlink_component(const std::filesystem::path& root, std::string_view relative);

} // namespace ksx
