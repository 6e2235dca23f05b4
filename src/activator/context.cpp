#include "activator/context.hpp"

#include "util/error.hpp"

#include <sys/utsname.h>

namespace ksx::activator {

std::string running_kernel() {
    struct utsname name {};
    if (::uname(&name) != 0) {
        throw_errno("uname");
    }
    return name.release;
}

} // namespace ksx::activator
