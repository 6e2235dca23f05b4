#include "contract/sha256sums.hpp"

#include "util/lines.hpp"
#include "util/message.hpp"

namespace ksx::contract {

namespace {

bool is_hex64(std::string_view text) {
    return text.size() == 64 && text.find_first_not_of("0123456789abcdef") == std::string::npos;
}

} // namespace

std::string format_sha256sums(const std::vector<Sha256Sum>& sums) {
    std::string out;
    for (const auto& sum : sums) {
        out += message("{}  {}\n", {sum.sha256, sum.file});
    }
    return out;
}

std::vector<Sha256Sum> parse_sha256sums(std::string_view text,
                                        const std::function<void(int line)>& malformed) {
    std::vector<Sha256Sum> sums;
    for_each_line(text, [&](std::string_view line, int number) {
        auto hash = line.substr(0, 64);
        auto file = line.size() > 66 ? line.substr(66) : std::string_view();
        if (line.size() > 66 && line[64] == ' ' && (line[65] == ' ' || line[65] == '*') &&
            is_hex64(hash) && file.find('/') == std::string_view::npos && !file.starts_with(".")) {
            sums.push_back({std::string(hash), std::string(file)});
        } else if (malformed) {
            malformed(number);
        }
    });
    return sums;
}

} // namespace ksx::contract
