#include "container/debian_container.hpp"

#include "container/container_use.hpp"
#include "container/dpkg_status.hpp"
#include "util/atomic_file.hpp"
#include "util/entry_lock.hpp"
#include "util/error.hpp"
#include "util/owner_lock.hpp"
#include "util/process.hpp"
#include "util/remove_tree.hpp"
#include "util/sha256.hpp"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <fcntl.h>
#include <fstream>
#include <iterator>
#include <optional>
#include <set>
#include <stdio.h>
#include <unistd.h>

namespace fs = std::filesystem;

namespace ksx::container {

namespace {

constexpr const char* kSecurityMirror = "http://deb.debian.org/debian-security";
constexpr const char* kStamp = ".complete";
const std::vector<std::string> kInstallPrefix{"apt-get", "install", "-y",
                                              "--no-install-recommends"};

std::string join(const std::set<std::string>& items, const char* separator) {
    std::string out;
    for (const auto& item : items) {
        out += (out.empty() ? "" : separator) + item;
    }
    return out;
}

std::string join(const std::vector<std::string>& items, const char* separator) {
    return join(std::set<std::string>(items.begin(), items.end()), separator);
}

std::string trimmed_mirror(std::string mirror) {
    while (mirror.size() > 1 && mirror.back() == '/') {
        mirror.pop_back();
    }
    return mirror;
}

// One line per option (values hold no line breaks), only when there are any.
std::string apt_option_lines(const std::vector<std::string>& options) {
    std::string out;
    for (const auto& option : std::set<std::string>(options.begin(), options.end())) {
        out += "apt option: " + option + "\n";
    }
    return out;
}

bool is_unstable(const std::string& suite) {
    return suite == "sid" || suite == "unstable" || suite == "experimental";
}

void append_log(const fs::path& log, const std::string& text) {
    std::ofstream out(log, std::ios::app);
    out << text << '\n';
    if (!out) {
        throw Error("failed to write " + log.string());
    }
}

std::string make_temp_dir(const fs::path& parent, const std::string& prefix) {
    std::string pattern = (parent / (prefix + "XXXXXX")).string();
    if (::mkdtemp(pattern.data()) == nullptr) {
        throw_errno("failed to create a directory in " + parent.string());
    }
    return pattern;
}

// One container being created: its steps, all logged, each timed.
class Builder {
public:
    Builder(const manifest::DebianContainer& debian, std::vector<std::string> headers,
            const PrepareOptions& options, fs::path root, fs::path log)
        : debian_(debian), headers_(std::move(headers)), options_(options), root_(std::move(root)),
          log_(std::move(log)) {}

    // From nothing: mmdebstrap, then the packages and headers.
    void build() {
        host_step("mmdebstrap " + debian_.suite, mmdebstrap_argv(debian_, root_));
        write_file_atomic(root_ / "etc/apt/sources.list", sources_list(debian_));
        container_step("apt-get update", {"apt-get", "update"});
        std::set<std::string> packages(debian_.packages.begin(), debian_.packages.end());
        install(std::vector<std::string>(packages.begin(), packages.end()), headers_);
    }

    // From a sibling: a copy of it, then the headers it lacks.
    void grow(const SiblingContainer& sibling) {
        host_step("copying debian-" + sibling.key,
                  {"cp", "-a", "--reflink=auto", sibling.root.string(), root_.string()});
        if (sibling.missing.empty()) {
            return;
        }
        container_step("apt-get update", {"apt-get", "update"});
        install({}, sibling.missing);
    }

private:
    // Installs `packages` and the headers packages `headers` (entries of header_packages()), in
    // as many apt-get runs as bubblewrap's argument limit asks for (thousands of kernels).
    void install(std::vector<std::string> packages, const std::vector<std::string>& headers) {
        for (const auto& entry : headers) {
            auto slash = entry.find('/');
            packages.push_back(
                slash == std::string::npos
                    ? entry
                    : offered_headers(entry.substr(0, slash), entry.substr(slash + 1)));
        }
        const auto commands = install_commands(packages);
        for (size_t i = 0; i < commands.size(); ++i) {
            const std::vector<std::string> names(
                commands[i].begin() + static_cast<long>(kInstallPrefix.size()), commands[i].end());
            std::string label =
                "installing " + (names.size() <= 20 ? join(names, " ")
                                                    : std::to_string(names.size()) + " packages");
            if (commands.size() > 1) {
                label += " (" + std::to_string(i + 1) + " of " + std::to_string(commands.size()) +
                         " apt-get runs)";
            }
            container_step(label, commands[i]);
        }
        container_step("apt-get clean", {"apt-get", "clean"});
    }

