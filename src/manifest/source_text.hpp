// The manifest's text kept line by line, so errors can quote the offending line.
#pragma once

#include "manifest/manifest.hpp"
#include "manifest/manifest_error.hpp"

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>
#include <yaml-cpp/mark.h>

namespace ksx::manifest::detail {

class SourceText {
public:
    SourceText(std::string_view text, std::filesystem::path file);

    // The file name as the user gave it.
    const std::filesystem::path& file() const { return file_; }

    // "file:line:col: error: what", the source line and a caret under the column.
    ManifestError error(YAML::Mark mark, const std::string& what) const;

    Location location(YAML::Mark mark) const;

    // Throws at the first byte of `text` (the manifest's text) that is not text: a NUL or
    // another control character (tab, CR and LF aside), or a byte that is not well-formed UTF-8.
    void check_characters(std::string_view text) const;

    // yaml-cpp places an implicit null sequence item ("-" with nothing after it) at the next
    // token; this finds the "-" that introduced it, or returns `mark` when there is none.
    YAML::Mark dash_before(YAML::Mark mark) const;

private:
    std::filesystem::path file_;
    std::vector<std::string> lines_;
};

} // namespace ksx::manifest::detail
