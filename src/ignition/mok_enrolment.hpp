// The first-boot part of a Machine Owner Key enrolment: the DER certificate and the password
// hash on the node, and a unit that queues the key with `mokutil --import` once. The owner then
// confirms it in MokManager (shim) at the next boot, the one step that needs a person.
#pragma once

#include "ignition/node_config.hpp"

#include <string>

namespace ksx::ignition {

struct MokFiles {
    std::string name;             // file names on the node: <name>.der, <name>.hash
    std::string der;              // the certificate, DER
    std::string password_hash;    // `mokutil --generate-hash` output ("$6$...")
    std::string sha1_fingerprint; // "ab:cd:..", to skip a key that is enrolled already
};

// Where the files go on the node.
inline constexpr const char* kMokDirectory = "/etc/kmod-sysext/mok";

// Adds the files and the kmod-sysext-mok-import.service unit to `config`.
void add_mok_enrolment(NodeConfig& config, const MokFiles& files);

// The unit alone (for tests and the `enroll` summary).
std::string mok_import_unit(const MokFiles& files);

} // namespace ksx::ignition
