// unique_ptr aliases for C handles whose release function is a plain call.
#pragma once

#include <memory>

namespace ksx {

template <auto Release> struct CallRelease {
    template <typename T> void operator()(T* handle) const { Release(handle); }
};

// UniqueHandle<archive, archive_read_free> owns an `archive*`.
template <typename T, auto Release> using UniqueHandle = std::unique_ptr<T, CallRelease<Release>>;

} // namespace ksx
