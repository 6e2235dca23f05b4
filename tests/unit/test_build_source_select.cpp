// Choosing a kernel's source, patches and packages.
#include "build/source_select.hpp"

#include <doctest/doctest.h>

using namespace ksx;

TEST_CASE("the first source whose selector matches is used, with its patches and packages") {
    manifest::Manifest m;
    m.sources.resize(2);
    m.sources[0].field = "sources[0]";
    m.sources[0].kernels.max = "6.2";
    m.sources[1].field = "sources[1]";
    m.sources[1].kernels.min = "6.3";
    m.sources[1].patches.resize(1);
    m.sources[1].patches[0].kernels.match = "6.12.*";
    m.patches.resize(1);
    m.packages.resize(2);
    m.packages[0].kernels.max = "6.2";
    m.packages[1].kernels.min = "6.3";

    auto old_kernel = build::choose(m, "6.1.0-56-amd64");
    CHECK(old_kernel.source == &m.sources[0]);
    CHECK(old_kernel.patches == std::vector<const manifest::PatchSpec*>{&m.patches[0]});
    CHECK(old_kernel.packages == std::vector<const manifest::PackageSpec*>{&m.packages[0]});

    auto new_kernel = build::choose(m, "6.12.117+deb12-amd64");
    CHECK(new_kernel.source == &m.sources[1]);
    CHECK(new_kernel.patches ==
          std::vector<const manifest::PatchSpec*>{&m.sources[1].patches[0], &m.patches[0]});
    CHECK(new_kernel.packages == std::vector<const manifest::PackageSpec*>{&m.packages[1]});
}

TEST_CASE("a kernel no source supports is skipped with the selectors tried") {
    manifest::Manifest m;
    m.sources.resize(1);
    m.sources[0].field = "source";
    m.sources[0].kernels.match = "6.1.*";
    auto choice = build::choose(m, "6.12.117+deb12-amd64");
    CHECK(choice.source == nullptr);
    CHECK(choice.skip_reason == "no source applies to this kernel (source: match \"6.1.*\")");
}
