#include "contract/release_index.hpp"

#include "util/error.hpp"

#include <memory>
#include <vector>

namespace ksx::contract {

namespace {

struct JsonMember;

// A parsed JSON value; numbers and literals are kept as their text.
struct Json {
    enum class Kind { Null, Literal, String, Array, Object } kind = Kind::Null;
    std::string text;                // String (unescaped), Literal
    std::vector<Json> items;         // Array
    std::vector<JsonMember> members; // Object

    const Json* get(std::string_view key) const;
    std::string string(std::string_view key) const;
};

// Not a std::pair: clang cannot instantiate pair<std::string, Json> inside Json's own
// definition.
struct JsonMember {
    std::string name;
    Json value;
};

const Json* Json::get(std::string_view key) const {
    for (const auto& [name, value] : members) {
        if (name == key) {
            return &value;
        }
    }
    return nullptr;
}

std::string Json::string(std::string_view key) const {
    const auto* value = get(key);
    return value != nullptr && value->kind == Kind::String ? value->text : std::string();
}

class Parser {
public:
    explicit Parser(std::string_view text) : text_(text) {}

    Json document() {
        auto value = parse(0);
        skip_blanks();
        if (at_ != text_.size()) {
            fail("unexpected text after the value");
        }
        return value;
    }

private:
    [[noreturn]] void fail(std::string_view what) const {
        throw_input("index.json: not valid JSON at byte {}: {}", {std::to_string(at_), what});
    }

    void skip_blanks() {
        while (at_ < text_.size() && (text_[at_] == ' ' || text_[at_] == '\n' ||
                                      text_[at_] == '\r' || text_[at_] == '\t')) {
            ++at_;
        }
    }

    char peek() {
        skip_blanks();
        if (at_ >= text_.size()) {
            fail("unexpected end");
        }
        return text_[at_];
    }

    void expect(char c) {
        if (peek() != c) {
            fail(message("expected '{}'", {std::string_view(&c, 1)}));
        }
        ++at_;
    }

    static void append_utf8(std::string& out, unsigned code) {
        if (code < 0x80) {
            out += static_cast<char>(code);
        } else if (code < 0x800) {
            out += static_cast<char>(0xC0 | (code >> 6));
            out += static_cast<char>(0x80 | (code & 0x3F));
        } else if (code < 0x10000) {
            out += static_cast<char>(0xE0 | (code >> 12));
            out += static_cast<char>(0x80 | ((code >> 6) & 0x3F));
            out += static_cast<char>(0x80 | (code & 0x3F));
        } else {
            out += static_cast<char>(0xF0 | (code >> 18));
            out += static_cast<char>(0x80 | ((code >> 12) & 0x3F));
            out += static_cast<char>(0x80 | ((code >> 6) & 0x3F));
            out += static_cast<char>(0x80 | (code & 0x3F));
        }
    }

    unsigned hex4() {
        if (text_.size() - at_ < 4) {
            fail("short \\u escape");
        }
        unsigned code = 0;
        for (int i = 0; i < 4; ++i) {
            char c = text_[at_++];
            code <<= 4;
            if (c >= '0' && c <= '9') {
                code |= static_cast<unsigned>(c - '0');
            } else if (c >= 'a' && c <= 'f') {
                code |= static_cast<unsigned>(c - 'a' + 10);
            } else if (c >= 'A' && c <= 'F') {
                code |= static_cast<unsigned>(c - 'A' + 10);
            } else {
                fail("bad \\u escape");
            }
        }
        return code;
    }

    std::string string() {
        expect('"');
        std::string out;
        while (true) {
            if (at_ >= text_.size()) {
                fail("unterminated string");
            }
            char c = text_[at_++];
            if (c == '"') {
                return out;
            }
            if (static_cast<unsigned char>(c) < 0x20) {
                fail("control character in a string");
            }
            if (c != '\\') {
                out += c;
                continue;
            }
            if (at_ >= text_.size()) {
                fail("unterminated string");
            }
            c = text_[at_++];
            switch (c) {
            case '"':
            case '\\':
            case '/':
                out += c;
                break;
            case 'b':
                out += '\b';
                break;
            case 'f':
                out += '\f';
                break;
            case 'n':
                out += '\n';
                break;
            case 'r':
                out += '\r';
                break;
            case 't':
                out += '\t';
                break;
            case 'u': {
                unsigned code = hex4();
                // UTF-16 surrogates come in pairs, high then low; anything else would decode to
                // bytes that are not UTF-8.
                if (code >= 0xDC00 && code < 0xE000) {
                    fail("low surrogate without a high one before it");
                }
                if (code >= 0xD800 && code < 0xDC00) {
                    if (text_.substr(at_, 2) != "\\u") {
                        fail("high surrogate without a low one after it");
                    }
                    at_ += 2;
                    unsigned low = hex4();
                    if (low < 0xDC00 || low >= 0xE000) {
                        fail("high surrogate without a low one after it");
                    }
                    code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00);
                }
                append_utf8(out, code);
                break;
            }
            default:
                fail("bad escape");
            }
        }
    }

    Json parse(int depth) {
        if (depth > 64) {
            fail("nested too deeply");
        }
        Json value;
        char c = peek();
        if (c == '{') {
            ++at_;
            value.kind = Json::Kind::Object;
            if (peek() == '}') {
                ++at_;
                return value;
            }
            while (true) {
                auto key = string();
                expect(':');
                value.members.push_back({std::move(key), parse(depth + 1)});
                if (peek() == ',') {
                    ++at_;
                    continue;
                }
                expect('}');
                return value;
            }
        }
        if (c == '[') {
            ++at_;
            value.kind = Json::Kind::Array;
            if (peek() == ']') {
                ++at_;
                return value;
            }
            while (true) {
                value.items.push_back(parse(depth + 1));
                if (peek() == ',') {
                    ++at_;
                    continue;
                }
                expect(']');
                return value;
            }
        }
        if (c == '"') {
            value.kind = Json::Kind::String;
            value.text = string();
            return value;
        }
        // A number, true, false or null: kept as text.
        auto start = at_;
        while (at_ < text_.size() && std::string_view("+-.0123456789eEtrufalsn").find(text_[at_]) !=
                                         std::string_view::npos) {
            ++at_;
        }
        if (at_ == start) {
            fail("unexpected character");
        }
        value.text = text_.substr(start, at_ - start);
        value.kind = value.text == "null" ? Json::Kind::Null : Json::Kind::Literal;
        return value;
    }

    std::string_view text_;
    std::size_t at_ = 0;
};

} // namespace

std::map<std::string, OsIdentity> parse_release_index(std::string_view text) {
    auto index = Parser(text).document();
    const auto* format = index.get("format");
    const auto* images = index.get("images");
    if (index.kind != Json::Kind::Object || format == nullptr || format->text != "1" ||
        images == nullptr || images->kind != Json::Kind::Array) {
        throw_input("index.json: not a kmod-sysext index (format 1)", {});
    }
    std::map<std::string, OsIdentity> out;
    for (const auto& image : images->items) {
        auto file = image.string("file");
        const auto* os = image.get("os");
        if (file.empty() || os == nullptr || os->kind != Json::Kind::Object) {
            throw_input("index.json: an image without \"file\" or \"os\"", {});
        }
        out[file] = {os->string("id"), os->string("version_id"), os->string("sysext_level"),
                     image.string("architecture")};
    }
    return out;
}

} // namespace ksx::contract
