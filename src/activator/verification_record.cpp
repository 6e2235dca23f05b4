#include "activator/verification_record.hpp"

#include "activator/root_files.hpp"
#include "util/error.hpp"

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
    std::string out = std::string(kHeader) + "1\n";
    for (const auto& record : records) {
        out += field(record.extension) + "\t" + field(record.image) + "\t" +
               trust_name(record.check.trust) + "\t" + field(record.check.root_hash) + "\t" +
               field(record.check.signer) + "\t" + field(record.check.reason) + "\n";
    }
    return out;
}

std::vector<VerificationRecord> parse_verification(std::string_view text,
                                                   const std::string& file_name) {
    std::vector<VerificationRecord> records;
    int line_number = 0;
    while (!text.empty()) {
        auto end = text.find('\n');
        auto line = text.substr(0, end);
        text = end == std::string_view::npos ? std::string_view() : text.substr(end + 1);
        ++line_number;
        std::string where = file_name + ":" + std::to_string(line_number) + ": ";
        if (line.starts_with(kHeader) && line.substr(kHeader.size()) != "1") {
            throw InputError(where + "unsupported format " +
                             std::string(line.substr(kHeader.size())));
        }
        if (line.empty() || line.front() == '#') {
            continue;
        }
        std::vector<std::string> fields;
        for (;;) {
            auto tab = line.find('\t');
            fields.emplace_back(line.substr(0, tab));
            if (tab == std::string_view::npos) {
                break;
            }
            line.remove_prefix(tab + 1);
        }
        if (fields.size() != 6) {
            throw InputError(where + "expected 6 TAB-separated fields, found " +
                             std::to_string(fields.size()));
        }
        ImageTrust trust = ImageTrust::refused;
        if (fields[2] == "verified") {
            trust = ImageTrust::verified;
        } else if (fields[2] == "unsigned") {
            trust = ImageTrust::unsigned_image;
        } else if (fields[2] != "refused") {
            throw InputError(where + "unknown state \"" + fields[2] + "\"");
        }
        records.push_back({fields[0], fields[1], {trust, fields[5], fields[3], fields[4], {}}});
    }
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
