#pragma once
/// TiKV's `[security.encryption]` configuration as a plain struct, read from the dotted keys TiUP
/// writes (`security.encryption.master-key.type`…) and checked in one place, so a typo or a
/// dangerous combination stops the engine at start-up with a message naming the key, the value and
/// what is accepted — instead of silently running unencrypted. No dependency beyond the core; the
/// TOML reader (`toml_config.hpp`, target `atrest::config`) feeds the same checks.

#include <atrest/cipher/methods.hpp>
#include <atrest/config/duration.hpp>
#include <atrest/dict/options.hpp>
#include <atrest/error.hpp>
#include <atrest/tls/tls_config.hpp>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace atrest {

/// `[security.encryption.master-key]` / `[security.encryption.previous-master-key]`.
struct master_key_config {
    /// TiKV's `type`; `plaintext` (TiKV's default) leaves data keys readable on disk.
    enum class kind : std::uint8_t { file, kms, plaintext, kmip };
    /// KMIP's `mode`: the key wraps on the server (Encrypt/Decrypt, the default) or is fetched (Get).
    enum class kmip_mode : std::uint8_t { wrap, get };
    kind type = kind::plaintext;
    std::filesystem::path path;  ///< `path`: the 64-hex-digit key file (type "file").
    std::string key_id;          ///< `key-id`: the KMS key: key id, key ARN, alias name or alias ARN (type "kms");
                                 ///< the KMIP server's Unique Identifier of the key (type "kmip").
    std::string region;          ///< `region`: the KMS region (type "kms").
    std::string endpoint;        ///< `endpoint`: optional KMS endpoint URL (type "kms"); host[:port] (type "kmip").
    std::string vendor{};        ///< `vendor`: "aws" or empty, which means AWS (type "kms").
    /// `[<section>.aws] access-key` / `secret-access-key`: static credentials (type "kms"); when
    /// absent, the environment and then the shared credentials file are asked (docs/kms.md).
    /// The secret is never part of a message.
    std::string access_key{};
    std::string secret_access_key{};
    /// `ca-path`, `cert-path`, `key-path`, `tls-version`: how the key service is reached (types "kms", "kmip").
    tls_config tls{};
    /// `timeout`: how long one key-service operation may take, retries included (types "kms", "kmip").
    std::chrono::milliseconds timeout = default_key_service_timeout;
    /// `key-name`: the KMIP key's Name, located at start (type "kmip", instead of `key-id`).
    std::string key_name{};
    /// `mode`: "wrap" (default: Encrypt/Decrypt on the server) or "get" (type "kmip").
    kmip_mode mode = kmip_mode::wrap;

    /// TiKV's own KMS timeout: 10 s.
    static constexpr std::chrono::milliseconds default_key_service_timeout{10'000};

    friend bool operator==(const master_key_config&, const master_key_config&) = default;
};

[[nodiscard]] constexpr std::string_view to_string(master_key_config::kind k) noexcept {
    switch (k) {
        case master_key_config::kind::file: return "file";
        case master_key_config::kind::kms: return "kms";
        case master_key_config::kind::kmip: return "kmip";
        case master_key_config::kind::plaintext: break;
    }
    return "plaintext";
}

/// `[security.encryption]` as a whole: the key manager's settings (`key_manager_options`, where
/// each setting and its TiKV default is defined once) plus the master-key sections. The code-only
/// fields of `key_manager_options` (`allow_insecure_master_key`, `read_only`,
/// `create_if_missing`) are never read from a config file.
struct encryption_config : key_manager_options {
    /// Absent means TiKV's default, a plaintext master key.
    std::optional<master_key_config> master_key;
    /// Tried only when `master_key` cannot open the key dictionary (master-key rotation).
    std::optional<master_key_config> previous_master_key;

    /// The master key in effect: the configured one, or TiKV's default (plaintext).
    [[nodiscard]] master_key_config effective_master_key() const { return master_key.value_or(master_key_config{}); }

