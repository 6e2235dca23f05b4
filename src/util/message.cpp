#include "util/message.hpp"

namespace ksx {

std::string message(const char* pattern, MessageParts parts) {
    std::string_view rest(pattern);
    std::string out;
    const auto* part = parts.begin();
    for (auto at = rest.find("{}"); at != std::string_view::npos; at = rest.find("{}")) {
        out += rest.substr(0, at);
        if (part != parts.end()) {
            out += *part++;
        }
        rest.remove_prefix(at + 2);
    }
    out += rest;
    return out;
}

} // namespace ksx
