// libarchive's description of its last error. archive_error_string() returns NULL when a failing
// call set no message (a truncated or corrupt archive can do that), and a NULL char* appended to
// a std::string is undefined behaviour: a crash found by the archive fuzz harness.
#pragma once

#include <archive.h>
#include <string>

namespace ksx {

inline std::string archive_problem(archive* a) {
    const char* text = archive_error_string(a);
    return text != nullptr ? text : "libarchive reported an error without a message";
}

} // namespace ksx
