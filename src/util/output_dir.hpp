// An output directory whose sets of files (an image and its verity sidecars) change as one.
// Each run writes its sets whole into a staging directory of its own inside the output
// directory (flock'ed while the run lives). A set is made visible under the output directory's
// lock by writing a commit record (the names to put in place and to remove) into the staging
// directory, renaming the staged files into place and deleting the record. A run killed between
// the record and its deletion left a record that settling (every writer and reader of sets does
// it first, under the same lock) completes: the set is the complete old one until the record
// is durable and the complete new one after. Settling also removes what killed runs left there.
#pragma once

#include "util/owner_lock.hpp"
#include "util/temp_dir.hpp"

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace ksx {

// What settling found: sets whose interrupted commit it completed (their record's file
// names) and the leftovers of killed runs it removed.
struct SettleReport {
    std::vector<std::string> completed;
    std::vector<std::filesystem::path> removed;
};

// Completes the commits killed runs left in `dir` and removes their staging directories and
// temp files; the caller holds the directory's exclusive lock. Throws Error when a commit
// cannot be completed (a read-only directory).
SettleReport settle_output_dir(const std::filesystem::path& dir);

// Held by a reader of sets (verify, inspect, publish --from): the directory's exclusive lock,
// taken after `dir` was settled, so no commit happens while it reads. Nothing for a directory
// that does not exist.
class SettledDir {
public:
    explicit SettledDir(const std::filesystem::path& dir);
    const SettleReport& report() const { return report_; }

private:
    std::optional<DirectoryLock> lock_;
    SettleReport report_;
};

class OutputDir {
public:
    // Creates `dir` when needed and settles it.
    explicit OutputDir(std::filesystem::path dir);
    OutputDir(const OutputDir&) = delete;
    OutputDir& operator=(const OutputDir&) = delete;

    const std::filesystem::path& path() const { return dir_; }
    const SettleReport& settled() const { return settled_; }
    // This run's staging directory (created on first use, removed with this object): sets are
    // written there under their final names, then committed.
    const std::filesystem::path& staging();
    // Renames the staged files `put` into the output directory and removes the files `remove`
    // from it, as one step for every reader that settles first (see above).
    void commit(const std::vector<std::string>& put, const std::vector<std::string>& remove);

private:
    std::filesystem::path dir_;
    SettleReport settled_;
    std::optional<TempDir> staging_;
};

// The file name prefix of staging directories.
inline constexpr const char* staging_prefix = ".kmod-sysext-staging.";

} // namespace ksx
