// kmod-sysext: builds signed systemd-sysext images of out-of-tree kernel modules.
#include "cli/commands.hpp"
#include "pack/build_images.hpp"
#include "util/error.hpp"

#include <cstdio>
#include <exception>
#include <fmt/core.h>
#include <memory>

namespace ksx::cli {

const std::vector<Command>& commands() {
    static const std::vector<Command> table{
        build_command(),  validate_command(), inspect_command(), keygen_command(),
        verify_command(), plan_command(),     publish_command(), ignition_command(),
        cache_command(),  enroll_command()};
    return table;
}

namespace {

// An error of the input (exit status 2) on stderr. Manifest errors carry their own
// "file:line:col: error:" prefix.
int input_error(const std::string& message) {
    bool positioned = message.substr(0, message.find('\n')).find(": error: ") != std::string::npos;
    std::fflush(stdout);
    fmt::print(stderr, "{}{}\n", positioned ? "" : "kmod-sysext: error: ", message);
    return 2;
}

// Any other error (exit status 1) on stderr.
int other_error(const std::string& message) {
    std::fflush(stdout);
    fmt::print(stderr, "kmod-sysext: error: {}\n", message);
    return 1;
}

} // namespace

} // namespace ksx::cli

int main(int argc, char** argv) {
    using namespace ksx;
    CLI::App app{"kmod-sysext: out-of-tree kernel modules as systemd-sysext images, one per kernel",
                 "kmod-sysext"};
    app.set_version_flag("--version", std::string("kmod-sysext ") + KSX_VERSION);
    app.require_subcommand(1);
    cli::GlobalOptions global;
    std::function<int()> selected;
    std::vector<std::function<int()>> runners;
    for (const auto& command : cli::commands()) {
        auto* sub = app.add_subcommand(command.name, command.help);
        sub->add_flag("--json", global.json, "Print machine-readable JSON on stdout");
        sub->add_flag("-q,--quiet", global.quiet, "Print no progress");
        auto run = command.setup(*sub, global);
        sub->final_callback([&selected, run] { selected = run; });
    }
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        int status = app.exit(e);
        return status == 0 ? 0 : 2;
    }
    try {
        return selected ? selected() : 2;
    } catch (const pack::KernelFailures& e) {
        // One line per kernel that failed ("kernel K: why; see LOG"), after the others' images.
        return e.input() ? cli::input_error(e.what()) : cli::other_error(e.what());
    } catch (const InputError& e) {
        return cli::input_error(e.what());
    } catch (const std::exception& e) {
        return cli::other_error(e.what());
    }
}
