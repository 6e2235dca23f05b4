#include "activator/kernel_modules.hpp"

#include "activator/root_files.hpp"
#include "util/error.hpp"
#include "util/unique_handle.hpp"

#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <fcntl.h>
#include <libkmod.h>
#include <unistd.h>
#include <vector>

namespace ksx::activator {

namespace {

using KmodContext = UniqueHandle<kmod_ctx, kmod_unref>;
using KmodModule = UniqueHandle<kmod_module, kmod_module_unref>;
using KmodList = UniqueHandle<kmod_list, kmod_module_unref_list>;
using KmodInfoList = UniqueHandle<kmod_list, kmod_module_info_free_list>;

void log_from_libkmod(void* data, int /*priority*/, const char* /*file*/, int /*line*/,
                      const char* /*fn*/, const char* format, va_list args) {
    char buffer[512];
    std::vsnprintf(buffer, sizeof buffer, format, args);
    std::string message = buffer;
    while (!message.empty() && message.back() == '\n') {
        message.pop_back();
    }
    static_cast<Log*>(data)->info("libkmod: {}", {message});
}

class Libkmod final : public KernelModules {
public:
    Libkmod(const Context& context, Log& log) : context_(context) {
        std::string modules_dir =
            context.on_disk(message("/lib/modules/{}", {context.kernel})).string();
        // libkmod's defaults, under the root.
        for (const char* dir : {"/etc/modprobe.d", "/run/modprobe.d", "/usr/local/lib/modprobe.d",
                                "/lib/modprobe.d", "/usr/lib/modprobe.d"}) {
            config_dirs_.push_back(context.on_disk(dir).string());
        }
        for (const auto& dir : config_dirs_) {
            config_.push_back(dir.c_str());
        }
        config_.push_back(nullptr);
        ctx_.reset(kmod_new(modules_dir.c_str(), context.root == "/" ? nullptr : config_.data()));
        if (!ctx_) {
            throw_error("cannot start libkmod for {}", {modules_dir});
        }
        kmod_set_log_fn(ctx_.get(), log_from_libkmod, &log);
    }

    int insert_path(const std::filesystem::path& path, const std::string& options) override {
        std::string file;
        if (int r = resolve(path, file); r < 0) {
            return r;
        }
        kmod_module* raw = nullptr;
        int r = kmod_module_new_from_path(ctx_.get(), file.c_str(), &raw);
        if (r < 0) {
            return r;
        }
        KmodModule module(raw);
        return kmod_module_insert_module(module.get(), 0,
                                         options.empty() ? nullptr : options.c_str());
    }

    int probe_name(const std::string& name, std::string& path) override {
        kmod_list* raw = nullptr;
        int r = kmod_module_new_from_lookup(ctx_.get(), name.c_str(), &raw);
        if (r < 0) {
            return r;
        }
        KmodList list(raw);
        if (!list) {
            return -ENOENT;
        }
        kmod_list* item = nullptr;
        kmod_list_foreach(item, list.get()) {
            KmodModule module(kmod_module_get_module(item));
            if (const char* found = kmod_module_get_path(module.get())) {
                path = found;
            }
            r = kmod_module_probe_insert_module(module.get(), 0, nullptr, nullptr, nullptr,
                                                nullptr);
            if (r < 0) {
                return r;
            }
        }
        return 0;
    }

    ModuleSignatureInfo signature_of(const std::filesystem::path& path) override {
        ModuleSignatureInfo info;
        std::string file;
        kmod_module* raw = nullptr;
        if (resolve(path, file) < 0 ||
            kmod_module_new_from_path(ctx_.get(), file.c_str(), &raw) < 0) {
            return info;
        }
        KmodModule module(raw);
        kmod_list* raw_info = nullptr;
        if (kmod_module_get_info(module.get(), &raw_info) < 0) {
            return info;
        }
        KmodInfoList list(raw_info);
        info.readable = true;
        kmod_list* item = nullptr;
        kmod_list_foreach(item, list.get()) {
            std::string key = kmod_module_info_get_key(item);
            const char* value = kmod_module_info_get_value(item);
            std::string text = value != nullptr ? value : "";
            if (key == "sig_id") {
                info.is_signed = true;
            } else if (key == "signer") {
                info.signer = text;
            } else if (key == "sig_key") {
                info.key = text;
            } else if (key == "sig_hashalgo") {
                info.hash = text;
            }
        }
        return info;
    }

private:
    // libkmod opens module files by path: hand it the file `path` (under the root) names once
    // resolved beneath the root, so a symlink in the merged tree cannot lead out of it.
    int resolve(const std::filesystem::path& path, std::string& file) const {
        auto node_path = "/" / path.lexically_relative(context_.root);
        UniqueFd fd = open_beneath(context_, node_path, O_PATH);
        if (!fd) {
            return -errno;
        }
        std::string link = message("/proc/self/fd/{}", {std::to_string(fd.get())});
        std::string target(4096, '\0');
        ssize_t n = ::readlink(link.c_str(), target.data(), target.size());
        if (n <= 0 || static_cast<std::size_t>(n) == target.size()) {
            return n < 0 ? -errno : -ENAMETOOLONG;
        }
        target.resize(static_cast<std::size_t>(n));
        file = std::move(target);
        return 0;
    }

    Context context_;
    std::vector<std::string> config_dirs_;
    std::vector<const char*> config_;
    KmodContext ctx_;
};

} // namespace

std::unique_ptr<KernelModules> open_libkmod(const Context& context, Log& log) {
    return std::make_unique<Libkmod>(context, log);
}

} // namespace ksx::activator