    friend bool operator==(const encryption_config&, const encryption_config&) = default;
};

/// Whether a config may turn encryption on under a plaintext master key; an enum, not a bool, so
/// call sites read `insecure_master_key::allow`.
enum class insecure_master_key : bool { refuse = false, allow = true };

/// Every key a config may set, spelled as TiUP writes it; anything else is a typo.
inline constexpr std::array<std::string_view, 35> config_keys = {
    "security.encryption.data-encryption-method",
    "security.encryption.authenticated-files",
    "security.encryption.data-key-rotation-period",
    "security.encryption.enable-file-dictionary-log",
    "security.encryption.file-dictionary-rewrite-threshold",
    "security.encryption.master-key.type",
    "security.encryption.master-key.path",
    "security.encryption.master-key.key-id",
    "security.encryption.master-key.key-name",
    "security.encryption.master-key.mode",
    "security.encryption.master-key.region",
    "security.encryption.master-key.endpoint",
    "security.encryption.master-key.vendor",
    "security.encryption.master-key.ca-path",
    "security.encryption.master-key.cert-path",
    "security.encryption.master-key.key-path",
    "security.encryption.master-key.tls-version",
    "security.encryption.master-key.timeout",
    "security.encryption.master-key.aws.access-key",
    "security.encryption.master-key.aws.secret-access-key",
    "security.encryption.previous-master-key.type",
    "security.encryption.previous-master-key.path",
    "security.encryption.previous-master-key.key-id",
    "security.encryption.previous-master-key.key-name",
    "security.encryption.previous-master-key.mode",
    "security.encryption.previous-master-key.region",
    "security.encryption.previous-master-key.endpoint",
    "security.encryption.previous-master-key.vendor",
    "security.encryption.previous-master-key.ca-path",
    "security.encryption.previous-master-key.cert-path",
    "security.encryption.previous-master-key.key-path",
    "security.encryption.previous-master-key.tls-version",
    "security.encryption.previous-master-key.timeout",
    "security.encryption.previous-master-key.aws.access-key",
    "security.encryption.previous-master-key.aws.secret-access-key",
};

inline constexpr std::string_view config_prefix = "security.encryption.";
/// The longest `data-key-rotation-period`, 2^53 microseconds (285 years): the longest that TiKV's
/// duration arithmetic (in doubles) reads back exactly, so `to_flat_map` output always reads back.
inline constexpr std::chrono::seconds max_rotation_period =
    std::chrono::floor<std::chrono::seconds>(std::chrono::microseconds(std::int64_t{1} << 53));
inline constexpr std::string_view master_key_section = "security.encryption.master-key";
inline constexpr std::string_view previous_master_key_section = "security.encryption.previous-master-key";
/// The longest `timeout` of a key-service operation: an hour (a start that waits longer is stuck).
inline constexpr std::chrono::milliseconds max_key_service_timeout{3'600'000};

namespace detail {

/// Edit distance (Levenshtein), for "did you mean" on unknown keys: the distance when it is below
/// `limit`, else `limit`. Stops at the first row whose every entry reaches `limit` (entries never
/// fall from one row to the next), so a long unrelated key costs a few rows, not all of them.
[[nodiscard]] inline std::size_t edit_distance(std::string_view a, std::string_view b,
                                               std::size_t limit = std::size_t(-1)) {
    std::array<std::size_t, 128> row_a{}, row_b{};  // two rows; config keys are far shorter
    if (b.size() + 1 > row_a.size()) return std::min(std::max(a.size(), b.size()), limit);
    std::size_t* prev = row_a.data();
    std::size_t* cur = row_b.data();
    for (std::size_t j = 0; j <= b.size(); ++j) prev[j] = j;
    for (std::size_t i = 1; i <= a.size(); ++i) {
        cur[0] = i;
        std::size_t row_min = cur[0];
        for (std::size_t j = 1; j <= b.size(); ++j) {
            const std::size_t substitute = prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
            cur[j] = std::min(std::min(prev[j], cur[j - 1]) + 1, substitute);
            row_min = std::min(row_min, cur[j]);
        }
        if (row_min >= limit) return limit;
        std::swap(prev, cur);  // the rows trade places; nothing is copied
    }
    return std::min(prev[b.size()], limit);
}

/// The valid key or section closest to `key` when it is plausibly a typo of it, else empty.
[[nodiscard]] inline std::string_view closest_config_key(std::string_view key) {
    std::string_view best;
    std::size_t best_distance = 4;  // more edits than this is not a typo
    auto consider = [&](std::string_view candidate) {
        // A truncated key ("…data-key-rotation") counts as one edit; anything else by edit distance.
        const bool truncated = key.size() > config_prefix.size() && candidate.starts_with(key);
        // The length difference is a lower bound: a long key costs nothing (found by fuzzing).
        const std::size_t gap = key.size() > candidate.size() ? key.size() - candidate.size() : candidate.size() - key.size();
        if (!truncated && gap >= best_distance) return;
        const std::size_t d = truncated ? 1 : edit_distance(key, candidate, best_distance);
        if (d < best_distance) {
            best_distance = d;
            best = candidate;
        }
    };
    for (std::string_view candidate : config_keys) consider(candidate);
    consider(master_key_section);
    consider(previous_master_key_section);
    consider("security.encryption.master-key.aws");
    consider("security.encryption.previous-master-key.aws");
    return best;
}

[[nodiscard]] inline error config_error(std::string_view key, std::string_view value, std::string_view problem) {
    return error(errc::config, std::string(key) + " = " + quoted(value) + ": " + std::string(problem));
}

[[nodiscard]] inline std::string accepted_keys_text() {
    return "accepted keys: security.encryption.{data-encryption-method, authenticated-files, data-key-rotation-period, "
           "enable-file-dictionary-log, file-dictionary-rewrite-threshold} and "
           "security.encryption.{master-key, previous-master-key}.{type, path, key-id, key-name, mode, region, "
           "endpoint, vendor, ca-path, cert-path, key-path, tls-version, timeout, aws.access-key, aws.secret-access-key}";
}

[[nodiscard]] inline error unknown_key_error(std::string_view key) {
    std::string text = "unknown configuration key " + quoted(key);
    if (auto near = closest_config_key(key); !near.empty()) {
        text += "; did you mean " + quoted(near) + "?";
    } else {
        text += ";";
    }
    return error(errc::config, text + " " + accepted_keys_text());
}

/// Whether `host` (as written in a URL, IPv6 in brackets) is a loopback address: 127.0.0.0/8, ::1
/// or "localhost". Plain http:// is accepted only there (tests, a local proxy).
[[nodiscard]] inline bool is_loopback_host(std::string_view host) {
    if (host == "localhost" || host == "[::1]") return true;
    if (!host.starts_with("127.")) return false;
    int dots = 0;
    int digits = 0;
    for (char c : host) {
        if (c == '.') {
            if (digits == 0) return false;
            ++dots, digits = 0;
        } else if (c >= '0' && c <= '9' && digits < 3) {
            ++digits;
        } else {
            return false;
        }
    }
    return dots == 3 && digits > 0;
}

/// An endpoint URL split into what the KMS client needs: `https://host[:port][/]` or, on a
/// loopback host only, `http://`. Anything else (a path, a query, user info, a bad port) is
/// `errc::config` naming `key`.
struct endpoint_url final {
    bool https = true;
    std::string host;  ///< as written: a name, an IPv4 address or a bracketed IPv6 address
    std::uint16_t port = 443;
    bool port_given = false;
};

[[nodiscard]] inline endpoint_url parse_endpoint_url(std::string_view url, std::string_view key) {
    endpoint_url out;
    std::string_view rest = url;
    if (rest.starts_with("https://")) {
        rest.remove_prefix(8);
    } else if (rest.starts_with("http://")) {
        rest.remove_prefix(7);
        out.https = false;
        out.port = 80;
    } else {
        throw config_error(key, url, "accepted: an https:// URL (http:// only on a loopback address), or no endpoint");
    }
    if (rest.ends_with("/")) rest.remove_suffix(1);
    if (rest.find_first_of("/?#@ ") != std::string_view::npos) {
        throw config_error(key, url, "accepted: scheme, host and port only (https://host[:port]); no path, query or user");
    }
    std::string_view host = rest;
    std::string_view port;
    bool has_port = false;
    if (rest.starts_with("[")) {
        const auto close = rest.find(']');
        if (close == std::string_view::npos) throw config_error(key, url, "an IPv6 address needs its closing ']'");
        host = rest.substr(0, close + 1);
        const auto after = rest.substr(close + 1);
        if (!after.empty() && !after.starts_with(":")) throw config_error(key, url, "unexpected text after the IPv6 address");
        has_port = !after.empty();
        if (has_port) port = after.substr(1);
    } else if (const auto colon = rest.rfind(':'); colon != std::string_view::npos) {
        host = rest.substr(0, colon);
        port = rest.substr(colon + 1);
        has_port = true;
    }
    if (host.empty() || host == "[]") throw config_error(key, url, "the URL names no host");
    for (std::size_t i = 0; i < host.size(); ++i) {
        const char c = host[i];
        const bool bracketed = host.front() == '[';
        const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
                        c == '-' || c == '_' || (bracketed && (c == ':' || (c == '[' && i == 0) || (c == ']' && i + 1 == host.size())));
        if (!ok) throw config_error(key, url, "the host holds a character a host name cannot have");
    }
    if (has_port) {
        unsigned value = 0;
        const bool digits = !port.empty() && port.size() <= 5 &&
                            port.find_first_not_of("0123456789") == std::string_view::npos;
        if (digits) {
            for (char c : port) value = value * 10 + static_cast<unsigned>(c - '0');
        }
        if (!digits || value == 0 || value > 65535) throw config_error(key, url, "accepted: a port from 1 to 65535");
        out.port = static_cast<std::uint16_t>(value);
        out.port_given = true;
    }
    out.host = std::string(host);
    if (!out.https && !is_loopback_host(out.host)) {
        throw config_error(key, url, "plain http:// is accepted only for a loopback address (127.0.0.0/8, [::1], "
                                     "localhost); a key service elsewhere must be reached with https://");
    }
    return out;
}

/// The default KMIP port (IANA's "kmip" registration).
inline constexpr std::uint16_t default_kmip_port = 5696;

/// A KMIP `endpoint`: `host` or `host:port` (a name, an IPv4 address or a bracketed IPv6
/// address); no scheme, since KMIP is always TLS. The port defaults to 5696.
[[nodiscard]] inline endpoint_url parse_kmip_endpoint(std::string_view text, std::string_view key) {
    const std::string_view accepted = "accepted: host or host:port (port 1 to 65535, default 5696), no scheme or path";
    if (text.find("://") != std::string_view::npos || text.ends_with("/")) throw config_error(key, text, accepted);
    endpoint_url out;
    try {
        out = parse_endpoint_url("https://" + std::string(text), key);
    } catch (const error&) {
        throw config_error(key, text, accepted);
    }
    if (!out.port_given) out.port = default_kmip_port;
    return out;
}

inline void validate_master_key(const master_key_config& mk, std::string_view section) {
    const std::string s(section);
    using k = master_key_config::kind;
    const std::string type = quoted(to_string(mk.type));
    auto unused = [&](std::string_view field, bool set) {
        if (set) {
            const bool kmip_only = field == "key-name" || field == "mode";
            const bool both = field == "key-id" || field == "endpoint" || field == "ca-path" || field == "cert-path" ||
                              field == "key-path" || field == "tls-version" || field == "timeout";
            throw error(errc::config, s + "." + std::string(field) + " is set but " + s + ".type = " + type +
                                          " does not use it; it applies to type = " +
                                          (field == "path"  ? "\"file\""
                                           : kmip_only      ? "\"kmip\""
                                           : both           ? "\"kms\" or \"kmip\""
                                                            : "\"kms\""));
        }
    };
    if (mk.type == k::file) {
        if (mk.path.empty()) {
            throw error(errc::config, s + ".path is required when " + s +
                                          ".type = \"file\"; accepted: the path of a file holding 64 hex digits "
                                          "and a newline");
        }
    } else {
        unused("path", !mk.path.empty());
    }
    if (mk.type == k::kms) {
        if (mk.key_id.empty()) throw error(errc::config, s + ".key-id is required when " + s + ".type = \"kms\"");
        if (mk.region.empty()) throw error(errc::config, s + ".region is required when " + s + ".type = \"kms\"");
        for (char c : mk.region) {
            if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) {
                throw config_error(s + ".region", mk.region, "accepted: an AWS region name such as \"us-west-2\"");
            }
        }
        if (!mk.endpoint.empty()) (void)parse_endpoint_url(mk.endpoint, s + ".endpoint");
        if (!mk.vendor.empty() && mk.vendor != "aws") {
            throw config_error(s + ".vendor", mk.vendor, "accepted: \"aws\" or empty (AWS KMS and services that speak "
                                                         "its protocol); GCP and Azure key services are not supported");
        }
        if (mk.access_key.empty() != mk.secret_access_key.empty()) {
            throw error(errc::config, s + ".aws." + (mk.access_key.empty() ? "secret-access-key" : "access-key") +
                                          " is set without " + s + ".aws." +
                                          (mk.access_key.empty() ? "access-key" : "secret-access-key") +
                                          "; static credentials need both");
        }
        validate(mk.tls, section);
        if (mk.timeout.count() <= 0 || mk.timeout > max_key_service_timeout) {
            throw config_error(s + ".timeout", std::to_string(mk.timeout.count()) + "ms",
                               "accepted: a positive duration of at most 1h (default 10s)");
        }
    } else if (mk.type == k::kmip) {
        if (mk.key_id.empty() == mk.key_name.empty()) {
            throw error(errc::config, s + (mk.key_id.empty() ? ".key-id or " + s + ".key-name is required when "
                                                             : ".key-id and " + s + ".key-name are both set; set one, when ") +
                                          s + ".type = \"kmip\" (key-id: the server's Unique Identifier of the key; "
                                          "key-name: its Name, located at start)");
        }
        if (mk.endpoint.empty()) {
            throw error(errc::config, s + ".endpoint is required when " + s + ".type = \"kmip\"; accepted: host or "
                                          "host:port (default port 5696)");
        }
        (void)parse_kmip_endpoint(mk.endpoint, s + ".endpoint");
        unused("region", !mk.region.empty());
        unused("vendor", !mk.vendor.empty());
        unused("aws.access-key", !mk.access_key.empty());
        unused("aws.secret-access-key", !mk.secret_access_key.empty());
        validate(mk.tls, section);
        if (mk.timeout.count() <= 0 || mk.timeout > max_key_service_timeout) {
            throw config_error(s + ".timeout", std::to_string(mk.timeout.count()) + "ms",
                               "accepted: a positive duration of at most 1h (default 10s)");
        }
    } else {
        unused("key-id", !mk.key_id.empty());
        unused("region", !mk.region.empty());
        unused("endpoint", !mk.endpoint.empty());
        unused("vendor", !mk.vendor.empty());
        unused("aws.access-key", !mk.access_key.empty());
        unused("aws.secret-access-key", !mk.secret_access_key.empty());
        unused("ca-path", !mk.tls.ca_path.empty());
        unused("cert-path", !mk.tls.cert_path.empty());
        unused("key-path", !mk.tls.key_path.empty());
        unused("tls-version", mk.tls.min_version != tls_version::tls1_2);
        unused("timeout", mk.timeout != master_key_config::default_key_service_timeout);
    }
    if (mk.type != k::kmip) {
        unused("key-name", !mk.key_name.empty());
        unused("mode", mk.mode != master_key_config::kmip_mode::wrap);
    }
}

}  // namespace detail

