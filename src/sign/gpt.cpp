#include "sign/gpt.hpp"

#include "util/atomic_file.hpp"
#include "util/error.hpp"
#include "util/file_io.hpp"
#include "util/little_endian.hpp"
#include "util/unique_fd.hpp"

#include <algorithm>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace ksx::sign {

namespace fs = std::filesystem;

namespace {

constexpr std::uint32_t entry_count = 128;
constexpr std::uint32_t entry_size = 128;
constexpr std::uint64_t entries_sectors = entry_count * entry_size / gpt_sector; // 32
constexpr std::uint32_t header_size = 92;
constexpr std::uint64_t alignment = 4096;
constexpr std::string_view header_signature = "EFI PART";

std::uint64_t round_up(std::uint64_t value, std::uint64_t unit) {
    return (value + unit - 1) / unit * unit;
}

std::string encode_entries(const GptDisk& disk) {
    std::string entries(entry_count * entry_size, '\0');
    for (size_t i = 0; i < disk.partitions.size(); ++i) {
        const auto& p = disk.partitions[i];
        size_t at = i * entry_size;
        auto type = guid_to_disk(p.type);
        auto uuid = guid_to_disk(p.uuid);
        std::memcpy(entries.data() + at, type.data(), 16);
        std::memcpy(entries.data() + at + 16, uuid.data(), 16);
        put_le(entries, at + 32, p.first_lba, 8);
        put_le(entries, at + 40, p.first_lba + p.sectors - 1, 8);
        put_le(entries, at + 48, p.attributes, 8);
        for (size_t c = 0; c < p.name.size(); ++c) {
            entries[at + 56 + 2 * c] = p.name[c]; // UTF-16LE of ASCII
        }
    }
    return entries;
}

// A header sector; `primary` selects which copy (its own LBA and where its entries are).
std::string encode_header(const GptDisk& disk, std::uint32_t entries_crc, bool primary,
                          std::uint64_t last_lba, std::uint64_t first_usable,
                          std::uint64_t last_usable) {
    std::string header(gpt_sector, '\0');
    std::memcpy(header.data(), header_signature.data(), header_signature.size());
    put_le(header, 8, 0x00010000, 4);
    put_le(header, 12, header_size, 4);
    put_le(header, 24, primary ? 1 : last_lba, 8);
    put_le(header, 32, primary ? last_lba : 1, 8);
    put_le(header, 40, first_usable, 8);
    put_le(header, 48, last_usable, 8);
    auto disk_uuid = guid_to_disk(disk.disk_uuid);
    std::memcpy(header.data() + 56, disk_uuid.data(), 16);
    put_le(header, 72, primary ? 2 : last_lba - entries_sectors, 8);
    put_le(header, 80, entry_count, 4);
    put_le(header, 84, entry_size, 4);
    put_le(header, 88, entries_crc, 4);
    put_le(header, 16, crc32(std::string_view(header).substr(0, header_size)), 4);
    return header;
}

std::string protective_mbr(std::uint64_t total_sectors) {
    std::string mbr(gpt_sector, '\0');
    const unsigned char entry[8] = {0x00, 0x00, 0x02, 0x00, 0xee, 0xff, 0xff, 0xff};
    std::memcpy(mbr.data() + 446, entry, sizeof entry);
    put_le(mbr, 454, 1, 4);
    put_le(mbr, 458, std::min<std::uint64_t>(total_sectors - 1, 0xffffffff), 4);
    mbr[510] = static_cast<char>(0x55);
    mbr[511] = static_cast<char>(0xaa);
    return mbr;
}

class Reader {
public:
    explicit Reader(const fs::path& image) : image_(image) {
        fd_.reset(::open(image.c_str(), O_RDONLY | O_CLOEXEC));
        if (!fd_) {
            throw InputError(errno_message("cannot read " + image.string(), errno));
        }
        struct stat st {};
        if (::fstat(fd_.get(), &st) != 0) {
            throw_errno("cannot stat " + image.string());
        }
        size_ = static_cast<std::uint64_t>(st.st_size);
    }
    std::uint64_t size() const { return size_; }
    std::string read(std::uint64_t offset, std::uint64_t length) const {
        if (offset > size_ || length > size_ - offset) {
            throw InputError(image_.string() +
                             ": the partition table points beyond the end of "
                             "the file (byte " +
                             std::to_string(offset + length) + " of " + std::to_string(size_) +
                             ")");
        }
        std::string out(length, '\0');
        size_t done = 0;
        while (done < length) {
            ssize_t n = ::pread(fd_.get(), out.data() + done, length - done,
                                static_cast<off_t>(offset + done));
            if (n < 0 && errno == EINTR) {
                continue;
            }
            if (n <= 0) {
                throw_errno("cannot read " + image_.string());
            }
            done += static_cast<size_t>(n);
        }
        return out;
    }

private:
    fs::path image_;
    UniqueFd fd_;
    std::uint64_t size_ = 0;
};

struct Header {
    std::uint64_t my_lba, alternate_lba, first_usable, last_usable, entries_lba;
    Guid disk_uuid;
    std::uint32_t entries_crc;
};

Header decode_header(const fs::path& image, std::string_view sector, const char* which) {
    auto fail = [&](const std::string& what) -> InputError {
        return InputError(image.string() + ": " + which + " GPT header: " + what);
    };
    if (sector.substr(0, 8) != header_signature) {
        throw fail("no \"EFI PART\" signature");
    }
    if (get_le(sector, 8, 4) != 0x00010000 || get_le(sector, 12, 4) != header_size) {
        throw fail("not revision 1.0 with a 92-byte header");
    }
    if (sector.find_first_not_of('\0', header_size) != std::string_view::npos) {
        throw fail("bytes after the 92-byte header are not zero");
    }
    std::string copy(sector.substr(0, header_size));
    put_le(copy, 16, 0, 4);
    if (crc32(copy) != get_le(sector, 16, 4)) {
        throw fail("header CRC32 does not match");
    }
    if (get_le(sector, 80, 4) != entry_count || get_le(sector, 84, 4) != entry_size) {
        throw fail("not 128 entries of 128 bytes");
    }
    return {get_le(sector, 24, 8),
            get_le(sector, 32, 8),
            get_le(sector, 40, 8),
            get_le(sector, 48, 8),
            get_le(sector, 72, 8),
            guid_from_disk(reinterpret_cast<const unsigned char*>(sector.data()) + 56),
            static_cast<std::uint32_t>(get_le(sector, 88, 4))};
}

} // namespace

