// Developer containers from OSTree commits made with the ostree CLI, pulled over HTTP (python's
// http.server on 127.0.0.1) and from a local repository path.
#include "container/container.hpp"
#include "container/ostree_container.hpp"
#include "server_fixture.hpp"
#include "tar_fixture.hpp"
#include "util/error.hpp"
#include "util/file_io.hpp"
#include "util/process.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <doctest/doctest.h>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <sys/stat.h>
#include <vector>

namespace fs = std::filesystem;
using ksx::test::failure;
using ksx::test::listing;
using ksx::test::mode_of;

namespace {

// Runs a command that must succeed; returns its stdout without the last newline.
std::string run(const std::vector<std::string>& argv) {
    ksx::ProcessOptions options;
    options.log_file = fs::absolute("commands.log");
    auto result = ksx::run_capture(argv, options);
    REQUIRE_MESSAGE(result.exit_status == 0,
                    ksx::quote_command(argv) << " failed: " << ksx::read_file(*options.log_file));
    while (!result.output.empty() && result.output.back() == '\n') {
        result.output.pop_back();
    }
    return result.output;
}

void write(const fs::path& path, const std::string& data, unsigned mode = 0644) {
    fs::create_directories(path.parent_path());
    std::ofstream(path, std::ios::binary) << data;
    fs::permissions(path, static_cast<fs::perms>(mode));
}

// A small root filesystem committed to an archive repository; returns the commit.
std::string commit_tree(const fs::path& repo, const std::string& branch, const std::string& version,
                        const std::vector<std::string>& signing = {}) {
    const fs::path tree = fs::absolute("tree-" + version);
    write(tree / "usr/bin/sh", "#!shell\n", 0755);
    write(tree / "usr/lib/os-release", "ID=test\nVERSION_ID=" + version + "\n");
    write(tree / "usr/share/secret", "only root", 0600);
    fs::create_directory_symlink("usr/bin", tree / "bin");
    if (!fs::exists(repo / "config")) {
        run({"ostree", "init", "--mode=archive", "--repo=" + repo.string()});
    }
    std::vector<std::string> argv = {"ostree",
                                     "commit",
                                     "--repo=" + repo.string(),
                                     "--branch=" + branch,
                                     "--tree=dir=" + tree.string(),
                                     "--no-xattrs",
                                     "--subject=" + version};
    argv.insert(argv.end(), signing.begin(), signing.end());
    return run(argv);
}

ksx::container::PrepareOptions options(ksx::Progress& progress = ksx::Progress::quiet()) {
    return {.cache_dir = fs::absolute("cache"), .progress = progress};
}

ksx::manifest::OstreeContainer remote(const std::string& url, const std::string& ref) {
    ksx::manifest::OstreeContainer out;
    out.url = url;
    out.ref = ref;
    return out;
}

// python3 -m http.server serving `dir` on 127.0.0.1.
class StaticServer {
public:
    explicit StaticServer(const fs::path& dir) : port_(ksx::test::free_port()) {
        process_ = std::make_unique<ksx::test::Spawned>(
            std::vector<std::string>{"python3", "-m", "http.server", port_, "--bind", "127.0.0.1",
                                     "--directory", dir.string()},
            fs::absolute("http-" + port_ + ".log"));
        REQUIRE_MESSAGE(ksx::test::wait_for_port(port_), "http.server did not start");
    }
    std::string url() const { return "http://127.0.0.1:" + port_; }
    void stop() { process_->stop(); }

private:
    std::string port_;
    std::unique_ptr<ksx::test::Spawned> process_;
};

std::string read_stream(std::FILE* out) {
    std::rewind(out);
    std::string text;
    for (int c; (c = std::fgetc(out)) != EOF;) {
        text += static_cast<char>(c);
    }
    return text;
}

// A GnuPG home with one signing key; removes its agent when done.
class GpgKey {
public:
    explicit GpgKey(const std::string& name) : home_(fs::absolute(name)) {
        fs::create_directories(home_);
        fs::permissions(home_, fs::perms::owner_all);
        run({"gpg", "--homedir", home_.string(), "--batch", "--passphrase", "", "--quick-gen-key",
             name + " <" + name + "@example.org>", "ed25519", "sign", "never"});
        auto listing =
            run({"gpg", "--homedir", home_.string(), "--list-secret-keys", "--with-colons"});
        auto at = listing.find("\nfpr:");
        REQUIRE(at != std::string::npos);
        auto line = listing.substr(at + 1, listing.find('\n', at + 1) - at - 1);
        fingerprint_ = line.substr(line.rfind(':', line.size() - 2) + 1);
        fingerprint_.pop_back(); // the trailing ':'
        public_key_ = fs::absolute(name + ".asc");
        write(public_key_,
              run({"gpg", "--homedir", home_.string(), "--armor", "--export", fingerprint_}));
    }
    ~GpgKey() {
        ksx::ProcessOptions quiet;
        quiet.log_file = home_.string() + ".kill.log";
        ksx::run_process({"gpgconf", "--homedir", home_.string(), "--kill", "gpg-agent"}, quiet);
    }
    std::vector<std::string> signing() const {
        return {"--gpg-sign=" + fingerprint_, "--gpg-homedir=" + home_.string()};
    }
    const fs::path& public_key() const { return public_key_; }

private:
    fs::path home_;
    std::string fingerprint_;
    fs::path public_key_;
};

} // namespace

