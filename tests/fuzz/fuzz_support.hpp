// What every harness shares: the errors a parser may throw on bad bytes, and bytes as a file for
// the readers that take a path.
#pragma once

#include "util/error.hpp"
#include "util/unique_fd.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <sys/mman.h>
#include <unistd.h>

namespace ksx::fuzz {

inline std::string_view as_text(const std::uint8_t* data, std::size_t size) {
    return {reinterpret_cast<const char*>(data), size};
}

// Runs `parse`; the parsers' documented refusals (InputError, Error) are expected answers to bad
// bytes. Anything else escapes, and libFuzzer reports it as a crash: an uncaught exception of
// another type would end the program without a positioned message.
template <typename Parse> void refusals_expected(Parse&& parse) {
    try {
        parse();
    } catch (const InputError&) {
    } catch (const Error&) {
    }
}

// Bytes in an anonymous memory file, named by a /proc/self/fd path: for readers that open a
// path, without writing to disk.
class MemoryFile {
public:
    explicit MemoryFile(std::string_view bytes) : fd_(memfd_create("fuzz-input", MFD_CLOEXEC)) {
        if (!fd_) {
            throw_errno("memfd_create");
        }
        std::size_t done = 0;
        while (done < bytes.size()) {
            auto n = ::write(fd_.get(), bytes.data() + done, bytes.size() - done);
            if (n <= 0) {
                throw_errno("write to memfd");
            }
            done += static_cast<std::size_t>(n);
        }
    }
    int fd() const { return fd_.get(); }
    std::string path() const { return "/proc/self/fd/" + std::to_string(fd_.get()); }

private:
    UniqueFd fd_;
};

} // namespace ksx::fuzz
