// Running a dkms.conf for one kernel inside the developer container.
#pragma once

#include "build/command_runner.hpp"
#include "build/dkms.hpp"
#include "container/container.hpp"

#include <filesystem>
#include <string>

namespace ksx::build {

struct DkmsJob {
    const container::Rootfs* rootfs = nullptr;
    container::RunSpec run;         // log, environment and binds of the kernel's build
    std::filesystem::path tree;     // host copy of the source; moved into the dkms tree
    std::filesystem::path work_dir; // the kernel's work dir; the dkms tree goes to dkms/
    std::string conf;               // dkms.conf, relative to the tree
    DkmsContext context;
    unsigned jobs = 1;
    std::string field;                           // "sources[1]", for messages
    CommandRunner* runner = &container_runner(); // never null
};

struct DkmsResult {
    std::string excluded;            // set: BUILD_EXCLUSIVE_* skip this kernel
    std::filesystem::path build_dir; // host path of $dkms_tree/NAME/VERSION/build
    DkmsConf conf;
};

// Evaluates dkms.conf, then (unless the kernel is excluded) applies PATCH[n], runs PRE_BUILD,
// CLEAN (its failure ignored), MAKE and POST_BUILD as DKMS does. Throws LoggedError "FIELD: ..."
// (LoggedInputError when dkms.conf cannot be evaluated) carrying the log when a step fails.
DkmsResult build_with_dkms(const DkmsJob& job);

} // namespace ksx::build
