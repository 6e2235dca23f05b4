#include "util/output_dir.hpp"

#include "util/atomic_file.hpp"
#include "util/error.hpp"
#include "util/file_io.hpp"

#include <cerrno>
#include <fcntl.h>
#include <sstream>
#include <stdio.h>
#include <unistd.h>

namespace ksx {

namespace fs = std::filesystem;

namespace {

constexpr const char* record_name = "commit";
constexpr const char* record_header = "kmod-sysext commit 1";

struct CommitRecord {
    std::vector<std::string> put;
    std::vector<std::string> remove;
};

bool plain_name(const std::string& name) {
    return !name.empty() && name != "." && name != ".." &&
           name.find_first_of(std::string("/\n\0", 3)) == std::string::npos;
}

std::string format_record(const CommitRecord& record) {
    std::string text = std::string(record_header) + "\n";
    for (const auto& name : record.put) {
        text += "put " + name + "\n";
    }
    for (const auto& name : record.remove) {
        text += "remove " + name + "\n";
    }
    return text;
}

CommitRecord parse_record(const fs::path& path) {
    std::istringstream in(read_file(path));
    std::string line;
    if (!std::getline(in, line) || line != record_header) {
        throw Error(path.string() + ": not a kmod-sysext commit record");
    }
    CommitRecord record;
    while (std::getline(in, line)) {
        auto space = line.find(' ');
        auto verb = line.substr(0, space);
        auto name = space == std::string::npos ? std::string() : line.substr(space + 1);
        if (!plain_name(name) || (verb != "put" && verb != "remove")) {
            throw Error(path.string() + ": bad line \"" + line + "\"");
        }
        (verb == "put" ? record.put : record.remove).push_back(name);
    }
    return record;
}

void sync_directory(const fs::path& dir) {
    UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!fd || ::fsync(fd.get()) != 0) {
        throw_errno("failed to sync directory " + dir.string());
    }
}

// Idempotent, so that it can be repeated after an interruption at any point: a staged file
// still there is renamed into place, one already moved is left.
void apply_record(const CommitRecord& record, const fs::path& staging, const fs::path& dir) {
    for (const auto& name : record.put) {
        const auto from = staging / name;
        if (::rename(from.c_str(), (dir / name).c_str()) != 0 && errno != ENOENT) {
            throw_errno("failed to rename " + from.string() + " to " + (dir / name).string());
        }
    }
    for (const auto& name : record.remove) {
        if (::unlink((dir / name).c_str()) != 0 && errno != ENOENT) {
            throw_errno("failed to remove " + (dir / name).string());
        }
    }
    sync_directory(dir);
}

// Temp files and directories that earlier versions wrote straight into the output directory.
bool legacy_leftover(const std::string& name) {
    if (name.starts_with(".ksx-usr-") || name.starts_with(".ksx-ddi-")) {
        return name.size() == 9 + 6;
    }
    if (!name.starts_with(".") || name.size() < 12 || name.compare(name.size() - 11, 5, ".tmp.")) {
        return false;
    }
    auto target = name.substr(1, name.size() - 12);
    for (const char* suffix : {".raw", ".verity", ".roothash", ".roothash.p7s"}) {
        if (target.ends_with(suffix)) {
            return true;
        }
    }
    return false;
}

} // namespace

SettleReport settle_output_dir(const fs::path& dir) {
    SettleReport report;
    std::error_code ec;
    std::vector<fs::path> stagings;
    for (const auto& entry : fs::directory_iterator(dir, ec)) {
        if (entry.path().filename().string().starts_with(staging_prefix) &&
            entry.symlink_status(ec).type() == fs::file_type::directory) {
            stagings.push_back(entry.path());
        }
    }
    for (const auto& staging : stagings) {
        auto lock = try_lock_entry(staging);
        if (!lock) {
            continue; // a live run's
        }
        const auto record_path = staging / record_name;
        if (fs::exists(record_path, ec)) {
            auto record = parse_record(record_path);
            apply_record(record, staging, dir);
            report.completed.insert(report.completed.end(), record.put.begin(), record.put.end());
        }
        fs::remove_all(staging, ec);
        if (!ec) { // else a read-only directory: only its commit counted
            report.removed.push_back(staging);
        }
    }
    auto legacy = remove_abandoned(dir, legacy_leftover);
    report.removed.insert(report.removed.end(), legacy.begin(), legacy.end());
    return report;
}

SettledDir::SettledDir(const fs::path& dir) {
    std::error_code ec;
    if (!fs::is_directory(dir, ec) || ::access(dir.c_str(), R_OK) != 0) {
        return; // nothing to settle, or nothing this user could read of it
    }
    lock_.emplace(dir, DirectoryLock::Mode::Exclusive);
    report_ = settle_output_dir(dir);
}

OutputDir::OutputDir(fs::path dir) : dir_(std::move(dir)) {
    fs::create_directories(dir_);
    DirectoryLock lock(dir_, DirectoryLock::Mode::Exclusive);
    settled_ = settle_output_dir(dir_);
}

const fs::path& OutputDir::staging() {
    if (!staging_) {
        staging_.emplace(staging_prefix, dir_);
    }
    return staging_->path();
}

void OutputDir::commit(const std::vector<std::string>& put,
                       const std::vector<std::string>& remove) {
    CommitRecord record{put, remove};
    for (const auto& name : record.put) {
        if (!plain_name(name)) {
            throw Error("cannot commit \"" + name + "\": not a plain file name");
        }
    }
    for (const auto& name : record.remove) {
        if (!plain_name(name)) {
            throw Error("cannot remove \"" + name + "\": not a plain file name");
        }
    }
    const auto& stage = staging();
    DirectoryLock lock(dir_, DirectoryLock::Mode::Exclusive);
    settle_output_dir(dir_);
    // Durable before anything moves: from here on the new set is the one that counts.
    write_file_atomic(stage / record_name, format_record(record));
    try {
        apply_record(record, stage, dir_);
    } catch (...) {
        staging_->keep(); // with its record: the next settle completes the set
        throw;
    }
    if (::unlink((stage / record_name).c_str()) != 0) {
        throw_errno("failed to remove " + (stage / record_name).string());
    }
}

} // namespace ksx
