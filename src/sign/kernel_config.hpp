// The configuration of the kernel modules are built for, read from its build tree:
// include/config/auto.conf (what kbuild uses), else .config.
#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace ksx::sign {

class KernelConfig {
public:
    // Parses "CONFIG_X=value" lines; comments ("# CONFIG_Y is not set") and blanks are skipped.
    // `file` is named in descriptions.
    KernelConfig(std::string_view text, std::filesystem::path file);

    // The option's value with the double quotes of a string option removed; nothing when unset.
    std::optional<std::string> value(const std::string& option) const;

    // True when the option is "y".
    bool enabled(const std::string& option) const;

    const std::filesystem::path& file() const { return file_; }

private:
    std::map<std::string, std::string> values_;
    std::filesystem::path file_;
};

// The configuration of the kernel build tree `kernel_tree`: include/config/auto.conf when it
// exists, else .config; nothing when it has neither. Throws Error when one cannot be read.
std::optional<KernelConfig> read_kernel_config(const std::filesystem::path& kernel_tree);

} // namespace ksx::sign