/// Throws `errc::config` naming the key for anything TiKV would reject or that cannot be what was
/// meant, and `errc::insecure` for encryption under a plaintext master key unless allowed.
inline void validate(const encryption_config& config) {
    const std::string p(config_prefix);
    const method m = config.data_encryption_method;
    if (std::find(all_methods.begin(), all_methods.end(), m) == all_methods.end()) {
        throw error(errc::config, p + "data-encryption-method holds method number " +
                                      std::to_string(static_cast<unsigned>(m)) + "; accepted: " +
                                      accepted_method_names());
    }
    if (config.data_key_rotation_period.count() <= 0 || config.data_key_rotation_period > max_rotation_period) {
        throw detail::config_error(p + "data-key-rotation-period",
                                   std::to_string(config.data_key_rotation_period.count()) + "s",
                                   "the period must be positive and at most " +
                                       std::to_string(max_rotation_period.count()) +
                                       "s; accepted: " + std::string(accepted_durations));
    }
    if (config.file_dictionary_rewrite_threshold == 0) {
        throw detail::config_error(p + "file-dictionary-rewrite-threshold", "0",
                                   "accepted: a whole number of removed entries, at least 1 (default 1000000)");
    }
    if (config.master_key) detail::validate_master_key(*config.master_key, master_key_section);
    if (config.previous_master_key) detail::validate_master_key(*config.previous_master_key, previous_master_key_section);
    if (m != method::plaintext && config.effective_master_key().type == master_key_config::kind::plaintext &&
        !config.allow_insecure_master_key) {
        throw error(errc::insecure,
                    std::string(master_key_section) + ".type = \"plaintext\"" +
                        (config.master_key ? "" : " (the default: no master-key section)") +
                        " with " + p + "data-encryption-method = " + detail::quoted(to_string(m)) +
                        " would store the data keys unencrypted; accepted: type = \"file\", \"kms\" or \"kmip\"");
    }
}

