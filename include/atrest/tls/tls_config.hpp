#pragma once
/// The TLS settings of a key-service client (AWS KMS today, KMIP next), as a TiDB cluster spells
/// its own: `ca-path`, `cert-path`, `key-path` and `tls-version`. One struct and one set of rules
/// for every client, so both key services verify servers, present client certificates and rotate
/// them the same way. Transport-free: the KMS client applies it to libcurl, a KMIP client to its
/// own TLS stack. The certificate's validity is read here (Botan's X.509 parser) for the expiry
/// metrics and for a clear message when a client certificate is not (or no longer) valid.

#include <atrest/config/duration.hpp>
#include <atrest/detail/posix.hpp>
#include <atrest/error.hpp>

#include <botan/data_src.h>
#include <botan/x509cert.h>

#include <cstdint>
#include <exception>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace atrest {

/// The lowest TLS protocol version a client accepts. Versions before 1.2 are not offered at all.
enum class tls_version : std::uint8_t { tls1_2 = 2, tls1_3 = 3 };

[[nodiscard]] constexpr std::string_view to_string(tls_version v) noexcept {
    return v == tls_version::tls1_3 ? "TLSv1.3" : "TLSv1.2";
}

/// What `tls-version` accepts, for messages.
inline constexpr std::string_view accepted_tls_versions = "\"TLSv1.2\" (the default) or \"TLSv1.3\"";

struct tls_config final {
    /// `ca-path`: PEM file of the CAs that may sign the server's certificate; empty = the
    /// system's CA store. The server's certificate and host name are always verified.
    std::filesystem::path ca_path;
    /// `cert-path` / `key-path`: the client certificate (PEM, may hold its chain) and its private
    /// key (PEM, unencrypted), presented when the server asks for one. Both or neither.
    std::filesystem::path cert_path;
    std::filesystem::path key_path;
    /// `tls-version`: the minimum protocol version.
    tls_version min_version = tls_version::tls1_2;

    [[nodiscard]] bool has_client_certificate() const noexcept { return !cert_path.empty(); }
    /// Whether anything differs from the defaults (system CAs, no client certificate, TLS 1.2).
    [[nodiscard]] bool is_default() const noexcept {
        return ca_path.empty() && cert_path.empty() && key_path.empty() && min_version == tls_version::tls1_2;
    }
    friend bool operator==(const tls_config&, const tls_config&) = default;
};

/// "TLSv1.2" or "TLSv1.3" (TiDB's spelling); anything else is `errc::config` naming `key`.
[[nodiscard]] inline tls_version parse_tls_version(std::string_view text, std::string_view key) {
    if (text == "TLSv1.2") return tls_version::tls1_2;
    if (text == "TLSv1.3") return tls_version::tls1_3;
    const bool old = text == "TLSv1.0" || text == "TLSv1.1";
    throw error(errc::config, std::string(key) + " = " + detail::quoted(text) + ": " +
                                  (old ? "TLS versions before 1.2 are not offered; " : "") + "accepted: " +
                                  std::string(accepted_tls_versions));
}

/// Checks the combination (both or neither of cert-path and key-path); `section` prefixes the keys.
inline void validate(const tls_config& tls, std::string_view section) {
    const std::string s(section);
    if (tls.cert_path.empty() != tls.key_path.empty()) {
        throw error(errc::config, s + (tls.cert_path.empty() ? ".key-path is set without " + s + ".cert-path"
                                                             : ".cert-path is set without " + s + ".key-path") +
                                      "; a client certificate needs both");
    }
}

/// A certificate's validity period, in seconds since the Unix epoch.
struct certificate_validity final {
    std::int64_t not_before = 0;
    std::int64_t not_after = 0;
};

/// The validity of the first certificate in the PEM (or DER) file at `path`, read now — so a
/// certificate replaced on disk is seen at the next call. `what` names the file in messages
/// ("security.encryption.master-key.cert-path"). Missing or unparsable: `errc::config`.
[[nodiscard]] inline certificate_validity read_certificate_validity(const std::filesystem::path& path, std::string_view what) {
    const auto bytes = detail::posix::read_file_if_exists(path, what);
    if (!bytes) throw error(errc::config, std::string(what) + " '" + path.string() + "' does not exist");
    try {
        Botan::DataSource_Memory source(reinterpret_cast<const std::uint8_t*>(bytes->data()), bytes->size());
        const Botan::X509_Certificate certificate(source);
        return {static_cast<std::int64_t>(certificate.not_before().time_since_epoch()),
                static_cast<std::int64_t>(certificate.not_after().time_since_epoch())};
    } catch (const std::exception& e) {
        throw error(errc::config, std::string(what) + " '" + path.string() +
                                      "' holds no readable X.509 certificate (PEM or DER): " + e.what());
    }
}

}  // namespace atrest