TEST_CASE("an OSTree ref is pulled over HTTP and checked out as a copy") {
    const fs::path repo = fs::absolute("repo");
    const std::string first = commit_tree(repo, "ksx/dev", "1");
    StaticServer server(repo);

    auto image = ksx::container::ostree_rootfs(remote(server.url(), "ksx/dev"), options());
    CHECK(image.root == fs::absolute("cache/containers/ostree-" + first + "/rootfs"));
    CHECK(image.description == "ostree " + server.url() + " ksx/dev (" + first.substr(0, 12) + ")");
    CHECK(ksx::read_file(image.root / "usr/lib/os-release") == "ID=test\nVERSION_ID=1\n");
    CHECK(fs::read_symlink(image.root / "bin") == "usr/bin");
    CHECK(mode_of(image.root / "usr/bin/sh") == 0755);
    CHECK(mode_of(image.root / "usr/share/secret") == 0600);
    CHECK(mode_of(image.root) == 0755);
    // Copies, not links into the cache repository's objects.
    struct stat st {};
    REQUIRE(::stat((image.root / "usr/lib/os-release").c_str(), &st) == 0);
    CHECK(st.st_nlink == 1);
    for (const auto& e : fs::directory_iterator(image.root.parent_path())) {
        CHECK(e.path().filename() == "rootfs"); // no partial directory left
    }

    // The same ref through prepare(): /bin/sh found through the bin -> usr/bin link.
    ksx::manifest::ContainerSpec spec;
    spec.kind = ksx::manifest::ContainerSpec::Kind::Ostree;
    spec.ostree = remote(server.url(), "ksx/dev");
    CHECK(ksx::container::prepare(spec, {}, options()).root == image.root);

    // A new commit on the ref is pulled on the next run; a pinned commit stays.
    const std::string second = commit_tree(repo, "ksx/dev", "2");
    auto newer = ksx::container::ostree_rootfs(remote(server.url(), "ksx/dev"), options());
    CHECK(newer.root == fs::absolute("cache/containers/ostree-" + second + "/rootfs"));
    CHECK(ksx::read_file(newer.root / "usr/lib/os-release") == "ID=test\nVERSION_ID=2\n");
    auto pinned_spec = remote(server.url(), "ksx/dev");
    pinned_spec.commit = first;
    CHECK(ksx::container::ostree_rootfs(pinned_spec, options()).root == image.root);

    // Without the remote, the commit the ref named last is used, with a message.
    server.stop();
    std::FILE* out = std::tmpfile();
    {
        ksx::Progress progress(ksx::Progress::Mode::Plain, out);
        auto offline =
            ksx::container::ostree_rootfs(remote(server.url(), "ksx/dev"), options(progress));
        CHECK(offline.root == newer.root);
    }
    auto printed = read_stream(out);
    std::fclose(out);
    CHECK(printed.find("the remote cannot be reached") != std::string::npos);
    CHECK(printed.find("using commit " + second + " it named when last pulled") !=
          std::string::npos);
}

