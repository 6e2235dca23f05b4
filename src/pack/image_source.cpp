#include "pack/image_source.hpp"

#include "sign/gpt.hpp"

namespace ksx::pack {

namespace {

constexpr std::string_view kUsr = "usr/";

} // namespace

ImageSource::ImageSource(const std::filesystem::path& image) : squashfs_(image) {
    if (sign::has_gpt(image)) {
        ddi_ = sign::read_ddi(image);
        work_.emplace("ksx-inspect-");
        squashfs_ = work_->path() / "usr";
        sign::extract_range(image, ddi_->usr.offset(), ddi_->usr.size(), squashfs_);
    }
    info_ = image::read_image_info(squashfs_);
    if (ddi_) {
        for (auto& entry : info_.entries) {
            entry.path = entry.path.empty() ? "usr" : std::string(kUsr) + entry.path;
        }
    }
}

std::string ImageSource::read(const std::string& path) const {
    if (ddi_ && path.starts_with(kUsr)) {
        return image::read_image_file(squashfs_, path.substr(kUsr.size()));
    }
    return image::read_image_file(squashfs_, path);
}

} // namespace ksx::pack
