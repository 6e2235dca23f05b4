#include "util/message.hpp"

namespace ksx {

std::string cat(MessageParts parts) {
    std::size_t size = 0;
    for (auto part : parts) {
        size += part.size();
    }
    std::string out;
    out.reserve(size);
    for (auto part : parts) {
        out += part;
    }
    return out;
}

} // namespace ksx