TEST_CASE("an OSTree ref is checked out from a local repository path") {
    const fs::path repo = fs::absolute("local-repo");
    const std::string commit = commit_tree(repo, "os/x86_64/dev", "7");
    ksx::manifest::OstreeContainer local;
    local.repo = repo;
    local.ref = "os/x86_64/dev";
    auto image = ksx::container::ostree_rootfs(local, options());
    CHECK(image.root == fs::absolute("cache/containers/ostree-" + commit + "/rootfs"));
    CHECK(ksx::read_file(image.root / "usr/lib/os-release") == "ID=test\nVERSION_ID=7\n");
    CHECK(image.description ==
          "ostree " + repo.string() + " os/x86_64/dev (" + commit.substr(0, 12) + ")");
}

TEST_CASE("an unknown OSTree ref or commit is an input error") {
    const fs::path repo = fs::absolute("repo");
    commit_tree(repo, "ksx/dev", "1");
    StaticServer server(repo);
    auto message = failure<ksx::InputError>(
        [&] { ksx::container::ostree_rootfs(remote(server.url(), "ksx/nope"), options()); });
    CHECK(message.starts_with("ostree " + server.url() + " ref ksx/nope: not found: "));

    ksx::manifest::OstreeContainer local;
    local.repo = repo;
    local.ref = "ksx/nope";
    message = failure<ksx::InputError>([&] { ksx::container::ostree_rootfs(local, options()); });
    CHECK(message.starts_with("ostree " + repo.string() + " ref ksx/nope: not found: "));

    auto pinned = remote(server.url(), "ksx/dev");
    pinned.commit = std::string(64, 'a');
    message = failure<ksx::InputError>([&] { ksx::container::ostree_rootfs(pinned, options()); });
    CHECK(message.starts_with("ostree " + server.url() + " ref ksx/dev commit " +
                              std::string(64, 'a') + ": not found: "));
    CHECK_FALSE(fs::exists(fs::absolute("cache/containers")));
}

TEST_CASE("with gpg_keys, only a commit signed by one of them is used") {
    GpgKey signer("signer");
    GpgKey stranger("stranger");
    const fs::path repo = fs::absolute("repo");
    const std::string signed_commit = commit_tree(repo, "ksx/signed", "1", signer.signing());
    commit_tree(repo, "ksx/unsigned", "2");
    StaticServer server(repo);

    auto good = remote(server.url(), "ksx/signed");
    good.gpg_keys = {signer.public_key()};
    auto image = ksx::container::ostree_rootfs(good, options());
    CHECK(image.root == fs::absolute("cache/containers/ostree-" + signed_commit + "/rootfs"));

    auto wrong_key = remote(server.url(), "ksx/signed");
    wrong_key.gpg_keys = {stranger.public_key()};
    auto message =
        failure<ksx::Error>([&] { ksx::container::ostree_rootfs(wrong_key, options()); });
    CHECK(message.starts_with("ostree " + server.url() + " ref ksx/signed: pull failed: "));

    auto unsigned_ref = remote(server.url(), "ksx/unsigned");
    unsigned_ref.gpg_keys = {signer.public_key()};
    message = failure<ksx::Error>([&] { ksx::container::ostree_rootfs(unsigned_ref, options()); });
    CHECK(message.starts_with("ostree " + server.url() + " ref ksx/unsigned: pull failed: "));
    CHECK(message.find("signature") != std::string::npos);
}
