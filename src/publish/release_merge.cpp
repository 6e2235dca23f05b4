#include "publish/release_merge.hpp"

#include "util/error.hpp"

#include <algorithm>

namespace ksx::publish {

namespace fs = std::filesystem;

namespace {

std::string describe_conflict(const ReleaseFile& a, const ReleaseFile& b) {
    return "conflicting " + a.file + ": " + a.source.string() + " (sha256 " + a.sha256 + ") and " +
           b.source.string() + " (sha256 " + b.sha256 + ")";
}

} // namespace

void merge_release_image(std::map<std::string, ReleaseImage>& images, ReleaseImage image) {
    auto [it, inserted] = images.try_emplace(image.image.file, image);
    if (inserted) {
        return;
    }
    const auto& have = it->second;
    if (have.image.sha256 != image.image.sha256) {
        throw InputError(describe_conflict(have.image, image.image));
    }
    for (const auto& s : image.sidecars) {
        auto same = std::find_if(have.sidecars.begin(), have.sidecars.end(),
                                 [&](const ReleaseFile& h) { return h.file == s.file; });
        if (same == have.sidecars.end()) {
            throw InputError("conflicting " + image.image.file + ": " + s.source.string() +
                             " has no counterpart next to " + have.image.source.string());
        }
        if (same->sha256 != s.sha256) {
            throw InputError(describe_conflict(*same, s));
        }
    }
    if (have.sidecars.size() != image.sidecars.size()) {
        throw InputError("conflicting " + image.image.file + ": " + have.image.source.string() +
                         " and " + image.image.source.string() + " have different sidecars");
    }
}

std::vector<fs::path> shard_images(const fs::path& dir) {
    if (!fs::is_directory(dir)) {
        throw InputError(dir.string() + ": not a directory");
    }
    std::vector<fs::path> found;
    for (const auto& entry : fs::directory_iterator(dir)) {
        if (entry.is_regular_file() && entry.path().extension() == ".raw") {
            found.push_back(entry.path());
        }
    }
    std::sort(found.begin(), found.end());
    return found;
}

} // namespace ksx::publish
