#pragma once
/// One HTTPS request over libcurl, with a key service's TLS settings (tls/tls_config.hpp) applied:
/// the server's certificate and host name always verified (system CAs or `ca-path`), a client
/// certificate when configured, TLS 1.2 or 1.3 at least, and every request on a new connection
/// that reads the PEM files again — a certificate replaced on disk is used by the next request,
/// without a restart (key-service calls happen once or twice per process start, so nothing is
/// lost by not reusing connections). Failures are returned, classified, never thrown, so the
/// caller decides what to retry.

#include <atrest/config/duration.hpp>
#include <atrest/detail/posix.hpp>
#include <atrest/error.hpp>
#include <atrest/kms/sigv4.hpp>
#include <atrest/metrics/key_service_observer.hpp>
#include <atrest/tls/tls_config.hpp>

#include <curl/curl.h>

#include <chrono>
#include <cstring>
#include <ctime>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

namespace atrest::aws {

/// How a request ended when no HTTP response came back.
enum class transport_failure : std::uint8_t { none, network, tls };

struct transport_result final {
    transport_failure failure = transport_failure::none;
    long status = 0;      ///< the HTTP status, when failure == none
    std::string body;     ///< the response body, when failure == none
    std::string message;  ///< what went wrong, when failure != none
};

/// The largest response body read: KMS answers are a few kilobytes.
inline constexpr std::size_t max_response_size = 1 << 20;

namespace detail {

inline void curl_global_once() {
    static const CURLcode rc = curl_global_init(CURL_GLOBAL_DEFAULT);
    if (rc != CURLE_OK) throw error(errc::kms, std::string("libcurl could not initialise: ") + curl_easy_strerror(rc));
}

struct curl_easy_delete final {
    void operator()(CURL* c) const noexcept { curl_easy_cleanup(c); }
};
struct curl_slist_delete final {
    void operator()(curl_slist* l) const noexcept { curl_slist_free_all(l); }
};

inline std::size_t append_body(char* data, std::size_t size, std::size_t count, void* user) {
    auto* body = static_cast<std::string*>(user);
    const std::size_t n = size * count;
    if (body->size() + n > max_response_size) return 0;  // curl reports CURLE_WRITE_ERROR
    body->append(data, n);
    return n;
}

[[nodiscard]] inline bool is_tls_failure(CURLcode rc) noexcept {
    switch (rc) {
        case CURLE_SSL_CONNECT_ERROR:
        case CURLE_PEER_FAILED_VERIFICATION:
        case CURLE_SSL_CERTPROBLEM:
        case CURLE_SSL_CIPHER:
        case CURLE_SSL_CACERT_BADFILE:
        case CURLE_SSL_ENGINE_NOTFOUND:
        case CURLE_SSL_ENGINE_SETFAILED:
        case CURLE_SSL_ENGINE_INITFAILED:
        case CURLE_SSL_CRL_BADFILE:
        case CURLE_SSL_ISSUER_ERROR:
        case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
        case CURLE_SSL_INVALIDCERTSTATUS:
        case CURLE_USE_SSL_FAILED:
            return true;
        default:
            return false;
    }
}

}  // namespace detail

class curl_transport final {
public:
    /// `section` prefixes the TLS keys in messages ("security.encryption.master-key").
    curl_transport(tls_config tls, std::string section, key_service_observer observer = {})
        : m_tls(std::move(tls)), m_section(std::move(section)), m_observer(std::move(observer)) {}

    /// Checks the TLS files now, before any request: each must exist, and a client certificate
    /// must be readable and valid at this moment. Its validity goes to the metrics.
    void check_tls_files() const {
        if (const auto validity = atrest::check_tls_files(m_tls, m_section)) {
            m_observer.client_certificate(validity->not_before, validity->not_after);
        }
    }

