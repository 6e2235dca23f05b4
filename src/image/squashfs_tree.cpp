// Tree: the validated description of an image's contents (declared in squashfs_writer.hpp).
#include "image/squashfs_writer.hpp"
#include "util/error.hpp"

#include <string_view>
#include <system_error>

namespace ksx::image {

namespace {

constexpr std::size_t max_name_length = 255;
constexpr std::size_t max_link_length = 4095;

const char* type_name(Tree::Node::Type type) {
    switch (type) {
    case Tree::Node::Type::Directory:
        return "a directory";
    case Tree::Node::Type::File:
        return "a file";
    case Tree::Node::Type::Symlink:
        return "a symlink";
    }
    return "an entry";
}

// Accepts only normalized relative paths: "a/b", never "", "/a", "a//b", "a/", "./a", "a/..".
void check_path(const std::string& path) {
    if (path.empty()) {
        throw Error("invalid image path \"\": must not be empty");
    }
    if (path.front() == '/') {
        throw Error("invalid image path \"" + path + "\": must be relative");
    }
    if (path.find('\0') != std::string::npos) {
        throw Error("invalid image path \"" + path + "\": contains a NUL byte");
    }
    std::string_view rest = path;
    while (true) {
        auto slash = rest.find('/');
        auto name = rest.substr(0, slash);
        if (name.empty() || name == "." || name == "..") {
            throw Error("invalid image path \"" + path + "\": empty, '.' or '..' component");
        }
        if (name.size() > max_name_length) {
            throw Error("invalid image path \"" + path +
                        "\": a component is longer than 255 bytes");
        }
        if (slash == std::string_view::npos) {
            break;
        }
        rest.remove_prefix(slash + 1);
    }
}

void check_mode(const std::string& path, unsigned mode) {
    if ((mode & ~07777U) != 0) {
        throw Error("invalid mode for image path \"" + path + "\": only permission bits allowed");
    }
}

} // namespace

void Tree::add_directory(const std::string& path, unsigned mode) {
    check_path(path);
    check_mode(path, mode);
    insert(path, Node{Node::Type::Directory, mode, {}, {}, {}});
}

void Tree::add_file(const std::string& path, const std::filesystem::path& source, unsigned mode) {
    check_path(path);
    check_mode(path, mode);
    insert(path, Node{Node::Type::File, mode, source, std::nullopt, {}});
}

void Tree::add_file_content(const std::string& path, std::string content, unsigned mode) {
    check_path(path);
    check_mode(path, mode);
    insert(path, Node{Node::Type::File, mode, {}, std::move(content), {}});
}

void Tree::add_symlink(const std::string& path, std::string target) {
    check_path(path);
    if (target.empty() || target.size() > max_link_length ||
        target.find('\0') != std::string::npos) {
        throw Error("invalid symlink target for image path \"" + path + "\"");
    }
    insert(path, Node{Node::Type::Symlink, 0777, {}, std::nullopt, std::move(target)});
}

void Tree::add_host_tree(const std::string& path, const std::filesystem::path& host_dir) {
    namespace fs = std::filesystem;
    if (!path.empty()) {
        check_path(path);
    }
    std::error_code ec;
    if (!fs::is_directory(fs::symlink_status(host_dir, ec))) {
        throw Error("cannot add " + host_dir.string() + " to the image: not a directory");
    }
    if (!path.empty() && !nodes_.contains(path)) {
        add_directory(path);
    }
    fs::recursive_directory_iterator it(host_dir, ec), end;
    for (; !ec && it != end; it.increment(ec)) {
        const fs::directory_entry& entry = *it;
        std::string relative = entry.path().lexically_relative(host_dir).generic_string();
        std::string inside = path.empty() ? relative : path + "/" + relative;
        auto status = entry.symlink_status(ec);
        if (ec) {
            break;
        }
        auto mode = static_cast<unsigned>(status.permissions()) & 07777U;
        switch (status.type()) {
        case fs::file_type::directory:
            add_directory(inside, mode);
            break;
        case fs::file_type::regular:
            add_file(inside, entry.path(), mode);
            break;
        case fs::file_type::symlink:
            add_symlink(inside, fs::read_symlink(entry.path()).string());
            break;
        default:
            throw Error("cannot add " + entry.path().string() +
                        " to the image: only regular files, directories and symlinks are "
                        "supported");
        }
    }
    if (ec) {
        throw Error("failed to read " + host_dir.string() + ": " + ec.message());
    }
}

Tree Tree::subtree(const std::string& dir, std::vector<std::string>& outside) const {
    Tree out;
    const std::string prefix = dir + "/";
    for (const auto& [path, node] : nodes_) {
        if (path == dir) {
            out.nodes_[""] = node;
        } else if (path.starts_with(prefix)) {
            out.nodes_.emplace(path.substr(prefix.size()), node);
        } else if (!path.empty()) {
            outside.push_back(path);
        }
    }
    return out;
}

void Tree::ensure_parents(const std::string& path) {
    auto slash = path.rfind('/');
    if (slash == std::string::npos) {
        return;
    }
    std::string parent = path.substr(0, slash);
    auto found = nodes_.find(parent);
    if (found == nodes_.end()) {
        ensure_parents(parent);
        nodes_.emplace(parent, Node{});
    } else if (found->second.type != Node::Type::Directory) {
        throw Error("cannot add \"" + path + "\" to the image: \"" + parent + "\" is " +
                    type_name(found->second.type));
    }
}

void Tree::insert(const std::string& path, Node node) {
    auto found = nodes_.find(path);
    if (found != nodes_.end()) {
        if (found->second.type != node.type) {
            throw Error("cannot add \"" + path + "\" to the image as " + type_name(node.type) +
                        ": already added as " + type_name(found->second.type));
        }
        // The same type again: the later description wins (a directory changes its mode).
        found->second = std::move(node);
        return;
    }
    ensure_parents(path);
    nodes_.emplace(path, std::move(node));
}

} // namespace ksx::image
