// Reading a container's dpkg database (/var/lib/dpkg/status, deb822 stanzas).
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace ksx::container {

struct DpkgPackage {
    std::string name;
    std::string status;               // "install ok installed" when installed
    std::vector<std::string> depends; // package names of Depends and Pre-Depends, alternatives
                                      // included, without version or architecture qualifiers
    bool installed() const;
};

// Parses the stanzas of a dpkg status file; stanzas without a Package field are dropped.
std::vector<DpkgPackage> parse_dpkg_status(std::string_view text);

// A kernel release found from a package, or why there is none.
struct ReleaseLookup {
    std::string release; // empty when not found
    std::string problem; // a sentence for the user when not found
};

// The kernel release a headers package stands for: a versioned package
// (linux-headers-6.1.0-28-amd64) names it; a metapackage (linux-headers-amd64) is followed
// through its installed linux-headers-<release> dependency. "-common" packages are not releases.
ReleaseLookup headers_release(const std::vector<DpkgPackage>& packages, const std::string& name);

// A kernel headers package as an archive offers it (a stanza of `apt-cache show`): the
// linux-headers-<release> package it stands for, itself or its one such dependency.
struct HeadersPackage {
    std::string name;    // empty when there is none
    std::string problem; // a sentence for the user when there is none
};
HeadersPackage release_headers_package(const DpkgPackage& offered);

} // namespace ksx::container