namespace detail {

/// How a key's value must be typed in a typed source (TOML); flat maps carry text for all.
enum class value_kind : std::uint8_t { text, boolean, integer };

/// Builds a config from (dotted key, text value) pairs, one at a time, so the flat-map and the
/// TOML readers share every check and message.
class config_builder final {
public:
    /// The expected type of `key`'s value; an unknown key is `errc::config` with a suggestion.
    [[nodiscard]] static value_kind kind_of(std::string_view key) {
        const std::string_view leaf = leaf_of(key);
        if (leaf == "enable-file-dictionary-log") return value_kind::boolean;
        if (leaf == "file-dictionary-rewrite-threshold") return value_kind::integer;
        return value_kind::text;
    }

    /// Records that a master-key section exists even if it sets nothing (then `type` is missing).
    void open_section(std::string_view section) { (void)section_for(std::string(section) + ".type"); }

    void set(std::string_view key, std::string_view value) {
        const std::string_view leaf = leaf_of(key);
        if (leaf == "data-encryption-method") {
            for (method m : all_methods) {
                if (to_string(m) == value) {
                    m_config.data_encryption_method = m;
                    return;
                }
            }
            throw config_error(key, value, "unknown encryption method; accepted: " + accepted_method_names());
        }
        if (leaf == "authenticated-files") {
            if (value == "none") {
                m_config.authenticated_files = authenticated_files::none;
            } else if (value == "logs") {
                m_config.authenticated_files = authenticated_files::logs;
            } else if (value == "all") {
                m_config.authenticated_files = authenticated_files::all;
            } else {
                throw config_error(key, value, "accepted: \"none\", \"logs\" (WAL and MANIFEST), \"all\"");
            }
            return;
        }
        if (leaf == "data-key-rotation-period") {
            std::string why;
            const auto parsed = try_parse_duration(value, why);
            if (!parsed) throw config_error(key, value, why + "; accepted: " + std::string(accepted_durations));
            if (parsed->count() == 0) {
                throw config_error(key, value, "the period must be positive; accepted: " + std::string(accepted_durations));
            }
            // The key manager counts whole seconds (a key's creation time is one); TiKV accepts
            // "100ms" and then rotates at every check, so a fraction rounds up, never to zero.
            m_config.data_key_rotation_period = std::chrono::ceil<std::chrono::seconds>(*parsed);
            return;
        }
        if (leaf == "enable-file-dictionary-log") {
            if (value != "true" && value != "false") throw config_error(key, value, "accepted: true or false");
            m_config.enable_file_dictionary_log = value == "true";
            return;
        }
        if (leaf == "file-dictionary-rewrite-threshold") {
            m_config.file_dictionary_rewrite_threshold = parse_threshold(key, value);
            return;
        }
        section& sec = section_for(key);
        if (value.empty()) throw config_error(key, value, "must not be empty");
        if (leaf == "type") {
            if (value == "file") {
                sec.config.type = master_key_config::kind::file;
            } else if (value == "kms") {
                sec.config.type = master_key_config::kind::kms;
            } else if (value == "kmip") {
                sec.config.type = master_key_config::kind::kmip;
            } else if (value == "plaintext") {
                sec.config.type = master_key_config::kind::plaintext;
            } else {
                throw config_error(key, value, "unknown master key type; accepted: \"file\", \"kms\", \"kmip\", \"plaintext\"");
            }
            sec.type_set = true;
        } else if (leaf == "path") {
            sec.config.path = std::filesystem::path(std::string(value));
        } else if (leaf == "key-id") {
            sec.config.key_id = value;
        } else if (leaf == "key-name") {
            sec.config.key_name = value;
        } else if (leaf == "mode") {
            if (value == "wrap") {
                sec.config.mode = master_key_config::kmip_mode::wrap;
            } else if (value == "get") {
                sec.config.mode = master_key_config::kmip_mode::get;
            } else {
                throw config_error(key, value, "accepted: \"wrap\" (the key encrypts and decrypts on the KMIP server, "
                                               "the default) or \"get\" (the key is fetched and used here)");
            }
        } else if (leaf == "region") {
            sec.config.region = value;
        } else if (leaf == "endpoint") {
            sec.config.endpoint = value;
        } else if (leaf == "vendor") {
            sec.config.vendor = value;
        } else if (leaf == "access-key") {
            sec.config.access_key = value;
        } else if (leaf == "secret-access-key") {
            sec.config.secret_access_key = value;  // never quoted in a message
        } else if (leaf == "ca-path") {
            sec.config.tls.ca_path = std::filesystem::path(std::string(value));
        } else if (leaf == "cert-path") {
            sec.config.tls.cert_path = std::filesystem::path(std::string(value));
        } else if (leaf == "key-path") {
            sec.config.tls.key_path = std::filesystem::path(std::string(value));
        } else if (leaf == "tls-version") {
            sec.config.tls.min_version = parse_tls_version(value, key);
        } else {
            std::string why;
            const auto parsed = try_parse_duration(value, why);
            if (!parsed) throw config_error(key, value, why + "; accepted: " + std::string(accepted_durations));
            sec.config.timeout = std::chrono::ceil<std::chrono::milliseconds>(*parsed);
            if (sec.config.timeout.count() <= 0 || sec.config.timeout > max_key_service_timeout) {
                throw config_error(key, value, "accepted: a positive duration of at most 1h (default 10s)");
            }
        }
    }

