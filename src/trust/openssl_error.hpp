#pragma once

#include <string>

namespace ksx::trust {

// `what`, followed by the reasons OpenSSL queued on this thread (the queue is emptied).
std::string openssl_message(const std::string& what);

} // namespace ksx::trust
