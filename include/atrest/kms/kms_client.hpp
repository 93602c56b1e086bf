#pragma once
/// The two AWS KMS calls atrest makes — GenerateDataKey and Decrypt — over the JSON 1.1 protocol
/// (`POST /`, `Content-Type: application/x-amz-json-1.1`, `X-Amz-Target: TrentService.<call>`,
/// SigV4 with service "kms"), with the failure rules of docs/kms.md:
///   - InvalidCiphertextException / IncorrectKeyException: `errc::wrong_key` (so a previous
///     master key is tried: TiKV #17410);
///   - any other refusal (AccessDenied, NotFound, Disabled, KMSInvalidState, …): `errc::kms`
///     naming the call, key id, region and endpoint, at once;
///   - throttling, HTTP 5xx and network errors: retried with exponential backoff and jitter until
///     the configured deadline, then `errc::kms` "KMS unavailable" with the last error;
///   - TLS failures (certificate not verified, protocol below the minimum): `errc::kms` at once.
/// Every request is counted and timed through the observer. No secret (secret key, session token,
/// data key) is ever part of a message.

#include <atrest/config/encryption_config.hpp>
#include <atrest/detail/random.hpp>
#include <atrest/kms/curl_transport.hpp>
#include <atrest/kms/sigv4.hpp>
#include <atrest/metrics/key_service_observer.hpp>
#include <atrest/secret_bytes.hpp>

#include <botan/base64.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

namespace atrest::aws {

/// The encryption context bound to every data key atrest asks for (docs/kms.md says why): KMS
/// authenticates it with the ciphertext, records it in its audit log, and IAM policies can
/// require it (`kms:EncryptionContext:purpose`).
inline constexpr std::string_view encryption_context_key = "purpose";
inline constexpr std::string_view encryption_context_value = "atrest-key-dictionary";

/// The KMS endpoint of `region` when the config names none.
[[nodiscard]] inline std::string default_kms_endpoint(std::string_view region) {
    const bool china = region.starts_with("cn-");
    return "https://kms." + std::string(region) + (china ? ".amazonaws.com.cn" : ".amazonaws.com");
}

/// An error body's exception name (any "namespace#" prefix removed) and message.
struct kms_error_body final {
    std::string type;
    std::string message;
};

[[nodiscard]] inline kms_error_body parse_kms_error(std::string_view body) {
    kms_error_body out;
    const auto json = nlohmann::json::parse(body, nullptr, false);
    if (!json.is_object()) return out;
    for (const char* name : {"__type", "code", "Code"}) {
        if (const auto it = json.find(name); it != json.end() && it->is_string()) {
            out.type = it->get<std::string>();
            break;
        }
    }
    if (const auto hash = out.type.rfind('#'); hash != std::string::npos) out.type.erase(0, hash + 1);
    for (const char* name : {"message", "Message"}) {
        if (const auto it = json.find(name); it != json.end() && it->is_string()) {
            out.message = it->get<std::string>();
            break;
        }
    }
    return out;
}

[[nodiscard]] inline bool is_wrong_key_error(std::string_view type) noexcept {
    return type == "InvalidCiphertextException" || type == "IncorrectKeyException";
}

[[nodiscard]] inline bool is_throttling_error(std::string_view type) noexcept {
    return type == "ThrottlingException" || type == "Throttling" || type == "TooManyRequestsException" ||
           type == "RequestLimitExceeded" || type == "LimitExceededException";
}

/// What the KMS client needs from a master-key section.
struct kms_settings final {
    std::string key_id;
    std::string region;
    std::string endpoint;  ///< the configured URL, or empty for the region's AWS endpoint
    tls_config tls;
    std::chrono::milliseconds timeout = master_key_config::default_key_service_timeout;
    std::string section = std::string(master_key_section);  ///< for messages

    [[nodiscard]] static kms_settings from(const master_key_config& config, std::string_view section) {
        return {config.key_id, config.region, config.endpoint, config.tls, config.timeout, std::string(section)};
    }
};

class kms_client final {
public:
    struct generated final {
        secret_bytes plaintext;
        std::vector<std::byte> ciphertext_blob;
        std::string key_arn;
    };
    struct decrypted final {
        secret_bytes plaintext;
        std::string key_arn;
    };

    kms_client(kms_settings settings, credentials creds, key_service_observer observer = {})
        : m_settings(std::move(settings)),
          m_credentials(std::move(creds)),
          m_url(atrest::detail::parse_endpoint_url(
              m_settings.endpoint.empty() ? default_kms_endpoint(m_settings.region) : m_settings.endpoint,
              m_settings.section + ".endpoint")),
          m_transport(m_settings.tls, m_settings.section, observer),
          m_observer(std::move(observer)) {}

