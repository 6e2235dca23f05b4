#include "util/error.hpp"

#include <cerrno>
#include <cstring>

namespace ksx {

void throw_input(const char* pattern, MessageParts parts) {
    throw InputError(message(pattern, parts));
}

void throw_error(const char* pattern, MessageParts parts) {
    throw Error(message(pattern, parts));
}

std::string errno_message(const std::string& what, int err) {
    return message("{}: {}", {what, std::strerror(err)});
}

std::string errno_message(const char* pattern, MessageParts parts, int err) {
    return errno_message(message(pattern, parts), err);
}

void throw_errno(const std::string& what) {
    throw Error(errno_message(what, errno));
}

void throw_errno(const char* pattern, MessageParts parts) {
    const int err = errno; // before building the message allocates
    throw Error(errno_message(message(pattern, parts), err));
}

} // namespace ksx
