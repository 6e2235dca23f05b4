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
    std::string out = message("{}1\n", {kHeader});
    for (const auto& record : records) {
        out += message("{}\t{}\t{}\t{}\t{}\t{}\n",
                       {field(record.extension), field(record.image),
                        trust_name(record.check.trust), field(record.check.root_hash),
                        field(record.check.signer), field(record.check.reason)});
    }
    return out;
}

std::vector<VerificationRecord> parse_verification(std::string_view text,
                                                   const std::string& file_name) {
    std::vector<VerificationRecord> records;
    for_each_line(text, [&](std::string_view line, int line_number) {
        std::string where = message("{}:{}: ", {file_name, std::to_string(line_number)});
        if (line.starts_with(kHeader) && line.substr(kHeader.size()) != "1") {
            throw_input("{}unsupported format {}", {where, line.substr(kHeader.size())});
        }
        if (line.empty() || line.front() == '#') {
            return;
        }
        auto fields = split_fields(line, '\t');
        if (fields.size() != 6) {
            throw_input("{}expected 6 TAB-separated fields, found {}",
                        {where, std::to_string(fields.size())});
        }
        ImageTrust trust = ImageTrust::refused;
        if (fields[2] == "verified") {
            trust = ImageTrust::verified;
        } else if (fields[2] == "unsigned") {
            trust = ImageTrust::unsigned_image;
        } else if (fields[2] != "refused") {
            throw_input("{}unknown state \"{}\"", {where, fields[2]});
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
                              context.on_disk(kVerificationRecord).native());
}

void write_verification(const Context& context, const std::vector<VerificationRecord>& records) {
    write_beneath_atomic(context, kVerificationRecord, format_verification(records));
}

} // namespace ksx::activator
