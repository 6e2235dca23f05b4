// The manifest: what to build, for which OS and kernels, in which developer container.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace ksx::manifest {

// Where a value came from, for messages about it later (e.g. a kernel that fails to resolve).
struct Location {
    std::filesystem::path file;
    int line = 0;   // 1-based
    int column = 0; // 1-based
};

// The OS the extension is for; systemd-sysext compares these with the host's os-release.
struct TargetOs {
    std::string id;           // ID=, e.g. "debian", "flatcar", "_any"
    std::string version_id;   // VERSION_ID=; empty when sysext_level is used
    std::string sysext_level; // SYSEXT_LEVEL=; empty when version_id is used
    std::string architecture; // systemd architecture name, e.g. "x86-64", "arm64"
};

// One entry of `kernels:`: a literal release, or a package resolved in the developer container.
struct KernelSpec {
    enum class Kind {
        Release,       // `release: 6.1.0-28-amd64`
        DebianPackage, // `package: linux-headers-amd64`: the release that package depends on
    };
    Kind kind = Kind::Release;
    std::string value;
    Location where;
};

// The default developer container: a Debian rootfs made with mmdebstrap, cached.
struct DebianContainer {
    std::string suite = "bookworm";
    std::string mirror = "http://deb.debian.org/debian";
    std::vector<std::string> components{"main"};
    std::vector<std::string> packages; // installed in addition to gcc, make and headers
};

struct ContainerSpec {
    enum class Kind { Debian, Directory, Tarball };
    Kind kind = Kind::Debian;
    DebianContainer debian;     // kind == Debian
    std::filesystem::path path; // kind == Directory or Tarball; absolute
    // Where a kernel's build tree lives inside the container; ${KERNEL_RELEASE} is replaced.
    std::string kernel_source = "/usr/src/linux-headers-${KERNEL_RELEASE}";
    Location where;
};

struct ModuleSpec {
    std::string name;    // module name as the kernel knows it (hello_core)
    std::string path;    // optional: where the .ko is, relative to the build's source dir
    std::string options; // module parameters passed when loading ("greeting=hi debug=1")
    bool load = true;    // false: shipped, but only loaded on demand (modprobe)
    Location where;
};

struct FileSpec {
    std::filesystem::path source; // absolute, on the host
    std::string destination;      // absolute inside the image, under /usr or /opt
    unsigned mode = 0644;
    Location where;
};

enum class Compression { Zstd, Xz, Gzip };

struct ImageSpec {
    Compression compression = Compression::Zstd;
    std::optional<int> level;              // compressor default when unset
    std::optional<std::int64_t> timestamp; // mtime of every inode; SOURCE_DATE_EPOCH wins
};

struct Manifest {
    std::filesystem::path file; // the manifest itself, absolute
    std::string name;           // [a-z0-9][a-z0-9-]*
    std::string version;        // extension version; part of the image file name
    TargetOs target;
    std::vector<KernelSpec> kernels;
    ContainerSpec container;
    std::filesystem::path source_dir;        // module sources on the host, absolute
    std::vector<std::string> build_commands; // run by /bin/sh in the container, in order
    std::vector<ModuleSpec> modules;
    std::vector<FileSpec> files;
    ImageSpec image;
};

// Parses and validates a manifest file. Bad input throws ManifestError (an InputError) whose
// message is "file:line:col: error: field: what" followed by the source line and a caret.
Manifest load(const std::filesystem::path& file);

// Same, from text; `file` is used for messages and to resolve relative paths.
Manifest parse(const std::string& text, const std::filesystem::path& file);

// Lower-case name used in the manifest for a compression ("zstd").
const char* to_string(Compression compression);

} // namespace ksx::manifest
