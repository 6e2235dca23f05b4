// Running external programs (bwrap, debootstrap, modinfo, strip) without a shell.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace ksx {

struct ProcessOptions {
    // stdout and stderr go here (appended) when set; otherwise they are inherited.
    std::optional<std::filesystem::path> log_file;
    // stdout goes to this open descriptor when set (run_process only; before log_file).
    std::optional<int> stdout_fd;
    // Extra environment entries "NAME=value"; the rest is inherited unless clear_env.
    std::vector<std::string> env;
    bool clear_env = false;
};

struct ProcessResult {
    int exit_status = 0; // 128 + signal number when killed by a signal
    std::string output;  // captured stdout (run_capture only)
};

// Runs argv[0] (searched in PATH) and waits for it.
ProcessResult run_process(const std::vector<std::string>& argv, const ProcessOptions& options = {});

// Like run_process but captures stdout; stderr follows options.log_file or is inherited.
ProcessResult run_capture(const std::vector<std::string>& argv, const ProcessOptions& options = {});

// "a b 'c d'" for messages and logs.
std::string quote_command(const std::vector<std::string>& argv);

} // namespace ksx
