#include "manifest/path_value.hpp"

#include "manifest/manifest_rules.hpp"

#include <algorithm>
#include <system_error>

namespace ksx::manifest::detail {

namespace fs = std::filesystem;

namespace {

// `path`, absolute, with its symbolic links followed as far as it exists; the rest lexically
// normal.
fs::path real_path(const fs::path& path, std::error_code& ec) {
    return fs::weakly_canonical(fs::absolute(path), ec);
}

bool inside(const fs::path& path, const std::vector<fs::path>& dirs) {
    return std::any_of(dirs.begin(), dirs.end(), [&](const fs::path& dir) {
        // "/" itself: every absolute path is under it.
        return is_under(path.native(), dir == dir.root_path() ? "" : dir.native());
    });
}

} // namespace

PathRoots::PathRoots(fs::path base, const std::vector<fs::path>& allowed) : base_(std::move(base)) {
    std::vector<fs::path> dirs{base_};
    dirs.insert(dirs.end(), allowed.begin(), allowed.end());
    for (const auto& dir : dirs) {
        std::error_code ec;
        lexical_.push_back(fs::absolute(dir).lexically_normal());
        if (lexical_.back().native().size() > 1 && !lexical_.back().has_filename()) {
            lexical_.back() = lexical_.back().parent_path(); // "dir/" is "dir"
        }
        auto real = real_path(dir, ec);
        if (!ec) {
            real_.push_back(std::move(real));
        }
    }
}

void PathRoots::check(const Value& value, const std::string& text, const fs::path& path) const {
    std::error_code ec;
    const auto real = real_path(path, ec);
    if (ec) {
        value.fail(quote(text) + " cannot be accessed: " + ec.message());
    }
    if (inside(real, real_)) {
        return;
    }
    const std::string where =
        "outside the manifest's directory " + base_.string() +
        (lexical_.size() > 1 ? " and the --allow-path directories" : "") +
        " (local paths must stay inside it; --allow-path DIR allows another directory)";
    // Inside as written, outside once resolved: a symbolic link leads out.
    if (inside(fs::absolute(path).lexically_normal(), lexical_)) {
        value.fail(quote(text) + " leads through a symbolic link to " + real.string() + ", " +
                   where);
    }
    value.fail(quote(text) + " is " + where);
}

fs::path resolve_path(const fs::path& base, const std::string& text) {
    auto path = (base / text).lexically_normal();
    if (!path.has_filename() && path != path.root_path()) {
        path = path.parent_path(); // "src/" names the same directory as "src"
    }
    return path;
}

fs::path contained_path(const Value& value, const PathRoots& roots) {
    auto text = value.text();
    if (text.empty()) {
        value.fail("must not be empty");
    }
    if (has_control_char(text)) {
        value.fail("must not contain control characters");
    }
    auto path = resolve_path(roots.base(), text);
    roots.check(value, text, path);
    return path;
}

fs::path existing_path(const Value& value, const PathRoots& roots, fs::file_type type) {
    auto text = value.text();
    if (text.empty()) {
        value.fail("must not be empty");
    }
    auto path = resolve_path(roots.base(), text);
    // Inside first: whether a file outside exists is not the manifest's business.
    roots.check(value, text, path);
    std::error_code ec;
    auto status = fs::status(path, ec);
    if (status.type() == fs::file_type::not_found) {
        value.fail(quote(text) + " does not exist");
    }
    if (ec) {
        value.fail(quote(text) + " cannot be accessed: " + ec.message());
    }
    if (status.type() != type) {
        value.fail(quote(text) + (type == fs::file_type::directory ? " is not a directory"
                                                                   : " is not a regular file"));
    }
    return path;
}

} // namespace ksx::manifest::detail
