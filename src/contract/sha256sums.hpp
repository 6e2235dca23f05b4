// SHA256SUMS as sha256sum(1) writes it, "<sha256>  <file>" per line: what `publish` writes into
// a release and the build cache beside each entry, and what `prefetch` and the build cache read.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace ksx::contract {

struct Sha256Sum {
    std::string sha256; // 64 lowercase hex digits
    std::string file;   // a plain file name: no '/', not starting with '.'
};

// One "<sha256>  <file>\n" line per entry, in the order given.
std::string format_sha256sums(const std::vector<Sha256Sum>& sums);

// The entries of SHA256SUMS text ("<sha256> *<file>", binary mode, too). A line of another
// form, or naming a file that is not a plain file name, goes to `malformed(line number)` when
// it is set and is skipped otherwise.
std::vector<Sha256Sum> parse_sha256sums(std::string_view text,
                                        const std::function<void(int line)>& malformed = {});

} // namespace ksx::contract