    // The linux-headers-<release> package that `package` stands for in `suite`, from the
    // archive's stanza, which stays in the container for resolve_kernel().
    std::string offered_headers(const std::string& package, const std::string& suite) {
        const auto record = suite_package_record(package, suite);
        container_step("looking up " + package + " in " + suite,
                       {"sh", "-c",
                        "mkdir -p \"${2%/*}\" && apt-cache show --no-all-versions \"$1\" >\"$2\"",
                        "sh", package + "/" + suite, record});
        std::ifstream in(root_ / record.substr(1));
        std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        for (const auto& offered : parse_dpkg_status(text)) {
            if (offered.name == package) {
                auto found = release_headers_package(offered);
                if (found.name.empty()) {
                    throw Error("creating the developer container failed: " + found.problem +
                                " in " + suite);
                }
                append_log(log_, "# " + package + "/" + suite + " stands for " + found.name);
                return found.name;
            }
        }
        throw Error("creating the developer container failed: the archive has no package " +
                    package + " in " + suite + " (is " + suite +
                    " among the container's apt sources? `backports: true` adds " + debian_.suite +
                    "-backports); see " + log_.string());
    }

    template <typename Run>
    void timed(const std::string& label, const std::string& command, Run r) {
        options_.progress.step("container: " + label);
        append_log(log_, "$ " + command);
        auto start = std::chrono::steady_clock::now();
        int status = r();
        auto seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start);
        append_log(log_, "# exit status " + std::to_string(status) + " after " +
                             std::to_string(static_cast<int>(seconds.count() + 0.5)) + " s");
        if (status != 0) {
            // The whole command is in the log; thousands of package names are not a message.
            const std::string shown = command.size() > 200
                                          ? command.substr(0, 200) + "\xe2\x80\xa6" // "…"
                                          : command;
            throw Error("creating the developer container failed: " + shown +
                        " exited with status " + std::to_string(status) + "; see " + log_.string());
        }
    }

    void host_step(const std::string& label, const std::vector<std::string>& argv) {
        timed(label, quote_command(argv), [&] {
            ProcessOptions process;
            process.log_file = log_;
            return run_process(argv, process).exit_status;
        });
    }

    void container_step(const std::string& label, const std::vector<std::string>& argv) {
        timed(label, quote_command(argv), [&] {
            Rootfs rootfs{root_, "debian " + debian_.suite + " (being created)", {}};
            RunSpec spec;
            spec.argv = argv;
            spec.env = {"DEBIAN_FRONTEND=noninteractive"};
            spec.log_file = log_;
            spec.network = true;
            spec.writable_root = true;
            return run(rootfs, spec);
        });
    }

    const manifest::DebianContainer& debian_;
    std::vector<std::string> headers_;
    const PrepareOptions& options_;
    fs::path root_;
    fs::path log_;
};

} // namespace

std::vector<std::vector<std::string>> install_commands(const std::vector<std::string>& packages) {
    // Well below bubblewrap's limit, which also counts its own options.
    constexpr size_t per_command = 1000;
    std::vector<std::vector<std::string>> commands;
    for (size_t start = 0; start < packages.size(); start += per_command) {
        auto& command = commands.emplace_back(kInstallPrefix.begin(), kInstallPrefix.end());
        const auto end = std::min(packages.size(), start + per_command);
        command.insert(command.end(), packages.begin() + static_cast<long>(start),
                       packages.begin() + static_cast<long>(end));
    }
    return commands;
}

std::vector<std::string> header_packages(const std::vector<manifest::KernelSpec>& kernels) {
    std::set<std::string> out;
    for (const auto& kernel : kernels) {
        if (kernel.kind == manifest::KernelSpec::Kind::Release) {
            out.insert("linux-headers-" + kernel.value);
        } else {
            out.insert(kernel.suite.empty() ? kernel.value : kernel.value + "/" + kernel.suite);
        }
    }
    return {out.begin(), out.end()};
}

