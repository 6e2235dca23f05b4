// What loading modules needs from the kernel, behind a small interface: the real one is libkmod;
// tests record the calls to check order, paths and options.
#pragma once

#include "activator/context.hpp"
#include "activator/log.hpp"

#include <filesystem>
#include <memory>
#include <string>

namespace ksx::activator {

// What a module file's appended signature says (as modinfo shows it), to explain a refusal.
struct ModuleSignatureInfo {
    bool readable = false; // false: the file could not be read, nothing is known
    bool is_signed = false;
    std::string signer; // the signer certificate's issuer CN
    std::string key;    // its serial number, "12:AB:..."
    std::string hash;   // "sha256"
};

class KernelModules {
public:
    virtual ~KernelModules() = default;
    // Inserts the module file at `path` (no dependency handling); 0 or -errno (-EEXIST: loaded).
    virtual int insert_path(const std::filesystem::path& path, const std::string& options) = 0;
    // Loads a module of the host by name with its dependencies, as modprobe would; 0 or -errno.
    // Sets `path` to the file it found, if any.
    virtual int probe_name(const std::string& name, std::string& path) = 0;
    // Reads the signature appended to the module file at `path` (compressed or not).
    virtual ModuleSignatureInfo signature_of(const std::filesystem::path& path) = 0;
};

// libkmod on <root>/lib/modules/<kernel> and the modprobe.d directories under root;
// libkmod's own messages go to `log`. Throws Error when libkmod cannot start.
std::unique_ptr<KernelModules> open_libkmod(const Context& context, Log& log);

} // namespace ksx::activator
