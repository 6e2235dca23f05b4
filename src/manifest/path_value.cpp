#include "manifest/path_value.hpp"

#include <system_error>

namespace ksx::manifest::detail {

namespace fs = std::filesystem;

fs::path resolve_path(const fs::path& base, const std::string& text) {
    auto path = (base / text).lexically_normal();
    if (!path.has_filename() && path != path.root_path()) {
        path = path.parent_path(); // "src/" names the same directory as "src"
    }
    return path;
}

fs::path existing_path(const Value& value, const fs::path& base, fs::file_type type) {
    auto text = value.text();
    if (text.empty()) {
        value.fail("must not be empty");
    }
    auto path = resolve_path(base, text);
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
