// The `load` and `modprobe` verbs: loading the merged images' modules in their order.
#pragma once

#include "activator/context.hpp"
#include "activator/kernel_modules.hpp"
#include "activator/kernel_trust.hpp"
#include "activator/log.hpp"
#include "contract/modules_load.hpp"

#include <map>
#include <string>
#include <vector>

namespace ksx::activator {

// Loads modules of one load order, each after its dependencies: those listed in the order by
// path (with their options), the others from the host by name. Remembers what it did, so a
// module shared by several others is tried once.
class ModuleLoader {
public:
    ModuleLoader(const Context& context, KernelModules& modules, Log& log)
        : context_(context), modules_(modules), log_(log) {}

    // Loads `name` (listed in `order`) with its options plus `extra_options`; false if it or
    // a dependency failed (each failure logged with module, path and the kernel's reason).
    bool load(const contract::LoadOrder& order, const std::string& name,
              const std::string& extra_options = {});

private:
    bool insert(const contract::LoadEntry& entry, bool dependencies_ok,
                const std::string& extra_options);
    bool load_from_host(const std::string& name, const std::string& needed_by);
    const Context& context_;
    KernelModules& modules_;
    Log& log_;
    std::map<std::string, bool> done_;
    std::map<std::string, bool> host_done_;
};

// Where merged images keep their files for the activator (one directory per extension).
inline constexpr const char* kToolDir = "/usr/lib/kmod-sysext";

// Reads and checks <root>/usr/lib/kmod-sysext/<extension>/modules.load: parsed, and built for
// context.kernel if it says. Throws InputError / Error naming the file.
contract::LoadOrder read_load_order(const Context& context, const std::string& extension);

// True if <root>/usr/lib/kmod-sysext/<name> is a directory and `name` an extension's name: only
// those hold a modules.load (the activator itself, say, may sit there too).
bool is_extension_directory(const Context& context, const std::string& name);

// `load`: every merged extension's "boot" modules in order (directories of /usr/lib/kmod-sysext
// with an extension's name; other entries there are left alone). When the kernel enforces module
// signatures and does not trust an extension's signer (its keyrings read with `read_keyring`),
// says so once and stops at that extension's first refused module. Returns the exit status.
int load_boot_modules(const Context& context, KernelModules& modules, Log& log,
                      const KeyringReader& read_keyring = read_keyring_members);

// `modprobe --extension NAME MODULE [ARGS...]`: MODULE with its dependencies, boot or demand;
// ARGS are module options (from modprobe's $CMDLINE_OPTS). Returns the exit status.
int modprobe_module(const Context& context, KernelModules& modules, Log& log,
                    const std::string& extension, const std::string& module,
                    const std::vector<std::string>& args);

} // namespace ksx::activator