    /// Sends `request` to `origin` ("https://host:port") on a new connection, waiting at most
    /// `timeout` for all of it.
    [[nodiscard]] transport_result perform(std::string_view origin, const http_request& request,
                                           std::chrono::milliseconds timeout) const {
        detail::curl_global_once();
        check_tls_files();
        std::unique_ptr<CURL, detail::curl_easy_delete> curl(curl_easy_init());
        if (!curl) throw error(errc::kms, "libcurl could not create a request handle");
        CURL* c = curl.get();
        std::unique_ptr<curl_slist, detail::curl_slist_delete> headers;
        auto add_header = [&](const std::string& line) {
            curl_slist* next = curl_slist_append(headers.get(), line.c_str());
            if (next == nullptr) throw error(errc::kms, "libcurl could not add a header");
            (void)headers.release();
            headers.reset(next);
        };
        for (const auto& [name, value] : request.headers) add_header(name + ": " + value);
        add_header("Expect:");  // no "100-continue" round trip (and nothing unsigned added)
        std::string url = std::string(origin) + request.path;
        if (!request.query.empty()) url += "?" + request.query;
        transport_result result;
        char error_buffer[CURL_ERROR_SIZE] = {};
        const long timeout_ms = static_cast<long>(std::max<std::int64_t>(1, timeout.count()));
        curl_easy_setopt(c, CURLOPT_URL, url.c_str());
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers.get());
        if (request.method == "POST") {
            curl_easy_setopt(c, CURLOPT_POST, 1L);
            curl_easy_setopt(c, CURLOPT_POSTFIELDS, request.body.data());
            curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
        } else {
            curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, request.method.c_str());
        }
        curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, &detail::append_body);
        curl_easy_setopt(c, CURLOPT_WRITEDATA, &result.body);
        curl_easy_setopt(c, CURLOPT_ERRORBUFFER, error_buffer);
        curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout_ms);
        curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms);
        curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
        curl_easy_setopt(c, CURLOPT_NOPROXY, "localhost,127.0.0.1,::1");  // proxies from the environment, never for loopback
        curl_easy_setopt(c, CURLOPT_FRESH_CONNECT, 1L);
        curl_easy_setopt(c, CURLOPT_FORBID_REUSE, 1L);
#if LIBCURL_VERSION_NUM >= 0x075500
        curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
#else
        curl_easy_setopt(c, CURLOPT_PROTOCOLS, static_cast<long>(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
        // TLS: verify the server (curl's defaults, stated), from the configured CA file if any.
        curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
        curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
        curl_easy_setopt(c, CURLOPT_SSLVERSION, m_tls.min_version == tls_version::tls1_3 ? static_cast<long>(CURL_SSLVERSION_TLSv1_3)
                                                                                           : static_cast<long>(CURL_SSLVERSION_TLSv1_2));
        if (!m_tls.ca_path.empty()) curl_easy_setopt(c, CURLOPT_CAINFO, m_tls.ca_path.c_str());
#if LIBCURL_VERSION_NUM >= 0x075700
        curl_easy_setopt(c, CURLOPT_CA_CACHE_TIMEOUT, 0L);  // read the CA file again for each connection
#endif
        if (m_tls.has_client_certificate()) {
            curl_easy_setopt(c, CURLOPT_SSLCERT, m_tls.cert_path.c_str());
            curl_easy_setopt(c, CURLOPT_SSLCERTTYPE, "PEM");
            curl_easy_setopt(c, CURLOPT_SSLKEY, m_tls.key_path.c_str());
            curl_easy_setopt(c, CURLOPT_SSLKEYTYPE, "PEM");
        }
        const CURLcode rc = curl_easy_perform(c);
        if (rc != CURLE_OK) {
            result.failure = detail::is_tls_failure(rc) ? transport_failure::tls : transport_failure::network;
            result.message = curl_easy_strerror(rc);
            if (error_buffer[0] != '\0') result.message += std::string(" (") + error_buffer + ")";
            if (rc == CURLE_WRITE_ERROR) result.message = "the response is larger than 1 MiB";
            if (result.failure == transport_failure::tls) result.message += tls_hint();
            scrub(result.body);
            return result;
        }
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &result.status);
        return result;
    }

    [[nodiscard]] const tls_config& tls() const noexcept { return m_tls; }

    /// Overwrites a string that held key material before it is freed.
    static void scrub(std::string& s) noexcept {
        if (!s.empty()) atrest::detail::botan_compat::secure_scrub(s.data(), s.size());
        s.clear();
    }

private:
    [[nodiscard]] std::string tls_hint() const { return describe_tls(m_tls, m_section); }

    tls_config m_tls;
    std::string m_section;
    key_service_observer m_observer;
};

}  // namespace atrest::aws
