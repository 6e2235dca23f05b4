// `kmod-sysext cache list|prune`: what the cache holds (developer containers, downloads, work
// directories, kernel builds, compiler caches) and removing what is not in use.
#include "cli/commands.hpp"
#include "util/cache.hpp"
#include "util/file_io.hpp"
#include "util/remove_tree.hpp"

#include <chrono>
#include <fmt/core.h>
#include <memory>
#include <nlohmann/json.hpp>

namespace ksx::cli {

namespace {

namespace fs = std::filesystem;

struct CacheArgs {
    bool containers = false;
    bool downloads = false;
    bool work = false;
    bool builds = false;
    bool compiler = false;
    bool all = false;
    int older_than = -1;
};

std::int64_t unix_seconds(fs::file_time_type t) {
    return std::chrono::duration_cast<std::chrono::seconds>(
               fs::file_time_type::clock::to_sys(t).time_since_epoch())
        .count();
}

std::string utc_text(fs::file_time_type t) {
    auto seconds = static_cast<std::time_t>(unix_seconds(t));
    std::tm tm{};
    ::gmtime_r(&seconds, &tm);
    char text[32];
    std::strftime(text, sizeof text, "%Y-%m-%d %H:%M", &tm);
    return text;
}

std::string human_size(std::uint64_t bytes) {
    const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    double value = static_cast<double>(bytes);
    size_t unit = 0;
    while (value >= 1024 && unit + 1 < std::size(units)) {
        value /= 1024;
        ++unit;
    }
    return unit == 0 ? fmt::format("{} B", bytes) : fmt::format("{:.1f} {}", value, units[unit]);
}

std::string state_of(const CacheEntry& e) {
    if (e.in_use) {
        return "in use";
    }
    if (e.kept) {
        return "kept";
    }
    return e.leftover ? "leftover" : "";
}

nlohmann::json entry_json(const CacheEntry& e) {
    return {{"kind", to_string(e.kind)},
            {"path", e.path.string()},
            {"bytes", e.bytes},
            {"last_use", unix_seconds(e.last_use)},
            {"in_use", e.in_use},
            {"leftover", e.leftover},
            {"kept", e.kept}};
}

void print_entries(const std::vector<CacheEntry>& entries, const fs::path& cache) {
    std::uint64_t total = 0;
    for (const auto& e : entries) {
        total += e.bytes;
        fmt::print("{:<9} {:>10}  {}  {:<8}  {}\n", to_string(e.kind), human_size(e.bytes),
                   utc_text(e.last_use), state_of(e), e.path.lexically_relative(cache).string());
    }
    fmt::print("{} entries, {}\n", entries.size(), human_size(total));
}

int run_list(const GlobalOptions& global) {
    const auto cache = cache_dir();
    auto entries = list_cache(cache);
    if (global.json) {
        nlohmann::json out = nlohmann::json::array();
        for (const auto& e : entries) {
            out.push_back(entry_json(e));
        }
        fmt::print("{}\n", nlohmann::json{{"cache", cache.string()}, {"entries", out}}.dump(2));
    } else {
        fmt::print("cache {}\n", cache.string());
        print_entries(entries, cache);
    }
    return 0;
}

int run_prune(const CacheArgs& args, const GlobalOptions& global) {
    const auto cache = cache_dir();
    PruneOptions options;
    options.all = args.all;
    options.older_than_days = args.older_than;
    if (args.containers) {
        options.kinds.push_back(CacheKind::Container);
    }
    if (args.downloads) {
        options.kinds.push_back(CacheKind::Download);
    }
    if (args.work) {
        options.kinds.push_back(CacheKind::Work);
    }
    if (args.builds) {
        options.kinds.push_back(CacheKind::Build);
    }
    if (args.compiler) {
        options.kinds.push_back(CacheKind::Compiler);
    }
    auto removed = prune_cache(cache, options, remove_tree);
    if (global.json) {
        nlohmann::json out = nlohmann::json::array();
        for (const auto& e : removed) {
            out.push_back(entry_json(e));
        }
        fmt::print("{}\n", nlohmann::json{{"cache", cache.string()}, {"removed", out}}.dump(2));
    } else if (!global.quiet) {
        fmt::print("removed from {}:\n", cache.string());
        print_entries(removed, cache);
    }
    return 0;
}

} // namespace

Command cache_command() {
    return {"cache",
            "List or prune the cache (developer containers, downloads, work directories, kernel "
            "builds, compiler caches)",
            [](CLI::App& app, const GlobalOptions& global) -> std::function<int()> {
                auto args = std::make_shared<CacheArgs>();
                app.require_subcommand(1);
                auto* list = app.add_subcommand(
                    "list", "Show each cache entry with its size, last use and state");
                auto* prune = app.add_subcommand(
                    "prune", "Remove leftovers of runs that are gone (unfinished containers, "
                             "work directories), and with --older-than or --all more; "
                             "entries in use are never removed");
                // `cache list --json` as well as `cache --json list`.
                list->fallthrough();
                prune->fallthrough();
                prune
                    ->add_option("--older-than", args->older_than,
                                 "Also remove entries not used for this many days")
                    ->check(CLI::Range(0, 100000));
                prune->add_flag("--all", args->all, "Remove every entry not in use");
                prune->add_flag("--containers", args->containers,
                                "Only developer containers (and extracted tarballs)");
                prune->add_flag("--downloads", args->downloads, "Only downloads");
                prune->add_flag("--work", args->work, "Only work directories of builds");
                prune->add_flag("--builds", args->builds,
                                "Only kernel builds kept by the build cache");
                prune->add_flag("--compiler-cache", args->compiler,
                                "Only compiler caches (ccache) of developer containers");
                return [args, list, &global] {
                    return list->parsed() ? run_list(global) : run_prune(*args, global);
                };
            }};
}

} // namespace ksx::cli
