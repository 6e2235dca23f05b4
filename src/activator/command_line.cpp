#include "activator/command_line.hpp"

#include "activator/image_name.hpp"
#include "activator/installed_kernels.hpp"
#include "activator/kernel_modules.hpp"
#include "activator/load.hpp"
#include "activator/prefetch.hpp"
#include "activator/select.hpp"
#include "activator/status.hpp"
#include "activator/status_trust.hpp"
#include "util/error.hpp"

#include <cstdio>
#include <exception>
#include <memory>
#include <span>

namespace ksx::activator {

namespace {

struct Verb {
    const char* name;
    const char* arguments;
    const char* help;
    int (*run)(const Invocation& invocation, Log& log);
};

int run_select(const Invocation& invocation, Log& log) {
    return select_images(invocation.context, log);
}

int run_load(const Invocation& invocation, Log& log) {
    auto modules = open_libkmod(invocation.context, log);
    return load_boot_modules(invocation.context, *modules, log);
}

int run_modprobe(const Invocation& invocation, Log& log) {
    if (invocation.extension.empty() || invocation.module.empty()) {
        throw_input("modprobe needs --extension NAME and a MODULE (see --help)", {});
    }
    auto modules = open_libkmod(invocation.context, log);
    return modprobe_module(invocation.context, *modules, log, invocation.extension,
                           invocation.module, invocation.args);
}

int run_status(const Invocation& invocation, Log& log) {
    auto status = gather_status(invocation.context, log);
    // Module signers need libkmod; without it status still shows the rest.
    std::unique_ptr<KernelModules> modules;
    try {
        modules = open_libkmod(invocation.context, log);
    } catch (const std::exception& e) {
        log.warning("{}; module signers not shown", {e.what()});
    }
    add_trust_status(invocation.context, modules.get(), status);
    auto text = invocation.json ? format_status_json(status) : format_status_text(status);
    std::fputs(text.c_str(), stdout);
    return log.failed() ? 1 : 0;
}

int run_prefetch(const Invocation& invocation, Log& log) {
    if (invocation.from.empty()) {
        throw_input("prefetch needs --from URL|DIR (see --help)", {});
    }
    auto kernels = invocation.all_kernels ? installed_kernels(invocation.context)
                                          : std::vector<std::string>{invocation.context.kernel};
    return prefetch_images(invocation.context, kernels, invocation.from, log);
}

constexpr Verb kVerbs[] = {
    {"select", "", "link the image for the running kernel into /run/extensions", run_select},
    {"load", "", "load the merged images' boot modules in order", run_load},
    {"modprobe", "--extension NAME MODULE [OPTIONS...]",
     "load MODULE of extension NAME with its dependencies (modprobe.d hook)", run_modprobe},
    {"status", "[--json]", "show the store, the selection, what is merged and loaded", run_status},
    {"prefetch", "--from URL|DIR [--all-kernels]",
     "fetch the images for --kernel (or every installed kernel) from a published release into "
     "the store",
     run_prefetch},
};

const Verb* find_verb(const std::string& name) {
    for (const auto& verb : kVerbs) {
        if (name == verb.name) {
            return &verb;
        }
    }
    return nullptr;
}

// "--name=value" or "--name value"; true if `args[i]` is that option (i moves past its value).
bool take_option(std::span<const std::string> args, std::size_t& i, const std::string& name,
                 std::string& value) {
    const auto& arg = args[i];
    if (arg.size() > name.size() && arg.starts_with(name) && arg[name.size()] == '=') {
        value = arg.substr(name.size() + 1);
        return true;
    }
    if (arg != name) {
        return false;
    }
    if (i + 1 >= args.size()) {
        throw_input("{} needs a value", {name});
    }
    value = args[++i];
    return true;
}

} // namespace

Invocation parse_command_line(const std::vector<std::string>& args) {
    Invocation invocation;
    std::string value;
    for (std::size_t i = 0; i < args.size(); ++i) {
        const auto& arg = args[i];
        if (invocation.verb == "modprobe" && !invocation.module.empty()) {
            invocation.args.push_back(arg); // module options, whatever they look like
        } else if (arg == "--help" || arg == "-h") {
            invocation.help = true;
        } else if (arg == "--version") {
            invocation.version = true;
        } else if (take_option(args, i, "--root", value)) {
            if (value.empty()) {
                throw_input("--root needs a directory", {});
            }
            invocation.context.root = std::filesystem::absolute(value);
        } else if (take_option(args, i, "--kernel", value)) {
            if (!is_kernel_release(value)) {
                throw_input("--kernel: \"{}\" is not a kernel release (letters, digits and "
                            "\"._+~-\", at most 64 characters)",
                            {value});
            }
            invocation.context.kernel = value;
            invocation.kernel_given = true;
        } else if (take_option(args, i, "--store", value)) {
            if (value.empty() || value.front() != '/') {
                throw_input("--store needs an absolute path (as the node sees it)", {});
            }
            invocation.context.store = value;
        } else if (arg == "--json" && invocation.verb == "status") {
            invocation.json = true;
        } else if (arg == "--all-kernels" && invocation.verb == "prefetch") {
            invocation.all_kernels = true;
        } else if (invocation.verb == "modprobe" &&
                   take_option(args, i, "--extension", invocation.extension)) {
            continue; // take_option stored the value
        } else if (invocation.verb == "prefetch" &&
                   take_option(args, i, "--from", invocation.from)) {
            continue; // take_option stored the value
        } else if (arg.starts_with("-")) {
            throw_input(
                "unknown option {}{} (see --help)",
                {arg, (invocation.verb.empty() ? "" : message(" for {}", {invocation.verb}))});
        } else if (invocation.verb.empty()) {
            if (find_verb(arg) == nullptr) {
                throw_input("unknown verb {} (see --help)", {arg});
            }
            invocation.verb = arg;
        } else if (invocation.verb == "modprobe") {
            invocation.module = arg;
        } else {
            throw_input("unexpected argument {} (see --help)", {arg});
        }
    }
    if (invocation.verb.empty() && !invocation.help && !invocation.version) {
        throw_input("no verb given (see --help)", {});
    }
    return invocation;
}

std::string usage_text() {
    std::string out = "Usage: kmod-sysext-activate [OPTIONS] VERB [ARGS...]\n\n"
                      "Chooses, for the running kernel, the kmod-sysext images systemd-sysext\n"
                      "merges, and loads their kernel modules.\n\nVerbs:\n";
    for (const auto& verb : kVerbs) {
        out += message("  {} {}\n      {}\n", {verb.name, verb.arguments, verb.help});
    }
    out += "\nOptions:\n"
           "  --root=PATH      operate on the tree at PATH instead of /\n"
           "  --kernel=RELEASE act for this kernel instead of the running one\n"
           "  --store=DIR      image store (default /var/lib/kmod-sysext)\n"
           "  --help, --version\n";
    return out;
}

int run(int argc, char** argv) {
    Log log;
    try {
        auto invocation = parse_command_line(std::vector<std::string>(argv + 1, argv + argc));
        if (invocation.help) {
            std::fputs(usage_text().c_str(), stdout);
            return 0;
        }
        if (invocation.version) {
            std::fputs("kmod-sysext-activate " KSX_VERSION "\n", stdout);
            return 0;
        }
        if (!invocation.kernel_given) {
            invocation.context.kernel = running_kernel();
        }
        return find_verb(invocation.verb)->run(invocation, log);
    } catch (const InputError& e) {
        log.error(e.what());
        return 2;
    } catch (const std::exception& e) {
        log.error(e.what());
        return 1;
    }
}

} // namespace ksx::activator
