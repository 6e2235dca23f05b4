#include "activator/load.hpp"

#include "activator/image_name.hpp"
#include "activator/module_signer.hpp"
#include "activator/root_files.hpp"
#include "util/error.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <optional>
#include <sys/stat.h>
#include <system_error>

namespace ksx::activator {

namespace fs = std::filesystem;

namespace {

// The kernel's reason, and for a refused signature what it means: with module.sig_enforce=1 or
// Secure Boot, an unsigned module or one signed by a key outside the kernel's keyring gives
// EKEYREJECTED, a signature that does not match the module EBADMSG; a driver without hardware
// ENODEV. For a module file the reason says which of the two signature cases it is, from the
// signature appended to the file.
std::string kernel_reason(int err, KernelModules& modules, const fs::path& file = {}) {
    std::string reason = std::strerror(err);
    if (err == EKEYREJECTED || err == ENOKEY) {
        std::string why = "it is unsigned or signed by a key the kernel does not trust";
        if (!file.empty()) {
            auto signature = modules.signature_of(file);
            if (signature.readable && !signature.is_signed) {
                why = "it carries no signature";
            } else if (signature.readable) {
                // libkmod names the signer only when it was built with OpenSSL.
                auto by = signature.signer.empty()
                              ? std::string()
                              : message(" \"{}\" (key {}, {}),",
                                        {signature.signer, signature.key, signature.hash});
                why = message("it is signed by{} a key that is not in the kernel's keyring", {by});
            }
        }
        reason +=
            message(" (the kernel enforces module signatures and refused this module: {})", {why});
    } else if (err == EBADMSG) {
        reason += " (the module's signature is malformed or does not match the module)";
    } else if (err == ENODEV) {
        // The kernel accepted the module; its init found nothing to drive (e.g. no GPU).
        reason += " (the driver found no device it supports)";
    }
    return reason;
}

std::string join_options(const std::string& a, const std::string& b) {
    if (a.empty() || b.empty()) {
        return a + b;
    }
    return message("{} {}", {a, b});
}

} // namespace

bool ModuleLoader::load(const contract::LoadOrder& order, const std::string& name,
                        const std::string& extra_options) {
    if (auto it = done_.find(name); it != done_.end()) {
        return it->second;
    }
    const contract::LoadEntry* entry = order.find(name);
    if (entry == nullptr) {
        log_.error("{} is not listed in {}", {name, order.file});
        return done_[name] = false;
    }
    // Dependencies first, depth-first with an explicit stack (a long chain must not exhaust the
    // call stack); each module is loaded once, so the walk is linear. The order is acyclic
    // (contract::parse_load_order checks).
    struct Frame {
        const contract::LoadEntry* entry;
        std::size_t next_dependency;
        bool dependencies_ok;
    };
    std::vector<Frame> stack{{entry, 0, true}};
    bool result = false;
    while (!stack.empty()) {
        Frame& top = stack.back();
        if (top.next_dependency < top.entry->depends.size()) {
            const auto& dep = top.entry->depends[top.next_dependency++];
            const contract::LoadEntry* listed = order.find(dep);
            if (listed == nullptr) {
                bool ok = load_from_host(dep, top.entry->name);
                top.dependencies_ok = top.dependencies_ok && ok;
            } else if (auto it = done_.find(dep); it != done_.end()) {
                top.dependencies_ok = top.dependencies_ok && it->second;
            } else {
                stack.push_back({listed, 0, true});
            }
            continue;
        }
        bool ok = insert(*top.entry, top.dependencies_ok,
                         stack.size() == 1 ? extra_options : std::string());
        done_[top.entry->name] = ok;
        stack.pop_back();
        if (stack.empty()) {
            result = ok;
        } else {
            stack.back().dependencies_ok = stack.back().dependencies_ok && ok;
        }
    }
    return result;
}

bool ModuleLoader::insert(const contract::LoadEntry& entry, bool dependencies_ok,
                          const std::string& extra_options) {
    if (!dependencies_ok) {
        log_.error("not loading {} from {}: a dependency failed", {entry.name, entry.path});
        return false;
    }
    std::string options = join_options(entry.options, extra_options);
    const auto file = context_.on_disk(entry.path);
    int r = modules_.insert_path(file, options);
    if (r == -EEXIST) {
        log_.info("{} is already loaded", {entry.name});
    } else if (r < 0) {
        log_.error("failed to load {} from {}: {}",
                   {entry.name, entry.path, kernel_reason(-r, modules_, file)});
        return false;
    } else {
        log_.info("loaded {} from {}{}",
                  {entry.name, entry.path,
                   (options.empty() ? "" : message(" with options {}", {options}))});
    }
    return true;
}

bool ModuleLoader::load_from_host(const std::string& name, const std::string& needed_by) {
    if (auto it = host_done_.find(name); it != host_done_.end()) {
        return it->second;
    }
    std::string path;
    int r = modules_.probe_name(name, path);
    if (r < 0 && r != -EEXIST) {
        std::string where =
            path.empty() ? message("the modules of kernel {}", {context_.kernel}) : path;
        std::string reason =
            r == -ENOENT && path.empty() ? "not found" : kernel_reason(-r, modules_);
        log_.error("failed to load {} (needed by {}) from {}: {}",
                   {name, needed_by, where, reason});
        return host_done_[name] = false;
    }
    log_.info("loaded {} (needed by {}) from {}",
              {name, needed_by, (path.empty() ? "the kernel" : path)});
    return host_done_[name] = true;
}

bool is_extension_directory(const Context& context, const std::string& name) {
    if (!is_extension_name(name)) {
        return false;
    }
    auto st = stat_beneath(context, message("{}/{}", {kToolDir, name}));
    return st && S_ISDIR(st->st_mode);
}

contract::LoadOrder read_load_order(const Context& context, const std::string& extension) {
    fs::path node_file = message("{}/{}/modules.load", {kToolDir, extension});
    auto file = context.on_disk(node_file);
    auto order = contract::parse_load_order(
        read_beneath(context, node_file, contract::kMaxLoadOrderBytes), file.native());
    if (order.kernel && *order.kernel != context.kernel) {
        throw_input("{}: built for kernel {}, but the running kernel is {}",
                    {file.native(), *order.kernel, context.kernel});
    }
    return order;
}

int load_boot_modules(const Context& context, KernelModules& modules, Log& log,
                      const KeyringReader& read_keyring) {
    auto dir = context.on_disk(kToolDir);
    std::error_code ec;
    auto extensions = list_beneath(context, kToolDir, ec);
    if (ec == std::errc::no_such_file_or_directory) {
        log.info("no extension is merged ({} does not exist): nothing to load", {dir.native()});
        return 0;
    }
    if (ec) {
        log.error("cannot read {}: {}", {dir.native(), ec.message()});
        return 1;
    }
    std::optional<KernelTrust> kernel;
    for (const auto& extension : extensions) {
        if (!is_extension_directory(context, extension)) {
            continue; // e.g. the activator itself, installed next to the extensions' files
        }
        try {
            auto order = read_load_order(context, extension);
            if (!kernel) {
                kernel = read_kernel_trust(context, read_keyring);
            }
            // Said once, before the kernel refuses the first module; the others are not tried.
            std::optional<std::string> forecast;
            if (kernel->enforces_module_signatures() && kernel->keys_known) {
                if (auto signer = module_signer(context, modules, order, *kernel)) {
                    forecast = refusal_forecast(*kernel, extension, *signer);
                }
            }
            if (forecast) {
                log.error(*forecast);
            }
            ModuleLoader loader(context, modules, log);
            std::size_t count = 0;
            for (const auto& entry : order.modules) {
                if (entry.boot) {
                    if (!loader.load(order, entry.name) && forecast) {
                        log.error("{}: not loading its other modules", {extension});
                        break;
                    }
                    ++count;
                }
            }
            log.info("{}: {} boot module(s) handled", {extension, std::to_string(count)});
        } catch (const std::exception& e) {
            log.error("{}; not loading the modules of {}", {e.what(), extension});
        }
    }
    return log.failed() ? 1 : 0;
}

int modprobe_module(const Context& context, KernelModules& modules, Log& log,
                    const std::string& extension, const std::string& module,
                    const std::vector<std::string>& args) {
    if (!is_extension_name(extension)) {
        throw_input("invalid extension name \"{}\"", {extension});
    }
    auto order = read_load_order(context, extension);
    if (order.find(module) == nullptr) {
        throw_input("{} is not a module of extension {} ({})", {module, extension, order.file});
    }
    std::string options;
    for (const auto& arg : args) {
        options = join_options(options, arg);
    }
    ModuleLoader loader(context, modules, log);
    loader.load(order, module, options);
    return log.failed() ? 1 : 0;
}

} // namespace ksx::activator
