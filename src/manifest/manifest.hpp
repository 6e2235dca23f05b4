// The manifest: what to build, for which OS and kernels, in which developer container.
#pragma once

#include "contract/module_compression.hpp"
#include "util/image_reference.hpp"
#include "util/oci_platform.hpp"

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
    // DebianPackage only: the suite its headers come from ("trixie-backports"), or empty for
    // the container's own suite.
    std::string suite;
};

// The default developer container: a Debian rootfs made with mmdebstrap, cached.
struct DebianContainer {
    std::string suite = "trixie";
    std::string mirror = "http://deb.debian.org/debian";
    std::vector<std::string> components{"main"};
    std::vector<std::string> packages; // installed in addition to gcc, make and headers
    bool backports = false;            // also use <suite>-backports (apt sources and packages)
    // apt configuration options, "Name=value" as `apt-get -o` takes them; given to mmdebstrap
    // and kept in the container's apt configuration
    std::vector<std::string> apt_options;
};

// An OCI image pulled from a registry (Docker Registry HTTP API v2).
struct OciContainer {
    ImageReference image;
    OciPlatform platform;  // the host's unless the manifest names one
    bool insecure = false; // TLS certificates unchecked, plain HTTP when TLS fails
};

// An OSTree commit, pulled from a remote or read from a local repository.
struct OstreeContainer {
    std::string url;                             // an http(s) remote; or
    std::filesystem::path repo;                  // a local repository, absolute
    std::string ref;                             // "fedora/x86_64/coreos/stable"
    std::string commit;                          // 64 hex digits, or empty: the ref's commit
    std::vector<std::filesystem::path> gpg_keys; // the commit must be signed by one of these
};

struct ContainerSpec {
    enum class Kind { Debian, Directory, Tarball, Oci, Ostree };
    Kind kind = Kind::Debian;
    DebianContainer debian;     // kind == Debian
    std::filesystem::path path; // kind == Directory or Tarball; absolute
    OciContainer oci;           // kind == Oci
    OstreeContainer ostree;     // kind == Ostree
    // Where a kernel's build tree lives inside the container; ${KERNEL_RELEASE} is replaced.
    std::string kernel_source = "/usr/src/linux-headers-${KERNEL_RELEASE}";
    Location where;
};

// Which kernels an entry applies to; every part that is set must hold. Empty: every kernel.
struct KernelSelector {
    std::string match; // shell pattern on the release, e.g. "6.1.*"
    std::string min;   // lowest kernel version, inclusive ("6.12")
    std::string max;   // highest kernel version, inclusive at its precision ("6.2" takes 6.2.9)
    bool any() const { return match.empty() && min.empty() && max.empty(); }
};

// A patch applied with `patch -p1` in the source tree, inside the container, before building.
struct PatchSpec {
    std::filesystem::path file; // absolute, on the host
    KernelSelector kernels;
    std::vector<std::string> targets; // `targets:`: names of targets; empty: every target
    std::string field;                // "patches[0]", for messages
    Location where;
};

// How a source tree is built: by its dkms.conf or by the manifest's build commands.
enum class DkmsMode {
    Auto, // dkms.conf when the tree has one at its top, build.commands otherwise
    On,   // the tree must have a dkms.conf (at `dkms_conf` when set)
    Off,  // build.commands only
};

// One module source: a local directory, a Debian package, or a verified download.
struct SourceSpec {
    enum class Kind {
        Path,
        Apt,
        Url,
        Unsupported, // `unsupported: REASON`: the kernels it selects are skipped with the reason
    };
    Kind kind = Kind::Path;
    std::filesystem::path path; // Path: the directory, absolute
    std::string package;        // Apt: package name
    std::string version;        // Apt: exact version (optional)
    std::string release;        // Apt: suite to take it from, e.g. "bookworm-backports"
    std::string url;            // Url
    std::string sha256;         // Url: lower-case hex
    // Apt, Url: the part of the unpacked package that holds the tree: a directory, or an
    // archive that is unpacked in turn; a shell pattern ("usr/src/zfs-*"). Empty: the top.
    std::string subdir;
    DkmsMode dkms = DkmsMode::Auto;
    std::string dkms_conf; // relative to the tree; empty: "dkms.conf"
    std::vector<PatchSpec> patches;
    KernelSelector kernels;
    std::vector<std::string> targets; // `targets:`: names of targets; empty: every target
    std::string unsupported;          // Unsupported: why these kernels get no image
    // The version of the images this source builds (their file names and extension-release);
    // empty: the manifest's `version`.
    std::string image_version;
    std::string field; // "source" or "sources[1]", for messages
    Location where;
};

