// Building a tree that has a dkms.conf the way DKMS does: the file is evaluated by bash inside
// the developer container for one kernel, then PATCH, PRE_BUILD, CLEAN, MAKE and POST_BUILD run
// in $dkms_tree/$PACKAGE_NAME/$PACKAGE_VERSION/build.
#pragma once

#include <map>
#include <string>
#include <vector>

namespace ksx::build {

// What DKMS knows while it reads dkms.conf.
struct DkmsContext {
    std::string kernelver;         // the kernel release
    std::string kernel_source_dir; // its build tree, inside the container
    std::string arch;              // `uname -m` style: x86_64, aarch64
    std::string dkms_tree = "/var/lib/dkms";
    std::string source_tree = "/usr/src";
};

struct DkmsModule {
    std::string built_name;     // BUILT_MODULE_NAME[n]
    std::string built_location; // BUILT_MODULE_LOCATION[n], relative to the build dir
    std::string dest_name;      // DEST_MODULE_NAME[n], defaults to built_name
    std::string dest_location;  // DEST_MODULE_LOCATION[n]; not followed, as DKMS on Debian
                                // does: modules go to extra/<name>/
    bool strip = true;          // STRIP[n], else STRIP[0], else yes
    // built_name defaults to PACKAGE_NAME in a dkms.conf of one module, as in DKMS.
};

// dkms.conf as evaluated for one kernel.
struct DkmsConf {
    std::string package_name;
    std::string package_version;
    std::string make;                 // MAKE[n] chosen by MAKE_MATCH[n], or DKMS's default
    std::string clean;                // CLEAN, empty when unset
    std::vector<std::string> patches; // PATCH[n] whose PATCH_MATCH[n] matches, in index order
    std::string pre_build;
    std::string post_build;
    std::vector<DkmsModule> modules;
    std::string excluded; // why BUILD_EXCLUSIVE_* rule this kernel out; empty: it builds
};

// The bash script that evaluates dkms.conf. Run as `bash -c SCRIPT dkms CONF OUT` with the
// DkmsContext in the environment (kernelver, kernel_source_dir, arch, dkms_tree, source_tree);
// writes NAME NUL VALUE NUL pairs to OUT.
const std::string& dkms_evaluation_script();

// The environment entries for the script and the build steps.
std::vector<std::string> dkms_environment(const DkmsContext& context);

// The NAME NUL VALUE NUL output as a map; throws Error on a malformed one.
std::map<std::string, std::string> parse_dkms_output(const std::string& output);

// The evaluated variables as a DkmsConf; throws InputError "`where`: ..." when PACKAGE_NAME,
// PACKAGE_VERSION or a BUILT_MODULE_NAME[n] is missing or a name is unusable.
DkmsConf dkms_conf_from(const std::map<std::string, std::string>& variables,
                        const std::string& where);

// The build step commands, run with bash -c in the build dir, as DKMS 3 runs them.
std::string dkms_make_command(const DkmsConf& conf, unsigned jobs, const std::string& kernelver);
// PRE_BUILD/POST_BUILD: a script path relative to the build dir plus words; runs only when the
// script is executable, like DKMS.
std::string dkms_script_command(const std::string& script, const std::string& build_dir);
std::string dkms_patch_command(const std::string& patch);

// `uname -m` for a systemd architecture name ("x86-64" gives "x86_64").
std::string kernel_arch(const std::string& systemd_architecture);

} // namespace ksx::build
