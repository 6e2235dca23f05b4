#include "manifest/yaml_documents.hpp"

#include "manifest/yaml_value.hpp"

#include <sstream>
#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/exceptions.h>
#include <yaml-cpp/parser.h>

namespace ksx::manifest {

namespace {

// Records where each document starts and where its root node is; ignores the rest.
class DocumentMarks : public YAML::EventHandler {
public:
    std::vector<YAML::Mark> starts;
    std::vector<YAML::Mark> roots;

    void OnDocumentStart(const YAML::Mark& mark) override { starts.push_back(mark); }
    void OnDocumentEnd() override {}
    void OnNull(const YAML::Mark& mark, YAML::anchor_t) override { node(mark); }
    void OnAlias(const YAML::Mark& mark, YAML::anchor_t) override { node(mark); }
    void OnScalar(const YAML::Mark& mark, const std::string&, YAML::anchor_t,
                  const std::string&) override {
        node(mark);
    }
    void OnSequenceStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t,
                         YAML::EmitterStyle::value) override {
        node(mark);
    }
    void OnSequenceEnd() override {}
    void OnMapStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t,
                    YAML::EmitterStyle::value) override {
        node(mark);
    }
    void OnMapEnd() override {}

private:
    void node(const YAML::Mark& mark) {
        if (roots.size() < starts.size()) {
            roots.push_back(mark);
        }
    }
};

} // namespace

std::vector<YAML::Mark> yaml_document_roots(const std::string& text) {
    std::istringstream input(text);
    YAML::Parser parser(input);
    DocumentMarks marks;
    while (parser.HandleNextDocument(marks)) {
        auto count = marks.starts.size();
        if (count >= 2 && marks.starts[count - 1].pos == marks.starts[count - 2].pos) {
            // Two documents starting at one place: the parser is stuck on the token there.
            const auto& at = marks.starts[count - 1];
            auto pos = static_cast<std::size_t>(at.pos);
            throw YAML::ParserException(at, pos < text.size()
                                                ? "unexpected " + detail::quote(text.substr(pos, 1))
                                                : "unexpected end of the text");
        }
    }
    marks.roots.resize(marks.starts.size(), YAML::Mark());
    return marks.roots;
}

} // namespace ksx::manifest