// A userspace package whose /usr and /opt files go into every image it applies to.
struct PackageSpec {
    enum class Kind { Apt, Url };
    Kind kind = Kind::Apt;
    std::string package; // Apt
    std::string version; // Apt (optional)
    std::string release; // Apt (optional)
    std::string url;     // Url
    std::string sha256;  // Url
    KernelSelector kernels;
    std::vector<std::string> targets; // `targets:`: names of targets; empty: every target
    std::string field;                // "packages[2]"
    Location where;
};

// Moves a package's files into /usr or /opt: `/lib` -> `/usr/lib`, or within /usr, such as
// libraries out of a private directory into the loader's default path.
struct RelocateRule {
    std::string from; // absolute, normal
    std::string to;   // absolute, normal, under /usr or /opt
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

// How modules are stored in the image, after they are signed.
using contract::ModuleCompression;

// What `build` writes per kernel: a squashfs with dm-verity sidecars when signed, or a signed
// GPT disk image (DDI) whose usr partition holds the /usr tree.
enum class ImageFormat { Squashfs, Ddi };

struct ImageSpec {
    ImageFormat format = ImageFormat::Squashfs;
    Compression compression = Compression::Zstd;
    std::optional<int> level;              // compressor default when unset
    std::optional<std::int64_t> timestamp; // mtime of every inode; SOURCE_DATE_EPOCH wins
    // Unset: what the target kernel's configuration uses (CONFIG_MODULE_COMPRESS_*).
    std::optional<ModuleCompression> module_compression;
};

// Where `packages:` and `files:` go: into every kernel's image, or into one image per target and
// image version that all of its kernels' modules images share (contract/image_name.hpp).
enum class Userspace { PerKernel, Shared };

// A private key and its certificate, files on the build host; read, never copied.
struct KeyPair {
    std::filesystem::path key;  // absolute, or a "pkcs11:" URI (RFC 7512) as written
    std::filesystem::path cert; // absolute
    Location where;
};

struct SigningSpec {
    std::optional<KeyPair> modules; // signs every module as the kernel's sign-file does
    std::optional<KeyPair> image;   // signs each image's dm-verity root hash
    std::string module_hash;        // empty: the kernel's CONFIG_MODULE_SIG_HASH, else sha256
};

// One OS release a manifest builds for: its identity, kernels and developer container.
struct Target {
    std::string name; // unique; "<id>-<version_id or sysext_level>" unless the manifest names it
    TargetOs os;
    std::vector<KernelSpec> kernels;
    ContainerSpec container;
    std::string field; // "targets[1]", or "target" for the single-target form
    Location where;
};

struct Manifest {
    std::filesystem::path file; // the manifest itself, absolute
    std::string name;           // [a-z0-9][a-z0-9-]*
    std::string version;        // extension version; part of the image file name
    // Every target: the entries of `targets:`, or the one of `target:`, `kernels:`, `container:`.
    std::vector<Target> targets;
    bool target_list = false; // `targets:`: plan entries and build messages name the target
    // The target being built, copied from `targets` (the first until with_target() picks one):
    // the stages that work on one target read these.
    std::string target_name;
    TargetOs target;
    std::vector<KernelSpec> kernels;
    ContainerSpec container;
    std::filesystem::path source_dir;        // the first `path:` source, absolute; else empty
    std::vector<SourceSpec> sources;         // `source:` or `sources:`; first match per kernel
    std::vector<PatchSpec> patches;          // applied after the source's own patches
    std::vector<std::string> build_commands; // run by /bin/sh in the container, in order
    std::vector<ModuleSpec> modules;         // empty: the modules a dkms.conf names
    std::vector<PackageSpec> packages;
    std::vector<RelocateRule> relocate;
    std::vector<FileSpec> files;
    Userspace userspace = Userspace::PerKernel;
    ImageSpec image;
    SigningSpec signing;
};

// How a manifest is read: what the command line allows beyond the manifest's own directory.
struct LoadOptions {
    // Directories that local paths may lead into besides the manifest's directory
    // (`--allow-path`). Every other local path, after its symbolic links, must stay inside the
    // manifest's directory: a manifest alone cannot make the build read the host's files.
    std::vector<std::filesystem::path> allowed_paths;
};

// Parses and validates a manifest file. Bad input throws ManifestError (an InputError) whose
// message is "file:line:col: error: field: what" followed by the source line and a caret.
Manifest load(const std::filesystem::path& file, const LoadOptions& options = {});

// Same, from text; `file` is used for messages and to resolve relative paths.
Manifest parse(const std::string& text, const std::filesystem::path& file,
               const LoadOptions& options = {});

// `manifest` working on targets[index]: `target_name`, `target`, `kernels` and `container` are
// that target's.
Manifest with_target(const Manifest& manifest, size_t index);

// The index of the target called `name`; InputError naming the targets there are otherwise
// (`option` is the command-line option that named it, for the message).
size_t find_target(const Manifest& manifest, const std::string& name, const std::string& option);

// Lower-case name used in the manifest for a compression ("zstd").
const char* to_string(Compression compression);

} // namespace ksx::manifest
