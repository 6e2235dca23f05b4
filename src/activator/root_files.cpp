#include "activator/root_files.hpp"

#include "util/error.hpp"
#include "util/unique_handle.hpp"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <dirent.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <utility>

namespace ksx::activator {

namespace fs = std::filesystem;

namespace {

using Directory = UniqueHandle<DIR, ::closedir>;

std::atomic<bool> openat2_available{true};

// The components of a node path, relative to the root ("/run/extensions" -> "run/extensions").
std::string relative_to_root(const fs::path& node_path) {
    auto text = node_path.relative_path().string();
    return text.empty() ? "." : text;
}

// Kernels before 5.6 have no openat2: walk the path one component at a time, never following a
// symlink. Under "/", the plain lookup cannot leave the root.
UniqueFd open_by_components(const Context& context, const std::string& path, int flags,
                            mode_t mode) {
    if (context.root == "/") {
        return UniqueFd(::openat(AT_FDCWD, (message("/{}", {path})).c_str(), flags, mode));
    }
    UniqueFd dir(::open(context.root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    std::string_view rest = path;
    while (dir) {
        auto slash = rest.find('/');
        std::string part(rest.substr(0, slash));
        if (part == "..") {
            errno = EXDEV; // node paths never hold "..": nothing may climb out of the root
            return {};
        }
        if (slash == std::string_view::npos) {
            return UniqueFd(::openat(dir.get(), part.c_str(), flags | O_NOFOLLOW, mode));
        }
        rest.remove_prefix(slash + 1);
        if (!part.empty() && part != ".") {
            dir = UniqueFd(
                ::openat(dir.get(), part.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
        }
    }
    return {};
}

UniqueFd open_relative(const Context& context, const std::string& path, int flags, mode_t mode) {
    flags |= O_CLOEXEC;
    if (openat2_available) {
        UniqueFd root(::open(context.root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
        if (!root) {
            return {};
        }
        open_how how{};
        how.flags = static_cast<std::uint64_t>(flags);
        how.mode = (flags & (O_CREAT | O_TMPFILE)) != 0 ? mode : 0;
        how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
        for (int attempt = 0; attempt < 16; ++attempt) {
            long fd = ::syscall(SYS_openat2, root.get(), path.c_str(), &how, sizeof how);
            if (fd >= 0) {
                return UniqueFd(static_cast<int>(fd));
            }
            if (errno != EAGAIN) { // EAGAIN: a rename raced a ".." lookup; try again
                break;
            }
        }
        if (errno != ENOSYS) {
            return {};
        }
        openat2_available = false;
    }
    return open_by_components(context, path, flags, mode);
}

} // namespace

UniqueFd open_beneath(const Context& context, const fs::path& node_path, int flags, mode_t mode) {
    return open_relative(context, relative_to_root(node_path), flags, mode);
}

std::optional<struct stat> stat_beneath(const Context& context, const fs::path& node_path,
                                        bool follow) {
    struct stat st {};
    if (follow) {
        UniqueFd fd = open_beneath(context, node_path, O_PATH);
        if (!fd || ::fstat(fd.get(), &st) != 0) {
            return std::nullopt;
        }
        if (S_ISLNK(st.st_mode)) { // only without openat2, which never opens a symlink here
            errno = ELOOP;
            return std::nullopt;
        }
        return st;
    }
    auto name = node_path.filename().string();
    UniqueFd parent = open_beneath(context, node_path.parent_path(), O_PATH | O_DIRECTORY);
    if (!parent || ::fstatat(parent.get(), name.empty() ? "." : name.c_str(), &st,
                             AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH) != 0) {
        return std::nullopt;
    }
    return st;
}

std::string read_beneath(const Context& context, const fs::path& node_path, std::size_t max_size) {
    auto shown = context.on_disk(node_path).string();
    UniqueFd fd = open_beneath(context, node_path, O_RDONLY);
    if (!fd) {
        throw_errno("cannot open {}", {shown});
    }
    std::string data;
    char buffer[65536];
    for (;;) {
        ssize_t n = ::read(fd.get(), buffer, sizeof buffer);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            throw_errno("cannot read {}", {shown});
        }
        if (n == 0) {
            return data;
        }
        if (data.size() + static_cast<std::size_t>(n) > max_size) {
            throw_error("{} is larger than {} bytes, more than the activator reads from it",
                        {shown, std::to_string(max_size)});
        }
        data.append(buffer, static_cast<std::size_t>(n));
    }
}

std::vector<std::string> list_beneath(const Context& context, const fs::path& node_path,
                                      std::error_code& ec) {
    ec.clear();
    std::vector<std::string> names;
    UniqueFd fd = open_beneath(context, node_path, O_RDONLY | O_DIRECTORY);
    Directory dir(fd ? ::fdopendir(fd.get()) : nullptr);
    if (!dir) {
        ec.assign(errno, std::generic_category());
        return names;
    }
    fd.release(); // closed with the directory stream
    for (;;) {
        errno = 0;
        const dirent* entry = ::readdir(dir.get());
        if (entry == nullptr) {
            if (errno != 0) {
                ec.assign(errno, std::generic_category());
                names.clear();
            }
            break;
        }
        std::string_view name = entry->d_name;
        if (name != "." && name != "..") {
            names.emplace_back(name);
        }
    }
    std::sort(names.begin(), names.end());
    return names;
}

UniqueFd make_directories_beneath(const Context& context, const fs::path& node_path) {
    UniqueFd dir = open_beneath(context, "/", O_RDONLY | O_DIRECTORY);
    fs::path done = "/";
    for (const auto& part : node_path.relative_path()) {
        if (!dir) {
            break;
        }
        fs::path next = done / part;
        if (::mkdirat(dir.get(), part.c_str(), 0755) != 0 && errno != EEXIST) {
            throw_errno("cannot create {}", {context.on_disk(next).native()});
        }
        // Opened again beneath the root: what exists there may be a symlink.
        dir = open_beneath(context, next, O_RDONLY | O_DIRECTORY);
        done = next;
    }
    if (!dir) {
        throw_errno("cannot open {}", {context.on_disk(done).native()});
    }
    return dir;
}

AtomicFileBeneath::AtomicFileBeneath(const Context& context, const fs::path& node_path,
                                     std::string temp_name, mode_t mode)
    : shown_(context.on_disk(node_path).string()), name_(node_path.filename().string()),
      temp_name_(std::move(temp_name)),
      dir_(make_directories_beneath(context, node_path.parent_path())) {
    ::unlinkat(dir_.get(), temp_name_.c_str(), 0); // left by a run that was killed
    fd_.reset(::openat(dir_.get(), temp_name_.c_str(),
                       O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode));
    if (!fd_) {
        throw_errno("cannot create a temporary file for {}", {shown_});
    }
    if (::fchmod(fd_.get(), mode) != 0) { // the umask must not narrow what the node reads
        fail(message("cannot set the mode of a temporary file for {}", {shown_}));
    }
}

AtomicFileBeneath::~AtomicFileBeneath() {
    if (!committed_ && fd_) {
        ::unlinkat(dir_.get(), temp_name_.c_str(), 0);
    }
}

void AtomicFileBeneath::fail(const std::string& what) {
    int err = errno;
    ::unlinkat(dir_.get(), temp_name_.c_str(), 0);
    fd_.reset();
    throw_error("{}", {errno_message(what, err)});
}

void AtomicFileBeneath::write(std::string_view data) {
    while (!data.empty()) {
        ssize_t n = ::write(fd_.get(), data.data(), data.size());
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            fail(message("cannot write {}", {shown_}));
        }
        data.remove_prefix(static_cast<std::size_t>(n));
    }
}

void AtomicFileBeneath::commit() {
    if (::fsync(fd_.get()) != 0) {
        fail(message("cannot write {}", {shown_}));
    }
    if (::renameat(dir_.get(), temp_name_.c_str(), dir_.get(), name_.c_str()) != 0) {
        fail(message("cannot rename a temporary file to {}", {shown_}));
    }
    committed_ = true;
    ::fsync(dir_.get()); // best effort, as for any directory: the file is complete either way
}

void write_beneath_atomic(const Context& context, const fs::path& node_path,
                          std::string_view data) {
    AtomicFileBeneath file(
        context, node_path,
        message(".{}.tmp.{}", {node_path.filename().native(), std::to_string(::getpid())}));
    file.write(data);
    file.commit();
}

void use_openat2_for_tests(bool available) {
    openat2_available = available;
}

} // namespace ksx::activator
