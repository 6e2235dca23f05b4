// Images of several shards merged into one set: the same image twice is one, two different
// files under one name are a conflict.
#pragma once

#include "publish/release_image.hpp"

#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace ksx::publish {

// Adds `image` to `images` (keyed by file name) unless an equal entry is there: same image
// bytes and the same sidecars with the same bytes. Anything else under that name is an
// InputError naming both files and their sha256.
void merge_release_image(std::map<std::string, ReleaseImage>& images, ReleaseImage image);

// The *.raw files of a shard directory, sorted; InputError when `dir` is not a directory.
std::vector<std::filesystem::path> shard_images(const std::filesystem::path& dir);

} // namespace ksx::publish
