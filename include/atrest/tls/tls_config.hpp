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

#include <chrono>
#include <cstdint>
#include <ctime>
#include <exception>
#include <filesystem>
#include <optional>
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

namespace detail {

/// "2026-11-01 12:00:00 UTC".
[[nodiscard]] inline std::string utc_text(std::int64_t unix_seconds) {
    const auto t = static_cast<std::time_t>(unix_seconds);
    std::tm utc{};
    ::gmtime_r(&t, &utc);
    char out[32];
    std::strftime(out, sizeof out, "%Y-%m-%d %H:%M:%S UTC", &utc);
    return out;
}

}  // namespace detail

/// What every key-service client checks before it connects (AWS KMS and KMIP alike): each
/// configured file exists (`errc::config`), and a client certificate is readable and valid at this
/// moment (`errc::kms` naming its dates otherwise). Read at every connection, so a certificate
/// replaced on disk is seen without a restart. Returns the client certificate's validity, for the
/// expiry metrics, or nullopt when none is configured. `section` prefixes the keys in messages.
[[nodiscard]] inline std::optional<certificate_validity> check_tls_files(const tls_config& tls, const std::string& section) {
    auto exists = [&](const std::filesystem::path& p, std::string_view key) {
        if (!p.empty() && !detail::posix::exists(p)) {
            throw error(errc::config, section + "." + std::string(key) + " '" + p.string() + "' does not exist");
        }
    };
    exists(tls.ca_path, "ca-path");
    exists(tls.cert_path, "cert-path");
    exists(tls.key_path, "key-path");
    if (!tls.has_client_certificate()) return std::nullopt;
    const auto what = section + ".cert-path";
    const auto validity = read_certificate_validity(tls.cert_path, what);
    const auto now =
        std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
    if (now < validity.not_before) {
        throw error(errc::kms, what + " '" + tls.cert_path.string() + "' is not valid before " +
                                   detail::utc_text(validity.not_before) + "; the server would refuse it");
    }
    if (now > validity.not_after) {
        throw error(errc::kms, what + " '" + tls.cert_path.string() + "' expired at " +
                                   detail::utc_text(validity.not_after) +
                                   "; replace it (it is read again for every new connection, no restart needed)");
    }
    return validity;
}

/// The TLS settings in words, appended to every TLS failure so the message says what was tried.
[[nodiscard]] inline std::string describe_tls(const tls_config& tls, const std::string& section) {
    return "; TLS settings: " +
           (tls.ca_path.empty() ? std::string("server verified against the system CAs")
                                : "server verified against " + section + ".ca-path '" + tls.ca_path.string() + "'") +
           ", " +
           (tls.has_client_certificate() ? "client certificate " + section + ".cert-path '" + tls.cert_path.string() + "'"
                                         : std::string("no client certificate")) +
           ", minimum " + std::string(to_string(tls.min_version));
}

}  // namespace atrest
