// The error a bad manifest produces, with its position.
#pragma once

#include "util/error.hpp"

#include <string>

namespace ksx::manifest {

class ManifestError : public InputError {
public:
    using InputError::InputError;
};

} // namespace ksx::manifest
