#include "activator/load.hpp"

#include "activator/image_name.hpp"
#include "util/error.hpp"
#include "util/file_io.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
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
                              : " \"" + signature.signer + "\" (key " + signature.key + ", " +
                                    signature.hash + "),";
                why = "it is signed by" + by + " a key that is not in the kernel's keyring";
            }
        }
        reason += " (the kernel enforces module signatures and refused this module: " + why + ")";
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
    return a + " " + b;
}

} // namespace

bool ModuleLoader::load(const LoadOrder& order, const std::string& name,
                        const std::string& extra_options) {
    if (auto it = done_.find(name); it != done_.end()) {
        return it->second;
    }
    const LoadEntry* entry = order.find(name);
    if (entry == nullptr) {
        log_.error(name + " is not listed in " + order.file);
        return done_[name] = false;
    }
    bool dependencies_ok = true;
    for (const auto& dep : entry->depends) {
        bool ok = order.find(dep) != nullptr ? load(order, dep) : load_from_host(dep, name);
        dependencies_ok = dependencies_ok && ok;
    }
    if (!dependencies_ok) {
        log_.error("not loading " + name + " from " + entry->path + ": a dependency failed");
        return done_[name] = false;
    }
    std::string options = join_options(entry->options, extra_options);
    int r = modules_.insert_path(context_.on_disk(entry->path), options);
    if (r == -EEXIST) {
        log_.info(name + " is already loaded");
    } else if (r < 0) {
        log_.error("failed to load " + name + " from " + entry->path + ": " +
                   kernel_reason(-r, modules_, context_.on_disk(entry->path)));
        return done_[name] = false;
    } else {
        log_.info("loaded " + name + " from " + entry->path +
                  (options.empty() ? "" : " with options " + options));
    }
    return done_[name] = true;
}

bool ModuleLoader::load_from_host(const std::string& name, const std::string& needed_by) {
    if (auto it = host_done_.find(name); it != host_done_.end()) {
        return it->second;
    }
    std::string path;
    int r = modules_.probe_name(name, path);
    if (r < 0 && r != -EEXIST) {
        std::string where = path.empty() ? "the modules of kernel " + context_.kernel : path;
        std::string reason =
            r == -ENOENT && path.empty() ? "not found" : kernel_reason(-r, modules_);
        log_.error("failed to load " + name + " (needed by " + needed_by + ") from " + where +
                   ": " + reason);
        return host_done_[name] = false;
    }
    log_.info("loaded " + name + " (needed by " + needed_by + ") from " +
              (path.empty() ? "the kernel" : path));
    return host_done_[name] = true;
}

LoadOrder read_load_order(const Context& context, const std::string& extension) {
    auto file = context.on_disk("/usr/lib/kmod-sysext/" + extension + "/modules.load");
    auto order = parse_load_order(read_file(file), file.string());
    if (order.kernel && *order.kernel != context.kernel) {
        throw InputError(file.string() + ": built for kernel " + *order.kernel +
                         ", but the running kernel is " + context.kernel);
    }
    return order;
}

int load_boot_modules(const Context& context, KernelModules& modules, Log& log) {
    auto dir = context.on_disk("/usr/lib/kmod-sysext");
    std::error_code ec;
    std::vector<std::string> extensions;
    for (fs::directory_iterator it(dir, ec); !ec && it != fs::directory_iterator();
         it.increment(ec)) {
        extensions.push_back(it->path().filename().string());
    }
    if (ec == std::errc::no_such_file_or_directory) {
        log.info("no extension is merged (" + dir.string() + " does not exist): nothing to load");
        return 0;
    }
    if (ec) {
        log.error("cannot read " + dir.string() + ": " + ec.message());
        return 1;
    }
    std::sort(extensions.begin(), extensions.end());
    for (const auto& extension : extensions) {
        if (!is_extension_name(extension)) {
            continue;
        }
        try {
            auto order = read_load_order(context, extension);
            ModuleLoader loader(context, modules, log);
            std::size_t count = 0;
            for (const auto& entry : order.modules) {
                if (entry.boot) {
                    loader.load(order, entry.name);
                    ++count;
                }
            }
            log.info(extension + ": " + std::to_string(count) + " boot module(s) handled");
        } catch (const std::exception& e) {
            log.error(std::string(e.what()) + "; not loading the modules of " + extension);
        }
    }
    return log.failed() ? 1 : 0;
}

int modprobe_module(const Context& context, KernelModules& modules, Log& log,
                    const std::string& extension, const std::string& module,
                    const std::vector<std::string>& args) {
    if (!is_extension_name(extension)) {
        throw InputError("invalid extension name \"" + extension + "\"");
    }
    auto order = read_load_order(context, extension);
    if (order.find(module) == nullptr) {
        throw InputError(module + " is not a module of extension " + extension + " (" + order.file +
                         ")");
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
