#include "cli/inspect_signatures.hpp"

#include "sign/module_compression.hpp"
#include "sign/module_signature.hpp"
#include "sign/sidecar_info.hpp"
#include "sign/signer_identity.hpp"
#include "util/error.hpp"

#include <fmt/core.h>

namespace ksx::cli {

namespace {

constexpr std::string_view kModulesDir = "usr/lib/modules/";

// The subject of the certificate the signer names, or null.
nlohmann::json matching_certificate(const sign::SignerIdentity& signer,
                                    const std::vector<sign::Certificate>& certificates) {
    X509* certificate = sign::certificate_of(signer, certificates);
    if (certificate == nullptr) {
        return nullptr;
    }
    return sign::certificate_subject(certificate);
}

// A root hash signature's signer.
nlohmann::json signer_json(const sign::SignerIdentity& signer,
                           const std::vector<sign::Certificate>& certificates) {
    return {{"signer", signer.common_name},
            {"issuer", signer.issuer},
            {"serial", signer.serial},
            {"hash", signer.hash},
            {"certificate", matching_certificate(signer, certificates)}};
}

std::string text(const nlohmann::json& value) {
    return value.is_string() ? value.get<std::string>() : std::string();
}

} // namespace

nlohmann::json inspect_verity(const std::string& image, const pack::ImageSource& source,
                              const std::vector<sign::Certificate>& certificates) {
    if (const auto& ddi = source.ddi()) {
        nlohmann::json out{
            {"format", "ddi"}, {"verity", "usr-verity partition"}, {"root_hash", ddi->root_hash}};
        try {
            out["signature"] = signer_json(sign::signer_identity(ddi->signature_der), certificates);
            out["signature"]["file"] = "usr-verity-sig partition";
        } catch (const InputError& e) {
            out["signature"] = {{"file", "usr-verity-sig partition"}, {"problem", e.what()}};
        }
        return out;
    }
    auto sidecars = sign::read_sidecars(image);
    if (!sidecars) {
        return nullptr;
    }
    nlohmann::json out{{"format", "squashfs"},
                       {"verity", sidecars->has_verity
                                      ? nlohmann::json(sidecars->paths.verity.string())
                                      : nlohmann::json(nullptr)},
                       {"root_hash", sidecars->root_hash ? nlohmann::json(*sidecars->root_hash)
                                                         : nlohmann::json(nullptr)},
                       {"signature", nullptr}};
    if (const auto& signer = sidecars->signer) {
        out["signature"] = signer_json(*signer, certificates);
        out["signature"]["file"] = sidecars->paths.signature.string();
    } else if (!sidecars->signature_problem.empty()) {
        out["signature"] = {{"file", sidecars->paths.signature.string()},
                            {"problem", sidecars->signature_problem}};
    }
    return out;
}

nlohmann::json inspect_module_signatures(const pack::ImageSource& source,
                                         const std::vector<sign::Certificate>& certificates) {
    nlohmann::json modules = nlohmann::json::array();
    for (const auto& entry : source.info().entries) {
        if (entry.type != 'f' || !entry.path.starts_with(kModulesDir) ||
            !sign::has_module_suffix(entry.path)) {
            continue;
        }
        nlohmann::json module{{"path", "/" + entry.path}, {"signed", false}};
        try {
            auto bytes = sign::decompress_module(entry.path, source.read(entry.path));
            if (auto signer = sign::module_signer(bytes)) {
                module["signed"] = true;
                module["signer"] = signer->common_name;
                module["sig_key"] = signer->serial;
                module["sig_hashalgo"] = signer->hash;
                module["issuer"] = signer->issuer;
                module["certificate"] = matching_certificate(*signer, certificates);
            }
        } catch (const InputError& e) {
            module["problem"] = e.what();
        }
        modules.push_back(module);
    }
    return modules;
}

void print_signatures(const nlohmann::json& verity, const nlohmann::json& modules) {
    if (verity.is_null()) {
        fmt::print("\nverity: no .verity, .roothash or .roothash.p7s next to the image\n");
    } else {
        fmt::print("\nverity ({}):\n  hash tree: {}\n  root hash: {}\n", text(verity["format"]),
                   verity["verity"].is_null() ? "missing" : text(verity["verity"]),
                   verity["root_hash"].is_null() ? "missing" : text(verity["root_hash"]));
        const auto& signature = verity["signature"];
        if (signature.is_null()) {
            fmt::print("  signature: missing\n");
        } else if (signature.contains("problem")) {
            fmt::print("  signature: unreadable: {}\n", text(signature["problem"]));
        } else {
            fmt::print("  signature: signer {}, issuer {}, serial {}, {}\n",
                       text(signature["signer"]), text(signature["issuer"]),
                       text(signature["serial"]), text(signature["hash"]));
            if (!signature["certificate"].is_null()) {
                fmt::print("  certificate: {}\n", text(signature["certificate"]));
            }
        }
    }
    fmt::print("\nmodule signatures:\n");
    for (const auto& module : modules) {
        if (module.contains("problem")) {
            fmt::print("  {}: unreadable: {}\n", text(module["path"]), text(module["problem"]));
        } else if (!module["signed"].get<bool>()) {
            fmt::print("  {}: unsigned\n", text(module["path"]));
        } else {
            fmt::print(
                "  {}: signer {}, sig_key {}, sig_hashalgo {}{}\n", text(module["path"]),
                text(module["signer"]), text(module["sig_key"]), text(module["sig_hashalgo"]),
                module["certificate"].is_null() ? ""
                                                : ", certificate " + text(module["certificate"]));
        }
    }
}

} // namespace ksx::cli