    /// The config, after `validate` and after checking each master-key section names its type.
    [[nodiscard]] encryption_config finish(insecure_master_key insecure) {
        for (const section* sec : {&m_master, &m_previous}) {
            if (sec->present && !sec->type_set) {
                throw error(errc::config, std::string(sec->name) +
                                              ".type is missing; every master-key section needs it; accepted: "
                                              "\"file\", \"kms\", \"kmip\", \"plaintext\"");
            }
        }
        if (m_master.present) m_config.master_key = m_master.config;
        if (m_previous.present) m_config.previous_master_key = m_previous.config;
        m_config.allow_insecure_master_key = insecure == insecure_master_key::allow;
        validate(m_config);
        return m_config;
    }

private:
    struct section final {
        std::string_view name;
        master_key_config config;
        bool present = false;
        bool type_set = false;
    };

    [[nodiscard]] static std::string_view leaf_of(std::string_view key) {
        if (std::find(config_keys.begin(), config_keys.end(), key) == config_keys.end()) throw unknown_key_error(key);
        return key.substr(key.rfind('.') + 1);
    }

    [[nodiscard]] section& section_for(std::string_view key) {
        section& sec = key.starts_with(std::string(master_key_section) + ".") ? m_master : m_previous;
        sec.present = true;
        return sec;
    }

