#include "contract/modules_load.hpp"

#include "util/error.hpp"
#include "util/lines.hpp"

#include <algorithm>

namespace ksx::contract {

namespace {

constexpr std::string_view kFormatHeader = "# kmod-sysext load order, format ";

bool is_module_name(std::string_view name) {
    return !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '_' || c == '-';
    });
}

// Absolute, inside the merged trees, no "." or ".." or empty components: the activator
// prefixes --root, so a path must not climb out of it.
bool is_image_path(std::string_view path) {
    if (!path.starts_with("/usr/") && !path.starts_with("/opt/")) {
        return false;
    }
    auto parts = split_fields(path.substr(1), '/');
    return std::none_of(parts.begin(), parts.end(), [](std::string_view part) {
        return part.empty() || part == "." || part == "..";
    });
}

std::string quoted(std::string_view text) {
    return message("\"{}\"", {text});
}

// Depth-first over the dependencies with an explicit stack: a chain as long as the file allows
// must not exhaust the call stack. Each module is entered once, so the walk is linear.
void check_cycles(const LoadOrder& order) {
    enum class Mark : unsigned char { unseen, on_path, done };
    std::vector<Mark> marks(order.modules.size(), Mark::unseen);
    auto position = [&](const LoadEntry* entry) {
        return static_cast<std::size_t>(entry - order.modules.data());
    };
    struct Frame {
        const LoadEntry* entry;
        std::size_t next_dependency;
    };
    std::vector<Frame> path;
    for (const auto& start : order.modules) {
        if (marks[position(&start)] != Mark::unseen) {
            continue;
        }
        marks[position(&start)] = Mark::on_path;
        path.push_back({&start, 0});
        while (!path.empty()) {
            Frame& top = path.back();
            if (top.next_dependency == top.entry->depends.size()) {
                marks[position(top.entry)] = Mark::done;
                path.pop_back();
                continue;
            }
            const auto& dep = top.entry->depends[top.next_dependency++];
            const LoadEntry* next = order.find(dep);
            if (next == nullptr || marks[position(next)] == Mark::done) {
                continue;
            }
            if (marks[position(next)] == Mark::on_path) {
                std::string cycle;
                auto from = std::find_if(path.begin(), path.end(),
                                         [&](const Frame& f) { return f.entry == next; });
                for (auto it = from; it != path.end(); ++it) {
                    cycle += message("{} -> ", {it->entry->name});
                }
                throw_input("{}:{}: dependency cycle: {}{}",
                            {order.file, std::to_string(next->line), cycle, dep});
            }
            marks[position(next)] = Mark::on_path;
            path.push_back({next, 0});
        }
    }
}

} // namespace

const LoadEntry* LoadOrder::find(std::string_view name) const {
    auto it = index_.find(name);
    return it == index_.end() ? nullptr : &modules[it->second];
}

std::string format_load_order(const std::string& extension, const std::string& version,
                              const std::string& kernel, const std::vector<LoadEntry>& modules) {
    std::string out = message("{}1\n", {kFormatHeader});
    out += message("# extension {} {}\n", {extension, version});
    out += message("# kernel {}\n", {kernel});
    for (const auto& module : modules) {
        out += module.name;
        out += '\t';
        out += module.path;
        out += '\t';
        if (module.depends.empty()) {
            out += '-';
        }
        for (size_t i = 0; i < module.depends.size(); ++i) {
            out += (i == 0 ? "" : ",") + module.depends[i];
        }
        out += '\t';
        out += module.boot ? "boot" : "demand";
        out += '\t';
        out += module.options;
        out += '\n';
    }
    return out;
}

LoadOrder parse_load_order(std::string_view text, const std::string& file_name) {
    LoadOrder order;
    order.file = file_name;
    if (text.size() > kMaxLoadOrderBytes) {
        throw_input("{}: {} bytes, more than the activator reads ({})",
                    {file_name, std::to_string(text.size()), std::to_string(kMaxLoadOrderBytes)});
    }
    for_each_line(text, [&](std::string_view line, int line_number) {
        std::string where = message("{}:{}: ", {file_name, std::to_string(line_number)});
        if (line.starts_with(kFormatHeader)) {
            auto format = line.substr(kFormatHeader.size());
            if (format != "1") {
                throw_input("{}unsupported format {} (this activator reads format 1)",
                            {where, quoted(format)});
            }
            return;
        }
        if (line.starts_with("# kernel ")) {
            order.kernel = std::string(line.substr(9));
            return;
        }
        if (line.empty() || line.front() == '#') {
            return;
        }
        auto fields = split_fields(line, '\t');
        if (fields.size() != 5) {
            throw_input("{}expected 5 TAB-separated fields (name, path, depends, boot|demand, "
                        "options), found {}",
                        {where, std::to_string(fields.size())});
        }
        LoadEntry entry;
        entry.line = line_number;
        if (!is_module_name(fields[0])) {
            throw_input("{}invalid module name {}", {where, quoted(fields[0])});
        }
        entry.name = std::string(fields[0]);
        if (!is_image_path(fields[1])) {
            throw_input("{}module path {} is not an absolute path inside /usr or /opt",
                        {where, quoted(fields[1])});
        }
        entry.path = std::string(fields[1]);
        if (fields[2] != "-") {
            for (auto dep : split_fields(fields[2], ',')) {
                if (!is_module_name(dep)) {
                    throw_input("{}invalid dependency list {}", {where, quoted(fields[2])});
                }
                if (dep == entry.name) {
                    throw_input("{}{} depends on itself", {where, entry.name});
                }
                entry.depends.emplace_back(dep);
            }
        }
        if (fields[3] == "boot") {
            entry.boot = true;
        } else if (fields[3] == "demand") {
            entry.boot = false;
        } else {
            throw_input("{}{} is neither boot nor demand", {where, quoted(fields[3])});
        }
        entry.options = std::string(fields[4]);
        if (const LoadEntry* first = order.find(entry.name)) {
            throw_input("{}{} is listed twice (first on line {})",
                        {where, entry.name, std::to_string(first->line)});
        }
        if (order.modules.size() == kMaxLoadOrderModules) {
            throw_input("{}more than {} modules, more than the activator loads from one image",
                        {where, std::to_string(kMaxLoadOrderModules)});
        }
        order.index_.emplace(entry.name, order.modules.size());
        order.modules.push_back(std::move(entry));
    });
    check_cycles(order);
    return order;
}

} // namespace ksx::contract
