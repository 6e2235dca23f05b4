#include "ignition/mok_enrolment.hpp"

#include "ignition/emit.hpp"

#include <algorithm>

namespace ksx::ignition {

std::string mok_import_unit(const MokFiles& files) {
    const std::string dir = kMokDirectory;
    const std::string der = dir + "/" + files.name + ".der";
    const std::string hash = dir + "/" + files.name + ".hash";
    const std::string queued = "/var/lib/kmod-sysext/mok/" + files.name + ".queued";
    // Once per node: a key that is enrolled already, or was queued before, is left alone, so a
    // reboot does not ask the owner again.
    return "[Unit]\n"
           "Description=Queue the kmod-sysext signing key for enrolment as a Machine Owner Key\n"
           "Documentation=man:mokutil(1)\n"
           "ConditionPathExists=/sys/firmware/efi\n"
           "ConditionPathExists=!" +
           queued +
           "\n"
           "After=local-fs.target\n"
           "\n"
           "[Service]\n"
           "Type=oneshot\n"
           "RemainAfterExit=yes\n"
           "ExecStart=/bin/sh -c 'mokutil --list-enrolled 2>/dev/null | grep -qi \"" +
           files.sha1_fingerprint + "\" || mokutil --import " + der + " --hash-file " + hash +
           "'\n"
           "ExecStartPost=/bin/sh -c 'mkdir -p /var/lib/kmod-sysext/mok && touch " +
           queued +
           "'\n"
           "\n"
           "[Install]\n"
           "WantedBy=multi-user.target\n";
}

void add_mok_enrolment(NodeConfig& config, const MokFiles& files) {
    const std::string dir = kMokDirectory;
    if (std::find(config.directories.begin(), config.directories.end(), dir) ==
        config.directories.end()) {
        config.directories.push_back(dir);
    }
    // Binary: a data URL, which Butane carries as it is (an inline block holds text only).
    config.files.push_back({dir + "/" + files.name + ".der", 0644, data_url(files.der), "", ""});
    config.files.push_back({dir + "/" + files.name + ".hash", 0600, "", "", files.password_hash});
    config.units.push_back({"kmod-sysext-mok-import.service", mok_import_unit(files), true});
}

} // namespace ksx::ignition
