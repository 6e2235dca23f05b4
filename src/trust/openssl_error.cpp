#include "trust/openssl_error.hpp"

#include "util/message.hpp"

#include <openssl/err.h>

namespace ksx::trust {

std::string openssl_message(const std::string& what) {
    std::string details;
    while (unsigned long code = ERR_get_error()) {
        char buffer[256];
        ERR_error_string_n(code, buffer, sizeof buffer);
        details += details.empty() ? "" : "; ";
        details += buffer;
    }
    return details.empty() ? what : message("{}: {}", {what, details});
}

} // namespace ksx::trust
