// Error types shared by every stage; the CLI maps them to exit statuses.
#pragma once

#include "util/message.hpp"

#include <stdexcept>
#include <string>

namespace ksx {

// Bad input from the user (manifest, arguments, image contents): exit status 2.
class InputError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// A failure of the environment or of a build step: exit status 1.
class Error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// Throw InputError / Error with message(pattern, parts): one call at the throw site.
[[noreturn]] void throw_input(const char* pattern, MessageParts parts);
[[noreturn]] void throw_error(const char* pattern, MessageParts parts);

// "what: strerror(errno)" for failed system calls.
std::string errno_message(const std::string& what, int err);
std::string errno_message(const char* pattern, MessageParts parts, int err);

// Throws Error(errno_message(what, errno)).
[[noreturn]] void throw_errno(const std::string& what);
[[noreturn]] void throw_errno(const char* pattern, MessageParts parts);

} // namespace ksx
