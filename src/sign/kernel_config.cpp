#include "sign/kernel_config.hpp"

#include "util/file_io.hpp"

#include <sstream>

namespace ksx::sign {

namespace fs = std::filesystem;

KernelConfig::KernelConfig(std::string_view text, fs::path file) : file_(std::move(file)) {
    std::istringstream lines{std::string(text)};
    std::string line;
    while (std::getline(lines, line)) {
        auto eq = line.find('=');
        if (line.starts_with("CONFIG_") && eq != std::string::npos) {
            auto value = line.substr(eq + 1);
            if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
                value = value.substr(1, value.size() - 2);
            }
            values_[line.substr(0, eq)] = value;
        }
    }
}

std::optional<std::string> KernelConfig::value(const std::string& option) const {
    auto it = values_.find(option);
    if (it == values_.end()) {
        return std::nullopt;
    }
    return it->second;
}

bool KernelConfig::enabled(const std::string& option) const {
    return value(option) == "y";
}

std::optional<KernelConfig> read_kernel_config(const fs::path& kernel_tree) {
    for (const auto& name : {"include/config/auto.conf", ".config"}) {
        auto file = kernel_tree / name;
        std::error_code ec;
        if (fs::is_regular_file(file, ec)) {
            return KernelConfig(read_file(file), file);
        }
    }
    return std::nullopt;
}

} // namespace ksx::sign
