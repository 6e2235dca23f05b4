#include "activator/verification_record.hpp"

#include "activator/root_files.hpp"
#include "util/error.hpp"
#include "util/lines.hpp"

#include <algorithm>
#include <cerrno>

namespace ksx::activator {

namespace {

constexpr std::string_view kHeader = "# kmod-sysext-activate verification, format ";

std::string field(std::string value) {
    std::replace_if(
        value.begin(), value.end(), [](char c) { return c == '\t' || c == '\n'; }, ' ');
    return value;
}

} // namespace

std::string format_verification(const std::vector<VerificationRecord>& records) {
    std::string out = cat({kHeader, "1\n"});
    for (const auto& record : records) {
        out += cat({field(record.extension), "\t", field(record.image), "\t",
                    trust_name(record.check.trust), "\t", field(record.check.root_hash), "\t",
                    field(record.check.signer), "\t", field(record.check.reason), "\n"});
    }
    return out;
}

std::vector<VerificationRecord> parse_verification(std::string_view text,
                                                   const std::string& file_name) {
    std::vector<VerificationRecord> records;
    for_each_line(text, [&](std::string_view line, int line_number) {
        std::string where = cat({file_name, ":", std::to_string(line_number), ": "});
        if (line.starts_with(kHeader) && line.substr(kHeader.size()) != "1") {
            throw_input({where, "unsupported format ", line.substr(kHeader.size())});
        }
        if (line.empty() || line.front() == '#') {
            return;
        }
        auto fields = split_fields(line, '\t');
        if (fields.size() != 6) {
            throw_input(
                {where, "expected 6 TAB-separated fields, found ", std::to_string(fields.size())});
        }
        ImageTrust trust = ImageTrust::refused;
        if (fields[2] == "verified") {
            trust = ImageTrust::verified;
        } else if (fields[2] == "unsigned") {
            trust = ImageTrust::unsigned_image;
        } else if (fields[2] != "refused") {
            throw_input({where, "unknown state \"", fields[2], "\""});
        }
        records.push_back(
            {std::string(fields[0]),
             std::string(fields[1]),
             {trust, std::string(fields[5]), std::string(fields[3]), std::string(fields[4]), {}}});
    });
    return records;
}

std::vector<VerificationRecord> read_verification(const Context& context) {
    if (!stat_beneath(context, kVerificationRecord) && errno == ENOENT) {
        return {};
    }
    return parse_verification(read_beneath(context, kVerificationRecord, kMaxSmallFile),
                              context.on_disk(kVerificationRecord).string());
}

void write_verification(const Context& context, const std::vector<VerificationRecord>& records) {
    write_beneath_atomic(context, kVerificationRecord, format_verification(records));
}

} // namespace ksx::activator