    [[nodiscard]] static std::uint64_t parse_threshold(std::string_view key, std::string_view value) {
        const auto bad = [&] {
            return config_error(key, value, "accepted: a whole number of removed entries from 1 to " +
                                                std::to_string(UINT64_MAX) + " (default 1000000)");
        };
        if (value.empty() || value.size() > 20) throw bad();
        std::uint64_t n = 0;
        for (char c : value) {
            if (c < '0' || c > '9') throw bad();
            const auto digit = static_cast<std::uint64_t>(c - '0');
            if (n > (UINT64_MAX - digit) / 10) throw bad();
            n = n * 10 + digit;
        }
        if (n == 0) throw bad();
        return n;
    }

    encryption_config m_config;
    section m_master{master_key_section, {}, false, false};
    section m_previous{previous_master_key_section, {}, false, false};
};

}  // namespace detail

/// Reads the dotted keys TiUP writes (`security.encryption.data-encryption-method` = "aes256-ctr"…)
/// for engines that keep their own config format. Every key must be one of `config_keys`; booleans
/// are "true"/"false", durations as `parse_duration`. The result has passed `validate`.
[[nodiscard]] inline encryption_config from_flat_map(const std::map<std::string, std::string>& entries,
                                                     insecure_master_key insecure = insecure_master_key::refuse) {
    detail::config_builder builder;
    for (const auto& [key, value] : entries) builder.set(key, value);
    return builder.finish(insecure);
}

