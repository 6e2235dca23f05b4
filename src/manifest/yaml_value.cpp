#include "manifest/yaml_value.hpp"

#include <charconv>
#include <cstdio>
#include <yaml-cpp/yaml.h>

namespace ksx::manifest::detail {

std::string kind_name(YAML::NodeType::value kind) {
    switch (kind) {
    case YAML::NodeType::Map:
        return "a map";
    case YAML::NodeType::Sequence:
        return "a sequence";
    case YAML::NodeType::Scalar:
        return "a scalar";
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined:
        break;
    }
    return "null";
}

std::string quote(std::string_view text) {
    // Long values are cut: the message stays readable and the source line shows the value.
    constexpr size_t max_quoted = 80;
    std::string_view shown = text;
    if (shown.size() > max_quoted) {
        size_t end = max_quoted;
        while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) {
            --end; // not inside a UTF-8 character
        }
        shown = text.substr(0, end);
    }
    std::string out = "\"";
    for (char c : shown) {
        auto byte = static_cast<unsigned char>(c);
        if (c == '"' || c == '\\') {
            out += '\\';
            out += c;
        } else if (c == '\n') {
            out += "\\n";
        } else if (c == '\t') {
            out += "\\t";
        } else if (byte < 0x20 || byte == 0x7f) {
            char hex[8];
            std::snprintf(hex, sizeof hex, "\\x%02x", byte);
            out += hex;
        } else {
            out += c;
        }
    }
    if (shown.size() < text.size()) {
        return out + "\xe2\x80\xa6\" (" + std::to_string(text.size()) + " bytes)"; // an ellipsis
    }
    return out + "\"";
}

Value::Value(const SourceText& source, YAML::Node node) : Value(source, node, "", node.Mark()) {}

Value::Value(const SourceText& source, YAML::Node node, std::string path, YAML::Mark mark)
    : source_(&source), node_(std::move(node)), path_(std::move(path)), mark_(mark) {}

void Value::fail(const std::string& what) const {
    fail_at(mark_, what);
}

void Value::fail_at(YAML::Mark mark, const std::string& what) const {
    throw source_->error(mark, path_.empty() ? what : path_ + ": " + what);
}

void Value::expect(YAML::NodeType::value kind) const {
    if (node_.Type() != kind) {
        fail("expected " + kind_name(kind) + ", got " + kind_name(node_.Type()));
    }
}

std::string Value::text() const {
    expect(YAML::NodeType::Scalar);
    return node_.Scalar();
}

bool Value::boolean() const {
    auto value = text();
    if (value == "true") {
        return true;
    }
    if (value == "false") {
        return false;
    }
    fail("expected true or false, got " + quote(value));
}

std::int64_t Value::integer() const {
    auto value = text();
    std::string_view digits = value;
    if (!digits.empty() && digits.front() == '+') {
        digits.remove_prefix(1);
    }
    std::int64_t number = 0;
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), number);
    if (ec == std::errc::result_out_of_range) {
        fail(quote(value) + " is out of range");
    }
    // from_chars takes a '-' but no '+': "+-1" must not pass as -1.
    const bool two_signs = digits.size() < value.size() && digits.starts_with('-');
    if (ec != std::errc() || end != digits.data() + digits.size() || two_signs) {
        fail("expected an integer, got " + quote(value));
    }
    return number;
}

std::vector<Value> Value::items() const {
    expect(YAML::NodeType::Sequence);
    std::vector<Value> out;
    for (const auto& item : node_) {
        auto mark = item.IsNull() ? source_->dash_before(item.Mark()) : item.Mark();
        out.push_back(Value(*source_, item, path_ + "[" + std::to_string(out.size()) + "]", mark));
    }
    return out;
}

Value Value::field(const YAML::Node& key, const YAML::Node& value) const {
    auto path = path_.empty() ? key.Scalar() : path_ + "." + key.Scalar();
    return Value(*source_, value, std::move(path), value.IsNull() ? key.Mark() : value.Mark());
}

} // namespace ksx::manifest::detail
