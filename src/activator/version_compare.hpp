// Version ordering for choosing the newest image.
#pragma once

#include <string_view>

namespace ksx::activator {

// <0, 0, >0 like strcmp, with systemd's strverscmp_improved() rules (close to rpmvercmp):
// runs of digits compare as numbers ("1.10" > "1.9"), '~' sorts before anything (pre-releases,
// "1.0~rc1" < "1.0"), '-' before '.', '^' after, and more segments are newer ("1.0.1" > "1.0").
int compare_versions(std::string_view a, std::string_view b);

} // namespace ksx::activator