    /// GenerateDataKey, KeySpec AES_256, under the encryption context: a new 32-byte data key and
    /// the ciphertext blob that only this KMS key can decrypt.
    [[nodiscard]] generated generate_data_key() {
        nlohmann::json request = {{"KeyId", m_settings.key_id}, {"KeySpec", "AES_256"}, {"EncryptionContext", context()}};
        auto response = call(kms_operation::generate_data_key, request);
        generated out;
        out.plaintext = take_plaintext(response, kms_operation::generate_data_key);
        out.ciphertext_blob = decode_blob(response, kms_operation::generate_data_key);
        out.key_arn = string_field(response, "KeyId", kms_operation::generate_data_key);
        return out;
    }

    /// Decrypt of `blob` with the configured key id (so KMS refuses a blob of another key) and
    /// the same encryption context.
    [[nodiscard]] decrypted decrypt(std::span<const std::byte> blob) {
        nlohmann::json request = {{"CiphertextBlob", Botan::base64_encode(reinterpret_cast<const std::uint8_t*>(blob.data()),
                                                                          blob.size())},
                                  {"KeyId", m_settings.key_id},
                                  {"EncryptionContext", context()}};
        auto response = call(kms_operation::decrypt, request);
        decrypted out;
        out.plaintext = take_plaintext(response, kms_operation::decrypt);
        out.key_arn = string_field(response, "KeyId", kms_operation::decrypt);
        return out;
    }

    /// "KMS key "…" in region "…" at https://…" for messages.
    [[nodiscard]] std::string describe() const {
        return "KMS key " + atrest::detail::quoted(m_settings.key_id) + " in region " +
               atrest::detail::quoted(m_settings.region) + " at " + origin();
    }
    [[nodiscard]] const kms_settings& settings() const noexcept { return m_settings; }
    [[nodiscard]] const credentials& creds() const noexcept { return m_credentials; }
    /// Requests sent so far (every attempt counts).
    [[nodiscard]] std::size_t requests_sent() const noexcept { return m_requests; }

    /// "https://host[:port]" as requests go to.
    [[nodiscard]] std::string origin() const {
        return std::string(m_url.https ? "https://" : "http://") + m_url.host +
               (m_url.port_given ? ":" + std::to_string(m_url.port) : std::string());
    }

    /// The request for `operation` with `body`, signed at `when` — what `call` sends.
    [[nodiscard]] http_request signed_request(kms_operation operation, std::string body,
                                              std::chrono::system_clock::time_point when) const {
        http_request r;
        r.method = "POST";
        r.path = "/";
        r.body = std::move(body);
        r.headers = {{"Host", host_header()},
                     {"Content-Type", "application/x-amz-json-1.1"},
                     {"X-Amz-Target", "TrentService." + std::string(to_string(operation))}};
        sigv4::sign(r, m_credentials, m_settings.region, "kms", sigv4::amz_date(when));
        return r;
    }

private:
    [[nodiscard]] static nlohmann::json context() {
        return nlohmann::json::object({{std::string(encryption_context_key), std::string(encryption_context_value)}});
    }

    /// The Host header: the host, with the port unless it is the scheme's default.
    [[nodiscard]] std::string host_header() const {
        const bool default_port = !m_url.port_given || m_url.port == (m_url.https ? 443 : 80);
        return m_url.host + (default_port ? std::string() : ":" + std::to_string(m_url.port));
    }

    [[nodiscard]] std::string what(kms_operation op) const {
        return std::string(to_string(op)) + " with " + describe();
    }

    [[nodiscard]] std::string string_field(const nlohmann::json& response, const char* name, kms_operation op) const {
        const auto it = response.find(name);
        if (it == response.end() || !it->is_string()) {
            throw error(errc::kms, what(op) + ": the answer has no \"" + std::string(name) + "\" field");
        }
        return it->get<std::string>();
    }

    [[nodiscard]] std::vector<std::byte> decode_blob(const nlohmann::json& response, kms_operation op) const {
        const auto text = string_field(response, "CiphertextBlob", op);
        try {
            const auto bytes = Botan::base64_decode(text);
            std::vector<std::byte> out(bytes.size());
            std::memcpy(out.data(), bytes.data(), bytes.size());
            if (out.empty() || out.size() > 6144) throw error(errc::kms, "size");
            return out;
        } catch (const std::exception&) {
            throw error(errc::kms, what(op) + ": the answer's CiphertextBlob is not base64 of 1 to 6144 bytes");
        }
    }

    /// The base64 "Plaintext" field decoded into secret memory, its text scrubbed from the JSON.
    [[nodiscard]] secret_bytes take_plaintext(nlohmann::json& response, kms_operation op) const {
        const auto it = response.find("Plaintext");
        if (it == response.end() || !it->is_string()) {
            throw error(errc::kms, what(op) + ": the answer has no \"Plaintext\" field");
        }
        auto& text = it->get_ref<std::string&>();
        secret_bytes buffer(text.size());
        std::size_t n = 0;
        bool ok = true;
        try {
            n = Botan::base64_decode(reinterpret_cast<std::uint8_t*>(buffer.mutable_bytes().data()), text.data(), text.size(), false);
        } catch (const std::exception&) {
            ok = false;
        }
        curl_transport::scrub(text);
        if (!ok) throw error(errc::kms, what(op) + ": the answer's Plaintext is not base64");
        if (n != 32) {
            throw error(errc::kms, what(op) + ": the answer's data key is " + std::to_string(n) +
                                       " bytes; an AES_256 data key is 32 bytes");
        }
        return secret_bytes(buffer.bytes().first(n));
    }

