#include "activator/selection_marker.hpp"

#include "activator/root_files.hpp"
#include "util/error.hpp"
#include "util/lines.hpp"

#include <cerrno>

namespace ksx::activator {

namespace {

constexpr std::string_view kHeader = "# kmod-sysext-activate selection, format ";

bool is_plain_file_name(std::string_view name) {
    return !name.empty() && name != "." && name != ".." && name.find('/') == std::string_view::npos;
}

} // namespace

std::string format_selection(const Selection& selection) {
    std::string out = message("{}1\n", {kHeader});
    out += message("# kernel {}\n", {selection.kernel});
    for (const auto& link : selection.links) {
        out += message("{}\t{}\t{}\n", {link.extension, link.link, link.target});
    }
    return out;
}

Selection parse_selection(std::string_view text, const std::string& file_name) {
    Selection selection;
    for_each_line(text, [&](std::string_view line, int line_number) {
        std::string where = message("{}:{}: ", {file_name, std::to_string(line_number)});
        if (line.starts_with(kHeader)) {
            if (line.substr(kHeader.size()) != "1") {
                throw_input("{}unsupported format {}", {where, line.substr(kHeader.size())});
            }
            return;
        }
        if (line.starts_with("# kernel ")) {
            selection.kernel = std::string(line.substr(9));
            return;
        }
        if (line.empty() || line.front() == '#') {
            return;
        }
        auto fields = split_fields(line, '\t');
        if (fields.size() != 3) {
            throw_input("{}expected 3 TAB-separated fields, found {}",
                        {where, std::to_string(fields.size())});
        }
        if (!is_plain_file_name(fields[1])) {
            throw_input("{}link name \"{}\" is not a file name", {where, fields[1]});
        }
        selection.links.push_back(
            {std::string(fields[0]), std::string(fields[1]), std::string(fields[2])});
    });
    return selection;
}

Selection read_selection(const Context& context) {
    if (!stat_beneath(context, kSelectionMarker) && errno == ENOENT) {
        return {};
    }
    return parse_selection(read_beneath(context, kSelectionMarker, kMaxSmallFile),
                           context.on_disk(kSelectionMarker).native());
}

void write_selection(const Context& context, const Selection& selection) {
    write_beneath_atomic(context, kSelectionMarker, format_selection(selection));
}

} // namespace ksx::activator
