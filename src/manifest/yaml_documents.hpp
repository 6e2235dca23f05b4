// Where the documents of a YAML text start, for a reader that takes exactly one.
#pragma once

#include <string>
#include <vector>
#include <yaml-cpp/mark.h>

namespace ksx::manifest {

// The position of each document's root node. Not YAML::LoadAll: on a token that no node can
// start with (a stray ','), yaml-cpp 0.7 reports an empty document without consuming the token,
// and LoadAll collects empty documents forever (yaml-cpp issue 1040). Here that token is a
// YAML::ParserException at its position, like the errors yaml-cpp reports itself.
std::vector<YAML::Mark> yaml_document_roots(const std::string& text);

} // namespace ksx::manifest
