// A download or request that failed on the network or with an HTTP error status.
#pragma once

#include "util/error.hpp"

#include <string>

namespace ksx::fetch {

class TransferError : public Error {
public:
    // `http_status`: the last response's status, 0 when none came; `unreachable`: the server
    // could not be reached at all (name resolution, connection, connect timeout); `tls`: the
    // TLS handshake failed.
    TransferError(const std::string& what, long http_status, bool unreachable, bool tls = false)
        : Error(what), http_status_(http_status), unreachable_(unreachable), tls_(tls) {}
    long http_status() const { return http_status_; }
    bool unreachable() const { return unreachable_; }
    bool tls_failure() const { return tls_; }

private:
    long http_status_;
    bool unreachable_;
    bool tls_;
};

} // namespace ksx::fetch
