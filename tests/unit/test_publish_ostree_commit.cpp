// commit_to_ostree(): real images (our squashfs writer) into archive-mode repositories, read
// back with the ostree CLI.
#include "image/squashfs_writer.hpp"
#include "publish/ostree_commit.hpp"
#include "util/error.hpp"
#include "util/process.hpp"
#include "util/sha256.hpp"

#include <doctest/doctest.h>
#include <filesystem>
#include <string>

namespace fs = std::filesystem;
using ksx::publish::commit_to_ostree;
using ksx::publish::OstreeOptions;

namespace {

fs::path shard(const std::string& dir, const std::string& kernel, const std::string& module) {
    fs::create_directories(dir);
    ksx::image::Tree tree;
    tree.add_file_content("usr/lib/extension-release.d/extension-release.demo",
                          "ID=debian\nVERSION_ID=12\nARCHITECTURE=x86-64\nKMOD_SYSEXT_NAME=demo\n"
                          "KMOD_SYSEXT_VERSION=2.0\nKMOD_SYSEXT_KERNEL=" +
                              kernel + "\n");
    tree.add_file_content("usr/lib/kmod-sysext/demo/modules.load",
                          "demo\t/usr/lib/modules/6.1.0-56-amd64/extra/demo.ko\t-\tboot\t\n");
    tree.add_file_content("usr/lib/modules/" + kernel + "/extra/demo/demo.ko", module);
    tree.add_file_content("usr/share/demo/shared.conf", "same in every kernel\n");
    tree.add_symlink("usr/share/demo/link", "shared.conf");
    ksx::image::WriteOptions options;
    options.mtime = 1700000000;
    ksx::image::write_squashfs(tree, fs::path(dir) / ("demo_2.0_" + kernel + ".raw"), options);
    return fs::absolute(dir);
}

std::string ostree(const std::vector<std::string>& args) {
    std::vector<std::string> argv{"ostree"};
    argv.insert(argv.end(), args.begin(), args.end());
    auto result = ksx::run_capture(argv);
    REQUIRE(result.exit_status == 0);
    return result.output;
}

// A GnuPG home with one new signing key; returns its fingerprint.
std::string make_gpg_key(const fs::path& home) {
    fs::remove_all(home);
    fs::create_directories(home);
    fs::permissions(home, fs::perms::owner_all);
    ksx::ProcessOptions quiet;
    quiet.log_file = fs::absolute("gpg.log");
    REQUIRE(ksx::run_process({"gpg", "--homedir", home.string(), "--batch", "--passphrase", "",
                              "--quick-gen-key", "ostree test <test@example.org>", "ed25519",
                              "sign", "never"},
                             quiet)
                .exit_status == 0);
    auto listing = ksx::run_capture(
        {"gpg", "--homedir", home.string(), "--list-secret-keys", "--with-colons"}, quiet);
    auto at = listing.output.find("\nfpr:");
    REQUIRE(at != std::string::npos);
    auto line = listing.output.substr(at + 1, listing.output.find('\n', at + 1) - at - 1);
    auto fpr = line.substr(0, line.size() - 1); // "fpr:::::::::<fingerprint>:"
    return fpr.substr(fpr.rfind(':') + 1);
}

// "Found N signature(s)" of `ostree show`, 0 when it finds none.
int signature_count(const fs::path& repo, const std::string& ref, const fs::path& home) {
    auto out = ostree({"--repo=" + repo.string(), "show", "--gpg-homedir=" + home.string(), ref});
    auto at = out.find("Found ");
    return at == std::string::npos ? 0 : std::stoi(out.substr(at + 6));
}

} // namespace