Guid parse_guid(std::string_view text) {
    Guid guid{};
    size_t byte = 0;
    auto nibble = [](char c) -> int {
        if (c >= '0' && c <= '9') {
            return c - '0';
        }
        if (c >= 'a' && c <= 'f') {
            return c - 'a' + 10;
        }
        if (c >= 'A' && c <= 'F') {
            return c - 'A' + 10;
        }
        return -1;
    };
    for (size_t i = 0; i < text.size(); ++i) {
        bool dash_here = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash_here) {
            if (text[i] != '-') {
                break;
            }
            continue;
        }
        if (byte >= 16 || i + 1 >= text.size() || nibble(text[i]) < 0 || nibble(text[i + 1]) < 0) {
            break;
        }
        guid[byte++] = static_cast<unsigned char>(nibble(text[i]) << 4 | nibble(text[i + 1]));
        ++i;
    }
    if (byte != 16 || text.size() != 36) {
        throw InputError("\"" + std::string(text) + "\" is not a GUID");
    }
    return guid;
}

std::string format_guid(const Guid& guid) {
    static constexpr char digits[] = "0123456789abcdef";
    std::string out;
    for (size_t i = 0; i < guid.size(); ++i) {
        if (i == 4 || i == 6 || i == 8 || i == 10) {
            out += '-';
        }
        out += digits[guid[i] >> 4];
        out += digits[guid[i] & 0x0f];
    }
    return out;
}

std::array<unsigned char, 16> guid_to_disk(const Guid& guid) {
    return {guid[3], guid[2], guid[1],  guid[0],  guid[5],  guid[4],  guid[7],  guid[6],
            guid[8], guid[9], guid[10], guid[11], guid[12], guid[13], guid[14], guid[15]};
}

Guid guid_from_disk(const unsigned char* b) {
    return {b[3], b[2], b[1],  b[0],  b[5],  b[4],  b[7],  b[6],
            b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]};
}

std::uint32_t crc32(std::string_view data) {
    static const auto table = [] {
        std::array<std::uint32_t, 256> t{};
        for (std::uint32_t i = 0; i < 256; ++i) {
            std::uint32_t c = i;
            for (int k = 0; k < 8; ++k) {
                c = (c & 1) != 0 ? 0xedb88320u ^ (c >> 1) : c >> 1;
            }
            t[i] = c;
        }
        return t;
    }();
    std::uint32_t crc = 0xffffffffu;
    for (char ch : data) {
        crc = table[(crc ^ static_cast<unsigned char>(ch)) & 0xff] ^ (crc >> 8);
    }
    return crc ^ 0xffffffffu;
}

void write_gpt_image(GptDisk& disk, const fs::path& output) {
    if (disk.partitions.size() > entry_count) {
        throw Error("a GPT holds at most 128 partitions");
    }
    std::uint64_t next = round_up((2 + entries_sectors) * gpt_sector, alignment);
    for (auto& p : disk.partitions) {
        if (p.name.size() > 36 || std::any_of(p.name.begin(), p.name.end(),
                                              [](char c) { return c < 0x20 || c > 0x7e; })) {
            throw Error("partition name \"" + p.name + "\" is not ASCII of at most 36 characters");
        }
        std::uint64_t size =
            round_up(std::max<std::uint64_t>(fs::file_size(p.source), 1), alignment);
        p.first_lba = next / gpt_sector;
        p.sectors = size / gpt_sector;
        next += size;
    }
    const std::uint64_t backup_entries_lba = next / gpt_sector;
    const std::uint64_t last_lba = backup_entries_lba + entries_sectors;
    disk.size = (last_lba + 1) * gpt_sector;
    const std::uint64_t first_usable = 2 + entries_sectors;
    const std::uint64_t last_usable = backup_entries_lba - 1;

    auto entries = encode_entries(disk);
    auto entries_crc = crc32(entries);
    AtomicFile out(output);
    out.write(protective_mbr(last_lba + 1));
    out.write(encode_header(disk, entries_crc, true, last_lba, first_usable, last_usable));
    out.write(entries);
    std::uint64_t written = (2 + entries_sectors) * gpt_sector;
    for (const auto& p : disk.partitions) {
        out.write(std::string(p.offset() - written, '\0'));
        written = p.offset();
        read_file_chunks(p.source, [&](std::string_view chunk) {
            out.write(chunk);
            written += chunk.size();
        });
    }
    out.write(std::string(backup_entries_lba * gpt_sector - written, '\0'));
    out.write(entries);
    out.write(encode_header(disk, entries_crc, false, last_lba, first_usable, last_usable));
    out.commit();
}

