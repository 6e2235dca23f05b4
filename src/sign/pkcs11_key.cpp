// The ENGINE API is deprecated in OpenSSL 3 but is how Debian 12 reaches PKCS#11 tokens
// (there is no pkcs11 provider package for it); sign-file uses the same engine.
#define OPENSSL_SUPPRESS_DEPRECATED

#include "sign/pkcs11_key.hpp"

#include "util/error.hpp"

#include <cstdlib>
#include <memory>
#include <mutex>
#include <openssl/engine.h>
#include <openssl/err.h>

namespace ksx::sign {

namespace {

// The initialised engine, shared by the keys loaded from it (they call back into it). It is
// finished when the last holder lets go, not by a static destructor: PKCS#11 modules such as
// SoftHSM tear down their own state at exit first and crash if a session is closed after.
class Pkcs11Engine {
public:
    Pkcs11Engine() {
        ENGINE_load_builtin_engines();
        engine_ = ENGINE_by_id("pkcs11");
        if (engine_ == nullptr) {
            throw InputError(openssl_message(
                "the OpenSSL pkcs11 engine is not installed (Debian: libengine-pkcs11-openssl)"));
        }
        // The engine prints to stderr by default, URIs (and so PINs) included; errors reach
        // us through OpenSSL's error queue instead.
        ENGINE_ctrl_cmd(engine_, "QUIET", 0, nullptr, nullptr, 1);
        if (const char* module = std::getenv("KSX_PKCS11_MODULE"); module && *module) {
            if (ENGINE_ctrl_cmd_string(engine_, "MODULE_PATH", module, 0) != 1) {
                ENGINE_free(engine_);
                throw InputError(openssl_message(std::string("KSX_PKCS11_MODULE=") + module +
                                                 ": not usable as a PKCS#11 module"));
            }
        }
        if (ENGINE_init(engine_) != 1) {
            ENGINE_free(engine_);
            throw InputError(openssl_message("the OpenSSL pkcs11 engine failed to start"));
        }
    }
    ~Pkcs11Engine() {
        ENGINE_finish(engine_);
        ENGINE_free(engine_);
    }
    Pkcs11Engine(const Pkcs11Engine&) = delete;
    Pkcs11Engine& operator=(const Pkcs11Engine&) = delete;

    ENGINE* get() const { return engine_; }

private:
    ENGINE* engine_ = nullptr;
};

std::shared_ptr<Pkcs11Engine> shared_engine() {
    static std::weak_ptr<Pkcs11Engine> current;
    auto engine = current.lock();
    if (!engine) {
        engine = std::make_shared<Pkcs11Engine>();
        current = engine;
    }
    return engine;
}

const char* pin_from_environment() {
    for (const char* name : {"KSX_PKCS11_PIN", "KBUILD_SIGN_PIN"}) {
        if (const char* pin = std::getenv(name); pin && *pin) {
            return pin;
        }
    }
    return nullptr;
}

} // namespace

bool is_pkcs11_uri(std::string_view reference) {
    return reference.starts_with("pkcs11:");
}

std::string redacted_pkcs11_uri(std::string_view uri) {
    std::string out;
    std::size_t at = 0;
    while (at <= uri.size()) {
        auto end = uri.find_first_of(";?&", at);
        auto part =
            uri.substr(at, end == std::string_view::npos ? std::string_view::npos : end - at);
        out += part.starts_with("pin-value=") ? "pin-value=(hidden)" : std::string(part);
        if (end == std::string_view::npos) {
            break;
        }
        out += uri[end];
        at = end + 1;
    }
    return out;
}

TokenKey load_pkcs11_private_key(std::string_view uri) {
    static std::mutex lock; // one engine, one login at a time
    std::scoped_lock guard(lock);
    auto shown = redacted_pkcs11_uri(uri);
    auto engine = shared_engine();
    if (const char* pin = pin_from_environment();
        pin && uri.find("pin-value=") == std::string_view::npos &&
        ENGINE_ctrl_cmd_string(engine->get(), "PIN", pin, 0) != 1) {
        throw InputError(openssl_message("signing key " + shown + ": the engine refused the PIN"));
    }
    std::string id(uri);
    Pkey key(ENGINE_load_private_key(engine->get(), id.c_str(), nullptr, nullptr));
    if (!key) {
        throw InputError(openssl_message(
            "signing key " + shown +
            ": cannot load the private key from the PKCS#11 token (check the URI, the token and "
            "the PIN: pin-value in the URI, or KSX_PKCS11_PIN)"));
    }
    return {std::move(engine), std::move(key)};
}

} // namespace ksx::sign
