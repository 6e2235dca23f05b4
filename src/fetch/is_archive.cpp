#include "fetch/archive_reader.hpp"
#include "fetch/fetch.hpp"
#include "util/error.hpp"
#include "util/unique_fd.hpp"

#include <array>
#include <fcntl.h>
#include <string_view>

namespace fs = std::filesystem;

namespace ksx::fetch {

namespace {

// What the first bytes of a file say it is.
enum class Magic { None, Container, Compressed };

Magic magic_of(std::string_view head) {
    auto at = [&](size_t offset, std::string_view magic) {
        return head.size() >= offset + magic.size() && head.substr(offset, magic.size()) == magic;
    };
    using namespace std::string_view_literals;
    if (at(0, "!<arch>\n") || at(0, "PK\x03\x04") || at(0, "PK\x05\x06") ||
        at(0, "\xed\xab\xee\xdb") || at(0, "070701") || at(0, "070702") || at(0, "070707") ||
        at(0, "\xc7\x71") || at(0, "\x71\xc7") || at(257, "ustar")) {
        return Magic::Container;
    }
    if (at(0, "\x1f\x8b") ||
        at(0, "\xfd"
              "7zXZ\0"sv) ||
        at(0, "\x28\xb5\x2f\xfd") || at(0, "BZh") || at(0, "\x04\x22\x4d\x18") ||
        at(0, "\x5d\0\0"sv)) {
        return Magic::Compressed;
    }
    return Magic::None;
}

} // namespace

bool is_archive(const fs::path& path) {
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) {
        throw_errno("failed to open " + path.string());
    }
    std::array<char, 512> buffer{};
    size_t filled = 0;
    while (filled < buffer.size()) {
        ssize_t n = ::read(fd.get(), buffer.data() + filled, buffer.size() - filled);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            throw_errno("failed to read " + path.string());
        }
        if (n == 0) {
            break;
        }
        filled += static_cast<size_t>(n);
    }
    Magic magic = magic_of(std::string_view(buffer.data(), filled));
    if (magic == Magic::None) {
        return false;
    }
    if (magic == Magic::Container) {
        return true;
    }
    // A compressed stream is an archive only when it holds one (a .ko.xz does not).
    ArchiveReader reader = new_archive_reader();
    if (archive_read_open_filename(reader.get(), path.c_str(), 1 << 16) != ARCHIVE_OK) {
        return false;
    }
    archive_entry* entry = nullptr;
    int rc = archive_read_next_header(reader.get(), &entry);
    return rc == ARCHIVE_OK || rc == ARCHIVE_WARN || rc == ARCHIVE_EOF;
}

} // namespace ksx::fetch
