// The OS identity systemd-sysext matches an extension against: what an image's
// extension-release and a host's os-release say, and systemd's rule for comparing them. Shared
// by the activator (`select`, `prefetch`) and its tests.
#pragma once

#include <string>
#include <string_view>

namespace ksx {

struct OsIdentity {
    std::string id;           // ID=
    std::string version_id;   // VERSION_ID=
    std::string sysext_level; // SYSEXT_LEVEL=
    std::string architecture; // ARCHITECTURE= of an extension; the host's from uname
};

// ID, VERSION_ID, SYSEXT_LEVEL and ARCHITECTURE of an os-release or extension-release text
// ("KEY=value" lines, values optionally in single or double quotes; other lines ignored).
OsIdentity parse_os_release(std::string_view text);

// systemd's name for uname's machine: "x86_64" -> "x86-64", "aarch64" -> "arm64"; "" when it
// is none of the architectures a manifest can name.
std::string systemd_architecture(std::string_view machine);

// "" when systemd-sysext would merge an extension of identity `extension` on `host`, else why
// not. systemd's rule (extension_release_validate): ARCHITECTURE, when set and not "_any",
// equals the host's; ID is set and is "_any" (then nothing else is compared) or the host's; a
// host with neither VERSION_ID nor SYSEXT_LEVEL takes any version; when both have SYSEXT_LEVEL
// those are compared, otherwise a host VERSION_ID must equal the extension's.
std::string extension_mismatch(const OsIdentity& host, const OsIdentity& extension);

// "ID=debian VERSION_ID=12 ARCHITECTURE=x86-64", leaving out what is not set.
std::string describe(const OsIdentity& identity);

} // namespace ksx
