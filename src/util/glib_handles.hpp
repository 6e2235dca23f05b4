// Owned GLib objects and GError reports turned into exceptions, for the stages that link GLib
// (through libostree). Header-only: util itself does not link GLib.
#pragma once

#include "util/error.hpp"
#include "util/unique_handle.hpp"

#include <glib-object.h>
#include <glib.h>
#include <string>

namespace ksx {

using GErrorPtr = UniqueHandle<GError, g_error_free>;
// A GObject (GFile, OstreeRepo...) released with g_object_unref.
template <typename T> using GObjectPtr = UniqueHandle<T, g_object_unref>;
using GVariantPtr = UniqueHandle<GVariant, g_variant_unref>;
using GCharPtr = UniqueHandle<char, g_free>;

// Owns the GError a call reported and turns it into an Error with context.
class GlibFailure {
public:
    GlibFailure() = default;
    GlibFailure(const GlibFailure&) = delete;
    GlibFailure& operator=(const GlibFailure&) = delete;
    ~GlibFailure() {
        if (raw_ != nullptr) {
            g_error_free(raw_);
        }
    }

    GError** out() { return &raw_; }
    const GError* get() const { return raw_; }
    std::string message() const { return raw_ != nullptr ? raw_->message : "unknown error"; }
    [[noreturn]] void raise(const std::string& what) { throw Error(what + ": " + message()); }
    [[noreturn]] void raise_input(const std::string& what) {
        throw InputError(what + ": " + message());
    }

private:
    GError* raw_ = nullptr;
};

} // namespace ksx