/// The dotted keys and values that `from_flat_map` reads back into an equal config (the
/// `allow_insecure_master_key` flag is code-only and not written).
[[nodiscard]] inline std::map<std::string, std::string> to_flat_map(const encryption_config& config) {
    const std::string p(config_prefix);
    std::map<std::string, std::string> out{
        {p + "data-encryption-method", std::string(to_string(config.data_encryption_method))},
        {p + "data-key-rotation-period", format_duration(config.data_key_rotation_period)},
        {p + "authenticated-files", config.authenticated_files == authenticated_files::none   ? "none"
                                    : config.authenticated_files == authenticated_files::logs ? "logs"
                                                                                              : "all"},
        {p + "enable-file-dictionary-log", config.enable_file_dictionary_log ? "true" : "false"},
        {p + "file-dictionary-rewrite-threshold", std::to_string(config.file_dictionary_rewrite_threshold)},
    };
    auto put = [&](std::string_view section, const std::optional<master_key_config>& mk) {
        if (!mk) return;
        const std::string s = std::string(section) + ".";
        out[s + "type"] = to_string(mk->type);
        if (!mk->path.empty()) out[s + "path"] = mk->path.string();
        if (!mk->key_id.empty()) out[s + "key-id"] = mk->key_id;
        if (!mk->key_name.empty()) out[s + "key-name"] = mk->key_name;
        if (mk->mode != master_key_config::kmip_mode::wrap) out[s + "mode"] = "get";
        if (!mk->region.empty()) out[s + "region"] = mk->region;
        if (!mk->endpoint.empty()) out[s + "endpoint"] = mk->endpoint;
        if (!mk->vendor.empty()) out[s + "vendor"] = mk->vendor;
        if (!mk->access_key.empty()) out[s + "aws.access-key"] = mk->access_key;
        if (!mk->secret_access_key.empty()) out[s + "aws.secret-access-key"] = mk->secret_access_key;
        if (!mk->tls.ca_path.empty()) out[s + "ca-path"] = mk->tls.ca_path.string();
        if (!mk->tls.cert_path.empty()) out[s + "cert-path"] = mk->tls.cert_path.string();
        if (!mk->tls.key_path.empty()) out[s + "key-path"] = mk->tls.key_path.string();
        if (mk->tls.min_version != tls_version::tls1_2) out[s + "tls-version"] = std::string(to_string(mk->tls.min_version));
        if (mk->timeout != master_key_config::default_key_service_timeout) {
            out[s + "timeout"] = format_duration(std::chrono::duration_cast<std::chrono::microseconds>(mk->timeout));
        }
    };
    put(master_key_section, config.master_key);
    put(previous_master_key_section, config.previous_master_key);
    return out;
}

}  // namespace atrest