    [[nodiscard]] nlohmann::json call(kms_operation op, const nlohmann::json& request) {
        using clock = std::chrono::steady_clock;
        const auto body = request.dump();
        const auto deadline = clock::now() + m_settings.timeout;
        std::string last_error;
        int attempts = 0;
        auto backoff = std::chrono::milliseconds(100);
        while (true) {
            const auto remaining = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock::now());
            if (remaining.count() <= 0) break;
            ++attempts;
            ++m_requests;
            const auto request_sent = clock::now();
            auto result = m_transport.perform(origin(), signed_request(op, body, std::chrono::system_clock::now()), remaining);
            const auto elapsed = clock::now() - request_sent;
            if (result.failure == transport_failure::tls) {
                m_observer.request(op, kms_outcome::tls_error, elapsed);
                throw error(errc::kms, what(op) + ": TLS failure: " + result.message);
            }
            if (result.failure == transport_failure::network) {
                m_observer.request(op, kms_outcome::network_error, elapsed);
                last_error = "network error: " + result.message;
            } else if (result.status == 200) {
                auto json = nlohmann::json::parse(result.body, nullptr, false);
                curl_transport::scrub(result.body);
                if (!json.is_object()) {
                    m_observer.request(op, kms_outcome::server_error, elapsed);
                    throw error(errc::kms, what(op) + ": the answer (HTTP 200) is not a JSON object");
                }
                m_observer.request(op, kms_outcome::ok, elapsed);
                return json;
            } else {
                const auto err = parse_kms_error(result.body);
                const std::string detail = "HTTP " + std::to_string(result.status) +
                                           (err.type.empty() ? std::string() : " " + err.type) +
                                           (err.message.empty() ? std::string() : ": " + atrest::detail::quoted(err.message));
                if (result.status >= 500 || result.status == 429 || is_throttling_error(err.type)) {
                    const bool throttled = result.status == 429 || is_throttling_error(err.type);
                    m_observer.request(op, throttled ? kms_outcome::throttled : kms_outcome::server_error, elapsed);
                    last_error = (throttled ? "throttled, " : "server error, ") + detail;
                } else if (is_wrong_key_error(err.type)) {
                    m_observer.request(op, kms_outcome::wrong_key, elapsed);
                    throw error(errc::wrong_key, what(op) + " refused the key dictionary's data key (" + detail +
                                                     "): it was sealed under another KMS key or another encryption "
                                                     "context, or it was changed");
                } else {
                    m_observer.request(op, kms_outcome::refused, elapsed);
                    throw error(errc::kms, what(op) + " was refused: " + detail + refusal_hint(err.type, op));
                }
            }
            // Exponential backoff with jitter (50-100% of the step), never past the deadline.
            const auto jittered = backoff / 2 + std::chrono::milliseconds(atrest::detail::random_u64() %
                                                                         static_cast<std::uint64_t>(backoff.count() / 2 + 1));
            const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock::now());
            if (left <= std::chrono::milliseconds(0)) break;
            std::this_thread::sleep_for(std::min(jittered, left));
            backoff = std::min(backoff * 2, std::chrono::milliseconds(2000));
        }
        throw error(errc::kms, "KMS unavailable: " + what(op) + " did not succeed within " +
                                   format_duration(std::chrono::duration_cast<std::chrono::microseconds>(m_settings.timeout)) +
                                   " (" + m_settings.section + ".timeout; " + std::to_string(attempts) +
                                   (attempts == 1 ? " attempt" : " attempts") + "); last error: " +
                                   (last_error.empty() ? std::string("none (no time for an attempt)") : last_error));
    }

    [[nodiscard]] std::string refusal_hint(std::string_view type, kms_operation op) const {
        const std::string permission = op == kms_operation::decrypt ? "kms:Decrypt" : "kms:GenerateDataKey";
        if (type == "AccessDeniedException" || type == "UnrecognizedClientException" ||
            type == "InvalidSignatureException" || type == "ExpiredTokenException") {
            return "; check that the credentials from " + m_credentials.source + " are valid and allowed " +
                   permission + " on this key";
        }
        if (type == "NotFoundException") return "; no such key (or alias) in this region";
        if (type == "DisabledException") return "; the key is disabled: enable it to start";
        if (type == "KMSInvalidStateException") return "; the key is pending deletion or import, or otherwise unusable";
        return {};
    }

    kms_settings m_settings;
    credentials m_credentials;
    atrest::detail::endpoint_url m_url;
    curl_transport m_transport;
    key_service_observer m_observer;
    std::size_t m_requests = 0;
};

}  // namespace atrest::aws
