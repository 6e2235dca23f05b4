#include "sign/module_compression.hpp"

#include "util/atomic_file.hpp"
#include "util/error.hpp"
#include "util/process.hpp"
#include "util/temp_dir.hpp"

namespace ksx::sign {

namespace fs = std::filesystem;

CompressionChoice kernel_module_compression(const KernelConfig& config) {
    auto in_file = "=y in " + config.file().string();
    if (config.enabled("CONFIG_MODULE_COMPRESS_XZ")) {
        return {ModuleCompression::Xz, "CONFIG_MODULE_COMPRESS_XZ" + in_file, {}};
    }
    if (config.enabled("CONFIG_MODULE_COMPRESS_ZSTD")) {
        return {ModuleCompression::Zstd, "CONFIG_MODULE_COMPRESS_ZSTD" + in_file, {}};
    }
    if (config.enabled("CONFIG_MODULE_COMPRESS_GZIP")) {
        return {ModuleCompression::None, "CONFIG_MODULE_COMPRESS_GZIP" + in_file,
                "the kernel compresses its modules with gzip, but libkmod on Debian 12 cannot "
                "read .ko.gz: modules are left uncompressed (set image.module_compression to "
                "choose xz or zstd)"};
    }
    return {ModuleCompression::None,
            "no CONFIG_MODULE_COMPRESS_XZ/ZSTD in " + config.file().string(),
            {}};
}

std::string module_suffix(ModuleCompression compression) {
    switch (compression) {
    case ModuleCompression::Xz:
        return ".ko.xz";
    case ModuleCompression::Zstd:
        return ".ko.zst";
    case ModuleCompression::None:
        break;
    }
    return ".ko";
}

bool has_module_suffix(std::string_view name) {
    return name.ends_with(".ko") || name.ends_with(".ko.xz") || name.ends_with(".ko.zst");
}

fs::path compress_module(const fs::path& ko, ModuleCompression compression) {
    if (compression == ModuleCompression::None) {
        return ko;
    }
    std::vector<std::string> argv;
    fs::path out;
    if (compression == ModuleCompression::Xz) {
        out = ko.string() + ".xz";
        argv = {"xz", "--quiet", "--force", "--check=crc32", "--lzma2=dict=1MiB", ko.string()};
    } else {
        out = ko.string() + ".zst";
        argv = {"zstd", "--quiet", "--force", "-T0", "--rm", ko.string(), "-o", out.string()};
    }
    auto result = run_process(argv);
    if (result.exit_status != 0) {
        throw Error(quote_command(argv) + " failed with exit status " +
                    std::to_string(result.exit_status));
    }
    if (!fs::is_regular_file(out)) {
        throw Error(quote_command(argv) + " did not write " + out.string());
    }
    fs::remove(ko);
    return out;
}

std::string decompress_module(std::string_view name, std::string_view data) {
    const char* program = nullptr;
    if (name.ends_with(".ko.xz")) {
        program = "xz";
    } else if (name.ends_with(".ko.zst")) {
        program = "zstd";
    } else {
        return std::string(data);
    }
    TempDir temp("ksx-module-");
    auto file = temp.path() / "module";
    write_file_atomic(file, data);
    std::vector<std::string> argv{program, "--decompress", "--stdout", "--quiet", file.string()};
    ProcessOptions options;
    options.log_file = temp.path() / "errors";
    auto result = run_capture(argv, options);
    if (result.exit_status != 0) {
        throw InputError(std::string(name) + ": " + program + " cannot decompress it");
    }
    return result.output;
}

} // namespace ksx::sign