std::string suite_package_record(const std::string& package, const std::string& suite) {
    return "/var/lib/kmod-sysext/offered/" + package + "@" + suite;
}

std::string apt_conf_line(const std::string& option) {
    auto eq = option.find('=');
    return option.substr(0, eq) + " \"" + (eq == std::string::npos ? "" : option.substr(eq + 1)) +
           "\";";
}

std::vector<std::string> mmdebstrap_argv(const manifest::DebianContainer& debian,
                                         const fs::path& root) {
    std::vector<std::string> argv{"mmdebstrap", "--variant=minbase",
                                  std::string("--include=") + kBasePackages,
                                  "--components=" + join(debian.components, ",")};
    // mmdebstrap keeps each in the container's /etc/apt/apt.conf.d/99mmdebstrap, so every
    // later apt run inside it (headers grown later, `apt:` sources) uses them too.
    for (const auto& option : debian.apt_options) {
        argv.push_back("--aptopt=" + apt_conf_line(option));
    }
    argv.insert(argv.end(), {debian.suite, root.string(), trimmed_mirror(debian.mirror)});
    return argv;
}

std::string recipe_text(const manifest::DebianContainer& debian,
                        const std::vector<std::string>& headers) {
    // Bump the first line when the way a container is made changes.
    return "kmod-sysext debian container 1\n"
           "suite: " +
           debian.suite + "\nmirror: " + trimmed_mirror(debian.mirror) +
           "\ncomponents: " + join(debian.components, " ") + "\nbase: " + kBasePackages +
           "\npackages: " + join(debian.packages, " ") + "\nheaders: " + join(headers, " ") + "\n" +
           // Only when set, so the keys of existing containers stay the same.
           (debian.backports ? "backports: yes\n" : "") + apt_option_lines(debian.apt_options);
}

std::string cache_key(const manifest::DebianContainer& debian,
                      const std::vector<std::string>& headers) {
    return sha256_hex(recipe_text(debian, headers)).substr(0, 16);
}

std::string sources_list(const manifest::DebianContainer& debian) {
    std::string components = join(debian.components, " ");
    std::string mirror = trimmed_mirror(debian.mirror);
    std::string out = "deb " + mirror + " " + debian.suite + " " + components + "\n";
    if (!is_unstable(debian.suite)) {
        out += "deb " + mirror + " " + debian.suite + "-updates " + components + "\n";
        out += std::string("deb ") + kSecurityMirror + " " + debian.suite + "-security " +
               components + "\n";
        if (debian.backports) {
            out += "deb " + mirror + " " + debian.suite + "-backports " + components + "\n";
        }
    }
    return out;
}

