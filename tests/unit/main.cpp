// doctest main for the unit tests. Each run gets a fresh temp dir, and each test case a fresh
// subdirectory of it as working directory, so cases that use the same file names cannot see
// each other's files. The temp dir is removed afterwards unless a test failed (then its path is
// printed to look at).
#define DOCTEST_CONFIG_IMPLEMENT
#include <cstdlib>
#include <doctest/doctest.h>
#include <filesystem>
#include <iostream>
#include <string>
#include <unistd.h>

namespace {

std::filesystem::path run_dir;

// Moves into `<run_dir>/case-<n>` before every test case.
class FreshDirectoryPerCase : public doctest::IReporter {
public:
    explicit FreshDirectoryPerCase(const doctest::ContextOptions&) {}
    void report_query(const doctest::QueryData&) override {}
    void test_run_start() override {}
    void test_run_end(const doctest::TestRunStats&) override {}
    void test_case_start(const doctest::TestCaseData&) override {
        std::filesystem::path dir = run_dir / ("case-" + std::to_string(++cases_));
        std::filesystem::create_directory(dir);
        std::filesystem::current_path(dir);
    }
    void test_case_reenter(const doctest::TestCaseData&) override {}
    void test_case_end(const doctest::CurrentTestCaseStats&) override {}
    void test_case_exception(const doctest::TestCaseException&) override {}
    void subcase_start(const doctest::SubcaseSignature&) override {}
    void subcase_end() override {}
    void log_assert(const doctest::AssertData&) override {}
    void log_message(const doctest::MessageData&) override {}
    void test_case_skipped(const doctest::TestCaseData&) override {}

private:
    unsigned cases_ = 0;
};

REGISTER_LISTENER("fresh-directory-per-case", 1, FreshDirectoryPerCase);

} // namespace

int main(int argc, char** argv) {
    std::string pattern = (std::filesystem::temp_directory_path() / "ksx-unit-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) {
        std::cerr << "cannot create a temp dir\n";
        return 1;
    }
    run_dir = pattern;
    std::filesystem::current_path(run_dir);
    doctest::Context context(argc, argv);
    int result = context.run();
    std::filesystem::current_path("/");
    if (result == 0) {
        // A helper daemon (gpg-agent) may still be removing its socket: try again briefly.
        std::error_code error;
        for (int attempt = 0; attempt < 5; ++attempt) {
            std::filesystem::remove_all(run_dir, error);
            if (!error) {
                break;
            }
            ::usleep(200'000);
        }
        if (error) {
            std::cerr << "cannot remove " << run_dir.string() << ": " << error.message() << "\n";
        }
    } else {
        std::cerr << "test files kept in " << run_dir.string() << "\n";
    }
    return result;
}