bool has_gpt(const fs::path& image) {
    std::error_code ec;
    if (fs::file_size(image, ec) < 2 * gpt_sector || ec) {
        return false;
    }
    Reader reader(image);
    auto start = reader.read(0, 2 * gpt_sector);
    return static_cast<unsigned char>(start[510]) == 0x55 &&
           static_cast<unsigned char>(start[511]) == 0xaa &&
           std::string_view(start).substr(gpt_sector, 8) == header_signature;
}

GptDisk read_gpt(const fs::path& image) {
    Reader reader(image);
    if (reader.size() % gpt_sector != 0 || reader.size() < 67 * gpt_sector) {
        throw InputError(image.string() + ": too small or not whole sectors for a GPT disk");
    }
    const std::uint64_t last_lba = reader.size() / gpt_sector - 1;
    // Exactly the protective MBR write_gpt_image writes: no byte of it goes unchecked.
    if (reader.read(0, gpt_sector) != protective_mbr(last_lba + 1)) {
        throw InputError(image.string() + ": sector 0 is not a protective MBR for this disk");
    }
    auto primary = decode_header(image, reader.read(gpt_sector, gpt_sector), "primary");
    if (primary.my_lba != 1 || primary.alternate_lba != last_lba || primary.entries_lba != 2 ||
        primary.first_usable < 2 + entries_sectors ||
        primary.last_usable + entries_sectors + 1 > last_lba ||
        primary.first_usable > primary.last_usable) {
        throw InputError(image.string() + ": primary GPT header: its LBAs do not fit the disk");
    }
    auto entries = reader.read(2 * gpt_sector, entries_sectors * gpt_sector);
    if (crc32(entries) != primary.entries_crc) {
        throw InputError(image.string() + ": partition entries CRC32 does not match");
    }
    auto backup = decode_header(image, reader.read(last_lba * gpt_sector, gpt_sector), "backup");
    if (backup.my_lba != last_lba || backup.alternate_lba != 1 ||
        backup.entries_lba != last_lba - entries_sectors ||
        backup.first_usable != primary.first_usable || backup.last_usable != primary.last_usable ||
        backup.disk_uuid != primary.disk_uuid || backup.entries_crc != primary.entries_crc ||
        reader.read(backup.entries_lba * gpt_sector, entries_sectors * gpt_sector) != entries) {
        throw InputError(image.string() + ": backup GPT differs from the primary one");
    }
    GptDisk disk;
    disk.disk_uuid = primary.disk_uuid;
    disk.size = reader.size();
    for (std::uint32_t i = 0; i < entry_count; ++i) {
        std::string_view entry = std::string_view(entries).substr(i * entry_size, entry_size);
        auto type = guid_from_disk(reinterpret_cast<const unsigned char*>(entry.data()));
        if (type == Guid{}) {
            continue;
        }
        GptPartition p;
        p.type = type;
        p.uuid = guid_from_disk(reinterpret_cast<const unsigned char*>(entry.data()) + 16);
        auto first = get_le(entry, 32, 8);
        auto last = get_le(entry, 40, 8);
        if (first < primary.first_usable || last > primary.last_usable || last < first) {
            throw InputError(image.string() + ": partition " + std::to_string(i + 1) +
                             " lies outside the usable sectors");
        }
        p.first_lba = first;
        p.sectors = last - first + 1;
        p.attributes = get_le(entry, 48, 8);
        for (size_t c = 56; c + 1 < entry_size; c += 2) {
            auto unit = get_le(entry, c, 2);
            if (unit == 0) {
                break;
            }
            p.name += unit < 0x80 ? static_cast<char>(unit) : '?';
        }
        disk.partitions.push_back(std::move(p));
    }
    return disk;
}

std::string read_range(const fs::path& image, std::uint64_t offset, std::uint64_t size) {
    return Reader(image).read(offset, size);
}

void extract_range(const fs::path& image, std::uint64_t offset, std::uint64_t size,
                   const fs::path& output) {
    Reader reader(image);
    AtomicFile out(output);
    constexpr std::uint64_t chunk = 1 << 20;
    for (std::uint64_t done = 0; done < size; done += chunk) {
        out.write(reader.read(offset + done, std::min(chunk, size - done)));
    }
    out.commit();
}

} // namespace ksx::sign
