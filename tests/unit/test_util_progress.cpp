// Progress as each output sees it: plain lines with the periodic "still" line, a terminal's
// live area redrawn in place, and the JSON event stream.
#include "util/file_io.hpp"
#include "util/progress.hpp"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <doctest/doctest.h>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

namespace fs = std::filesystem;
using ksx::Phase;
using ksx::Progress;

namespace {

// A file Progress writes to, read back while it runs.
struct Captured {
    explicit Captured(std::string name)
        : path(std::move(name)), file(std::fopen(path.c_str(), "w")) {
        REQUIRE(file != nullptr);
    }
    ~Captured() { std::fclose(file); }
    std::string text() const { return ksx::read_file(path); }
    // Waits (up to 20 s: a loaded machine) until the text holds `wanted`.
    bool shows(const std::string& wanted) const {
        for (int i = 0; i < 200; ++i) {
            if (text().find(wanted) != std::string::npos) {
                return true;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
        }
        return false;
    }
    fs::path path;
    std::FILE* file;
};

struct IntervalEnv {
    explicit IntervalEnv(const char* value) { ::setenv("KSX_PROGRESS_INTERVAL", value, 1); }
    ~IntervalEnv() { ::unsetenv("KSX_PROGRESS_INTERVAL"); }
};

void append(const fs::path& file, const std::string& text) {
    std::ofstream(file, std::ios::app) << text;
}

} // namespace

TEST_CASE("not on a terminal, steps are lines and a long step says every interval it is alive") {
    IntervalEnv every_second("1");
    Captured out("plain.txt");
    append("build.log", "$ make modules\n  CC [M]  /build/src/hello.o\n");
    {
        Progress progress(Progress::Mode::Plain, out.file);
        progress.task("6.1.0-57-amd64", Phase::Compile, "build command 1/1");
        progress.watch("6.1.0-57-amd64", "build.log");
        CHECK(out.shows("[6.1.0-57-amd64] still compiling, "));
        progress.done("6.1.0-57-amd64");
        progress.line("out/hello.raw");
    }
    std::istringstream lines(out.text());
    std::string first;
    std::string second;
    std::getline(lines, first);
    std::getline(lines, second);
    CHECK(first == "[6.1.0-57-amd64] build command 1/1");
    CHECK(second.starts_with("[6.1.0-57-amd64] still compiling, "));
    CHECK(second.ends_with(" s, last: CC [M] /build/src/hello.o"));
    CHECK(out.text().ends_with("out/hello.raw\n"));
    CHECK(out.text().find('\033') == std::string::npos);
}

TEST_CASE("on a terminal each task has a live line redrawn in place below the lasting lines") {
    Captured out("terminal.txt");
    append("a.log", "  CC [M]  /build/src/hello.o\n");
    {
        Progress progress(Progress::Mode::Terminal, out.file);
        progress.task("kernel-a", Phase::Compile, "build command 1/1");
        progress.watch("kernel-a", "a.log");
        progress.task("kernel-b", Phase::Fetch, "fetching source");
        // The redraw shows a's latest build output on its line, the elapsed time before it.
        CHECK(out.shows(" s): CC [M] /build/src/hello.o"));
        append("a.log", "  LD [M]  /build/src/hello.ko\n");
        CHECK(out.shows(" s): LD [M] /build/src/hello.ko"));
        progress.line("a lasting line");
        progress.done("kernel-a");
        progress.task("kernel-b", Phase::Pack, "packing b.raw");
        progress.detail("kernel-b", "3 of 7 files");
    }
    const auto text = out.text();
    // Two live lines are erased (this one, then the one above) before a lasting line is
    // printed, and drawn again below it.
    CHECK(text.find("\r\033[K\033[A\033[Ka lasting line\n[kernel-a] build command 1/1") !=
          std::string::npos);
    CHECK(text.find("[kernel-a] build command 1/1 (") != std::string::npos);
    CHECK(text.find("[kernel-b] packing b.raw (") != std::string::npos);
    CHECK(text.find(" s): 3 of 7 files") != std::string::npos);
    // Nothing is left standing at the end.
    CHECK(text.ends_with("\r\033[K"));
}

TEST_CASE("on a terminal a step of no task that lasts shows for how long") {
    Captured out("general.txt");
    Progress progress(Progress::Mode::Terminal, out.file);
    progress.step("container: mmdebstrap trixie");
    CHECK(out.shows("\r\033[Kcontainer: mmdebstrap trixie ("));
}

TEST_CASE("the event stream is one JSON object per line, with tasks, phases and a summary") {
    Captured events("events.jsonl");
    Captured out("quiet.txt");
    {
        Progress progress(Progress::Mode::Quiet, out.file, events.file);
        progress.step("container: preparing");
        progress.task("k", Phase::Fetch, "fetching source");
        progress.transfer("downloading a.tar.gz: 1.0 KiB / 1.0 KiB",
                          {"a.tar.gz", 1024, 1024, 2048});
        progress.task("k", Phase::Compile, "build command 1/1");
        progress.done("k");
        progress.line("out/hello.raw");
        progress.summary();
    }
    CHECK(out.text().empty());
    std::vector<nlohmann::json> parsed;
    std::istringstream lines(events.text());
    for (std::string line; std::getline(lines, line);) {
        parsed.push_back(nlohmann::json::parse(line));
    }
    REQUIRE(parsed.size() == 7);
    for (const auto& event : parsed) {
        CHECK(event["time"].is_number());
    }
    CHECK(parsed[0]["event"] == "step");
    CHECK(parsed[0]["text"] == "container: preparing");
    CHECK(parsed[1]["task"] == "k");
    CHECK(parsed[1]["phase"] == "fetch");
    CHECK(parsed[2] == nlohmann::json{{"event", "download"},
                                      {"time", parsed[2]["time"]},
                                      {"name", "a.tar.gz"},
                                      {"bytes", 1024},
                                      {"total", 1024},
                                      {"rate", 2048}});
    CHECK(parsed[3]["phase"] == "compile");
    CHECK(parsed[4]["event"] == "done");
    CHECK(parsed[5]["event"] == "message");
    CHECK(parsed[5]["text"] == "out/hello.raw");
    CHECK(parsed[6]["event"] == "summary");
    for (const char* phase : {"container", "fetch", "compile", "sign", "pack"}) {
        CHECK(parsed[6]["phases"][phase].is_number());
    }
}

TEST_CASE("the quiet progress shows nothing and still counts phases") {
    auto& quiet = Progress::quiet();
    CHECK_FALSE(quiet.is_terminal());
    quiet.task("quiet-test", Phase::Sign, "signing");
    quiet.done("quiet-test");
    quiet.line("nobody sees this");
    CHECK(quiet.phase_seconds()[static_cast<size_t>(Phase::Sign)] >= 0.0);
}
