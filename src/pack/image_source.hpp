// An image as `inspect` reads it: a squashfs, or a DDI whose usr partition is the squashfs of
// the /usr tree (its paths are then given under "usr/", as in a squashfs image).
#pragma once

#include "image/squashfs_reader.hpp"
#include "sign/ddi.hpp"
#include "util/temp_dir.hpp"

#include <filesystem>
#include <optional>
#include <string>

namespace ksx::pack {

class ImageSource {
public:
    // Throws InputError when the file is neither a squashfs nor a readable DDI.
    explicit ImageSource(const std::filesystem::path& image);

    const image::ImageInfo& info() const { return info_; }
    // The contents of a regular file, by its path in `info()`.
    std::string read(const std::string& path) const;
    // Set for a DDI.
    const std::optional<sign::Ddi>& ddi() const { return ddi_; }

private:
    std::filesystem::path squashfs_;
    std::optional<sign::Ddi> ddi_;
    std::optional<TempDir> work_;
    image::ImageInfo info_;
};

} // namespace ksx::pack
