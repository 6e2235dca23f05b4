// The subcommands of `kmod-sysext`; main.cpp registers them from one table.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <string>
#include <vector>

namespace ksx::cli {

struct GlobalOptions {
    bool json = false;
    bool quiet = false;
};

struct Command {
    const char* name;
    const char* help;
    // Adds the command's options to `app` and returns what runs it (an exit status).
    std::function<std::function<int()>(CLI::App& app, const GlobalOptions& global)> setup;
};

const std::vector<Command>& commands();

Command build_command();
Command validate_command();
Command inspect_command();
Command keygen_command();
Command verify_command();
Command plan_command();
Command publish_command();
Command ignition_command();
Command cache_command();
Command enroll_command();

} // namespace ksx::cli
