// Command line of kmod-sysext-activate: global options, then one verb from a table.
#pragma once

#include "activator/context.hpp"

#include <string>
#include <vector>

namespace ksx::activator {

struct Invocation {
    std::string verb; // empty with --help / --version
    Context context;
    bool kernel_given = false;
    bool json = false;
    bool help = false;
    bool version = false;
    std::string extension;         // modprobe --extension
    std::string module;            // modprobe MODULE
    std::vector<std::string> args; // modprobe's module options, verbatim
    std::string from;              // prefetch --from URL|DIR
    bool all_kernels = false;      // prefetch --all-kernels
};

// Parses arguments (argv without the program name); throws InputError for usage mistakes.
// Does not look up the running kernel (see run()).
Invocation parse_command_line(const std::vector<std::string>& args);

// "Usage: ..." with the verbs table.
std::string usage_text();

// The whole program: parses, runs the verb, maps errors to exit statuses (2 usage or bad input,
// 1 failure, 0 success). No exception escapes.
int run(int argc, char** argv);

} // namespace ksx::activator
