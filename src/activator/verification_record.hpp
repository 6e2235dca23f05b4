// <root>/run/kmod-sysext/verified: what `select` found for each image it considered, so that
// `status` can show it without reading the images again.
//
// Format 1: '#' comment lines ("# kmod-sysext-activate verification, format 1"), then one line
// per image with six TAB-separated fields:
//   extension  image (as the node sees it)  verified|unsigned|refused  root-hash  signer  reason
// (empty fields stay empty; TABs and newlines in values become spaces).
#pragma once

#include "activator/context.hpp"
#include "activator/image_check.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace ksx::activator {

struct VerificationRecord {
    std::string extension;
    std::string image;
    ImageCheck check;
};

inline constexpr const char* kVerificationRecord = "/run/kmod-sysext/verified";

std::string format_verification(const std::vector<VerificationRecord>& records);

// Throws InputError "<file>:<line>: ..." on malformed content.
std::vector<VerificationRecord> parse_verification(std::string_view text,
                                                   const std::string& file_name);

// The record under context.root; empty when there is none.
std::vector<VerificationRecord> read_verification(const Context& context);

void write_verification(const Context& context, const std::vector<VerificationRecord>& records);

} // namespace ksx::activator