TEST_CASE("the same images give the same commits in any repository") {
    auto a = shard("os-a", "6.1.0-56-amd64", "module 6.1");
    auto b = shard("os-b", "6.12.117+deb12-amd64", "module 6.12");
    // doctest runs the case once per subcase: start from no repository each time.
    fs::remove_all("repo-one");
    fs::remove_all("repo-two");
    OstreeOptions one;
    one.repo = fs::absolute("repo-one");
    one.from = {a, b};
    auto first = commit_to_ostree(one);
    REQUIRE(first.size() == 2);
    CHECK(first[0].ref == "kmod-sysext/demo/x86-64/6.1.0-56-amd64");
    CHECK(first[1].ref == "kmod-sysext/demo/x86-64/6.12.117_deb12-amd64");
    CHECK(first[0].created);

    OstreeOptions two = one;
    two.repo = fs::absolute("repo-two");
    two.from = {b, a};
    auto second = commit_to_ostree(two);
    CHECK(second[0].checksum == first[0].checksum);
    CHECK(second[1].checksum == first[1].checksum);

    SUBCASE("committing again keeps the ref where it is") {
        auto again = commit_to_ostree(one);
        CHECK_FALSE(again[0].created);
        CHECK(again[0].checksum == first[0].checksum);
    }
    SUBCASE("the repository is archive mode and the commit carries the image's metadata") {
        CHECK(ostree({"--repo=" + one.repo.string(), "show",
                      "--print-metadata-key=kmod-sysext.kernel", first[1].ref}) ==
              "'6.12.117+deb12-amd64'\n");
        CHECK(ostree({"--repo=" + one.repo.string(), "show", "--print-metadata-key=version",
                      first[1].ref}) == "'2.0'\n");
        CHECK(ostree({"--repo=" + one.repo.string(), "config", "get", "core.mode"}) ==
              "archive-z2\n");
    }
    SUBCASE("a file that is the same in two kernels' trees is one object") {
        auto ls = [&](const std::string& ref) {
            return ostree(
                {"--repo=" + one.repo.string(), "ls", "-C", ref, "/usr/share/demo/shared.conf"});
        };
        CHECK(ls(first[0].ref) == ls(first[1].ref));
    }
}

TEST_CASE("two different images of one name are refused before the repository is touched") {
    auto a = shard("conflict-a", "6.1.0-56-amd64", "module 6.1");
    auto b = shard("conflict-b", "6.1.0-56-amd64", "module 6.1, built again differently");
    fs::remove_all("repo-conflict");
    OstreeOptions options;
    options.repo = fs::absolute("repo-conflict");
    options.from = {a, b};
    auto name = std::string("demo_2.0_6.1.0-56-amd64.raw");
    CHECK_THROWS_WITH_AS(commit_to_ostree(options),
                         ("conflicting " + name + ": " + (a / name).string() + " (sha256 " +
                          ksx::sha256_file_hex(a / name) + ") and " + (b / name).string() +
                          " (sha256 " + ksx::sha256_file_hex(b / name) + ")")
                             .c_str(),
                         ksx::InputError);
    CHECK_FALSE(fs::exists(options.repo));

    options.from = {a, a}; // the same image twice is one commit
    auto commits = commit_to_ostree(options);
    CHECK(commits.size() == 1);
}

TEST_CASE("publishing again with a key signs the commits made without one, once") {
    auto a = shard("sign-a", "6.1.0-56-amd64", "module 6.1");
    auto home = fs::absolute("gnupg-ostree");
    auto fingerprint = make_gpg_key(home);
    // gpg leaves an agent running in the home; stop it before the directory goes.
    struct AgentStop {
        fs::path home;
        ~AgentStop() {
            ksx::ProcessOptions quiet;
            quiet.log_file = home.string() + ".kill.log";
            try {
                ksx::run_process({"gpgconf", "--homedir", home.string(), "--kill", "gpg-agent"},
                                 quiet);
            } catch (const std::exception&) {
                // a destructor must not throw; the agent then exits on its own
            }
        }
    } agent_stop{home};
    fs::remove_all("repo-sign");
    OstreeOptions options;
    options.repo = fs::absolute("repo-sign");
    options.from = {a};
    auto first = commit_to_ostree(options);
    REQUIRE(first.size() == 1);
    CHECK(signature_count(options.repo, first[0].ref, home) == 0);

    options.gpg_key = fingerprint;
    options.gpg_homedir = home;
    auto again = commit_to_ostree(options);
    CHECK_FALSE(again[0].created);
    CHECK(again[0].checksum == first[0].checksum); // the same commit, now signed
    CHECK(signature_count(options.repo, first[0].ref, home) == 1);
    commit_to_ostree(options);
    CHECK(signature_count(options.repo, first[0].ref, home) == 1); // not signed twice
}

TEST_CASE("kernel releases become valid ref components") {
    CHECK(ksx::publish::ostree_ref_component("6.12.117+deb12-amd64") == "6.12.117_deb12-amd64");
    CHECK(ksx::publish::ostree_ref_component("x86-64") == "x86-64");
}
