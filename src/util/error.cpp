#include "util/error.hpp"

#include <cerrno>
#include <cstring>

namespace ksx {

void throw_input(MessageParts parts) {
    throw InputError(cat(parts));
}

void throw_error(MessageParts parts) {
    throw Error(cat(parts));
}

std::string errno_message(const std::string& what, int err) {
    return cat({what, ": ", std::strerror(err)});
}

std::string errno_message(MessageParts what, int err) {
    return errno_message(cat(what), err);
}

void throw_errno(const std::string& what) {
    throw Error(errno_message(what, errno));
}

void throw_errno(MessageParts what) {
    const int err = errno; // before building the message allocates
    throw Error(errno_message(cat(what), err));
}

} // namespace ksx