std::optional<SiblingContainer> find_sibling(const fs::path& containers_dir,
                                             const manifest::DebianContainer& debian,
                                             const std::vector<std::string>& headers) {
    // The recipe without its headers line identifies the siblings.
    auto without_headers = [](const std::string& recipe) {
        std::string out;
        std::string headers_line;
        std::size_t start = 0;
        while (start < recipe.size()) {
            auto end = recipe.find('\n', start);
            end = end == std::string::npos ? recipe.size() : end + 1;
            auto line = recipe.substr(start, end - start);
            (line.starts_with("headers: ") ? headers_line : out) += line;
            start = end;
        }
        return std::pair{out, headers_line};
    };
    const auto wanted = without_headers(recipe_text(debian, headers)).first;
    const std::set<std::string> ours(headers.begin(), headers.end());
    std::optional<SiblingContainer> best;
    std::size_t best_extra = 0;
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(containers_dir, ec)) {
        const auto stamp = entry.path() / kStamp;
        if (!entry.path().filename().string().starts_with("debian-") ||
            !fs::is_regular_file(stamp, ec)) {
            continue;
        }
        std::ifstream in(stamp);
        std::string recipe((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        auto [rest, headers_line] = without_headers(recipe);
        if (rest != wanted || headers_line.empty()) {
            continue;
        }
        std::set<std::string> theirs;
        std::string list = headers_line.substr(9);
        for (std::size_t at = 0; at < list.size();) {
            auto end = list.find_first_of(" \n", at);
            end = end == std::string::npos ? list.size() : end;
            if (end > at) {
                theirs.insert(list.substr(at, end - at));
            }
            at = end + 1;
        }
        std::vector<std::string> missing;
        std::set_difference(ours.begin(), ours.end(), theirs.begin(), theirs.end(),
                            std::back_inserter(missing));
        std::size_t extra = theirs.size() + missing.size() - ours.size();
        if (!best || missing.size() < best->missing.size() ||
            (missing.size() == best->missing.size() && extra < best_extra)) {
            best = SiblingContainer{entry.path() / "rootfs",
                                    entry.path().filename().string().substr(7), missing};
            best_extra = extra;
        }
    }
    return best;
}

DebianRootfs ensure_debian_rootfs(const manifest::DebianContainer& debian,
                                  const std::vector<std::string>& headers,
                                  const PrepareOptions& options) {
    const auto key = cache_key(debian, headers);
    const auto containers = options.cache_dir / "containers";
    const auto name = "debian-" + key;
    const auto final_dir = containers / name;
    auto in_use = [&](ContainerUse use) {
        if (!use) {
            throw Error("the developer container " + final_dir.string() + " vanished");
        }
        return DebianRootfs{final_dir / "rootfs", key, std::move(use)};
    };
    // This run made, refreshed or uses it already (for another target): once is enough.
    if (auto held = held_use(final_dir)) {
        return in_use(held);
    }
    if (!options.refresh) {
        if (auto use = start_use(final_dir, kStamp, options.progress)) {
            return in_use(use);
        }
    }
    fs::create_directories(containers);
    // One run makes it; another that wants the same container waits and then uses it, rather
    // than renaming its own copy over the one the first run's build compiles in.
    EntryLock lock(options.cache_dir, name);
    std::error_code ec;
    // Held from before the new container is made until the old one is removed: runs that want
    // it meanwhile wait for the new one (start_use), none compiles in a directory taken away.
    std::optional<DirectoryLock> replacing;
    if (!options.refresh) {
        if (auto use = start_use(final_dir, kStamp, options.progress)) {
            return in_use(use);
        }
    } else if (fs::is_directory(final_dir, ec)) {
        replacing.emplace(claim_for_refresh(final_dir));
    }
    if (::geteuid() != 0) {
        throw Error("creating the default developer container (debian " + debian.suite +
                    ") needs root: mmdebstrap installs its packages as root; run once as root "
                    "to fill the cache, or name a container directory or tarball in the manifest");
    }
    const auto log = containers / (name + ".log");
    write_file_atomic(log, "# " + recipe_text(debian, headers));
    // Built next to its final place and renamed there: an interrupted run leaves no half
    // container under the final name.
    PartialDir partial(make_temp_dir(containers, name + ".partial-"));
    Builder builder(debian, headers, options, partial.path() / "rootfs", log);
    auto sibling = options.refresh ? std::nullopt : find_sibling(containers, debian, headers);
    // The sibling is copied: no refresh may replace it meanwhile.
    auto sibling_use =
        sibling ? start_use(sibling->root.parent_path(), kStamp, options.progress) : nullptr;
    if (sibling_use) {
        append_log(log, "# grown from debian-" + sibling->key);
        builder.grow(*sibling);
    } else {
        builder.build();
    }
    sibling_use.reset();
    write_file_atomic(partial.path() / kStamp, recipe_text(debian, headers));

    std::optional<PartialDir> old;
    if (fs::exists(fs::symlink_status(final_dir, ec))) {
        // Renaming over an empty directory is allowed; the old container goes there.
        old.emplace(make_temp_dir(containers, name + ".old-"));
        if (::rename(final_dir.c_str(), old->path().c_str()) != 0) {
            throw_errno("failed to move " + final_dir.string() + " aside");
        }
    }
    if (::renameat2(AT_FDCWD, partial.path().c_str(), AT_FDCWD, final_dir.c_str(),
                    RENAME_NOREPLACE) != 0) {
        int err = errno;
        // Another run made the same container meanwhile: use it and drop ours.
        if ((err == EEXIST || err == ENOTEMPTY) && fs::exists(final_dir / kStamp, ec)) {
            return in_use(start_use(final_dir, kStamp, options.progress));
        }
        throw Error(errno_message(
            "failed to rename " + partial.path().string() + " to " + final_dir.string(), err));
    }
    partial.release();
    return in_use(start_use(final_dir, kStamp, options.progress));
}

} // namespace ksx::container
