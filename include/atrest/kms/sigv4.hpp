#pragma once
/// AWS Signature Version 4 (header form), written once for every AWS call atrest makes. Follows
/// AWS's specification as botocore implements it, which the tests check twice: against AWS's
/// published examples (known answers) and against botocore's own signer on generated requests.
///   canonical request = method \n canonical URI \n canonical query \n canonical headers \n
///                       signed headers \n hex(SHA-256(body))
///   string to sign    = "AWS4-HMAC-SHA256" \n amz-date \n date/region/service/aws4_request \n
///                       hex(SHA-256(canonical request))
///   signing key       = HMAC chain "AWS4"+secret -> date -> region -> service -> "aws4_request"
/// Only SHA-256 and HMAC come from Botan; nothing here does I/O.

#include <atrest/detail/botan_compat.hpp>
#include <atrest/error.hpp>
#include <atrest/secret_bytes.hpp>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <ctime>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace atrest::aws {

/// What signs a request. `secret_access_key` and `session_token` never appear in a message.
struct credentials final {
    std::string access_key_id;
    std::string secret_access_key;
    std::string session_token;  ///< empty for long-term keys
    std::string source;         ///< where they came from, for messages ("environment", a file and profile…)
};

/// A request as it is sent: method, URL parts, headers (Host among them) and body.
struct http_request final {
    std::string method = "POST";
    std::string path = "/";  ///< as sent, already percent-encoded
    std::string query;       ///< as sent after '?', already percent-encoded; empty for none
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;

    /// The value of the first header named `name` (any case), or empty.
    [[nodiscard]] std::string_view header(std::string_view name) const;
};

namespace sigv4 {

inline constexpr std::string_view algorithm = "AWS4-HMAC-SHA256";
/// Headers botocore leaves unsigned: proxies and clients may add or change them.
inline constexpr std::array<std::string_view, 4> unsigned_headers = {"expect", "transfer-encoding", "user-agent",
                                                                     "x-amzn-trace-id"};

[[nodiscard]] inline std::string to_hex(std::span<const std::uint8_t> bytes) {
    static constexpr char digits[] = "0123456789abcdef";
    std::string out;
    out.reserve(bytes.size() * 2);
    for (auto b : bytes) {
        out += digits[b >> 4];
        out += digits[b & 15];
    }
    return out;
}

[[nodiscard]] inline std::string lower(std::string_view text) {
    std::string out(text);
    for (auto& c : out) {
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    }
    return out;
}

/// hex(SHA-256(data)).
[[nodiscard]] inline std::string sha256_hex(std::string_view data) {
    auto hash = detail::botan_compat::make_hash("SHA-256");
    hash->update(reinterpret_cast<const std::uint8_t*>(data.data()), data.size());
    std::array<std::uint8_t, 32> digest{};
    hash->final(digest.data());
    return to_hex(digest);
}

/// HMAC-SHA-256(key, data).
[[nodiscard]] inline secret_bytes hmac_sha256(std::span<const std::byte> key, std::string_view data) {
    auto mac = detail::botan_compat::make_mac("HMAC(SHA-256)");
    mac->set_key(reinterpret_cast<const std::uint8_t*>(key.data()), key.size());
    mac->update(reinterpret_cast<const std::uint8_t*>(data.data()), data.size());
    secret_bytes out(32);
    mac->final(reinterpret_cast<std::uint8_t*>(out.mutable_bytes().data()));
    return out;
}

/// RFC 3986 percent-encoding of everything but unreserved characters (A-Z a-z 0-9 - _ . ~) and,
/// when `keep_slash`, '/'. Upper-case hex, as SigV4 requires.
[[nodiscard]] inline std::string uri_encode(std::string_view text, bool keep_slash) {
    static constexpr char digits[] = "0123456789ABCDEF";
    std::string out;
    out.reserve(text.size());
    for (char c : text) {
        const auto u = static_cast<unsigned char>(c);
        const bool unreserved = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                                c == '-' || c == '_' || c == '.' || c == '~';
        if (unreserved || (keep_slash && c == '/')) {
            out += c;
        } else {
            out += '%';
            out += digits[u >> 4];
            out += digits[u & 15];
        }
    }
    return out;
}

/// The path with "." and ".." segments resolved and empty segments dropped (a trailing slash
/// kept), as botocore normalizes it before signing; always starts with '/'.
[[nodiscard]] inline std::string normalized_path(std::string_view path) {
    std::vector<std::string_view> segments;
    std::size_t start = 0;
    while (start <= path.size()) {
        auto end = path.find('/', start);
        if (end == std::string_view::npos) end = path.size();
        const auto segment = path.substr(start, end - start);
        if (segment == "..") {
            if (!segments.empty()) segments.pop_back();
        } else if (!segment.empty() && segment != ".") {
            segments.push_back(segment);
        }
        start = end + 1;
    }
    std::string out = "/";
    for (std::size_t i = 0; i < segments.size(); ++i) {
        if (i > 0) out += '/';
        out += segments[i];
    }
    if (!segments.empty() && path.size() > 1 && path.back() == '/') out += '/';
    return out;
}

/// The canonical URI: the normalized path, percent-encoded once more (all services but S3 sign
/// the path encoded twice).
[[nodiscard]] inline std::string canonical_uri(std::string_view path) {
    return uri_encode(normalized_path(path.empty() ? "/" : path), true);
}

/// The query's key=value pairs (as sent) sorted by key, then value.
[[nodiscard]] inline std::string canonical_query(std::string_view query) {
    if (query.empty()) return {};
    std::vector<std::pair<std::string_view, std::string_view>> pairs;
    std::size_t start = 0;
    while (start <= query.size()) {
        auto end = query.find('&', start);
        if (end == std::string_view::npos) end = query.size();
        const auto pair = query.substr(start, end - start);
        const auto eq = pair.find('=');
        pairs.emplace_back(pair.substr(0, eq), eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1));
        start = end + 1;
    }
    std::sort(pairs.begin(), pairs.end());
    std::string out;
    for (const auto& [k, v] : pairs) {
        if (!out.empty()) out += '&';
        out.append(k).append("=").append(v);
    }
    return out;
}

/// A header value with leading and trailing whitespace removed and inner runs made one space.
[[nodiscard]] inline std::string trimmed_value(std::string_view value) {
    std::string out;
    bool pending_space = false;
    for (char c : value) {
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f') {
            pending_space = !out.empty();
        } else {
            if (pending_space) out += ' ';
            pending_space = false;
            out += c;
        }
    }
    return out;
}

/// (name, value) of every signed header: names lower-cased and sorted, the values of a repeated
/// name joined with ',' in the order sent.
[[nodiscard]] inline std::vector<std::pair<std::string, std::string>> signed_header_values(const http_request& request) {
    std::vector<std::pair<std::string, std::string>> out;
    for (const auto& [name, value] : request.headers) {
        auto lname = lower(name);
        if (std::find(unsigned_headers.begin(), unsigned_headers.end(), lname) != unsigned_headers.end()) continue;
        if (lname == "authorization") continue;
        auto found = std::find_if(out.begin(), out.end(), [&](const auto& h) { return h.first == lname; });
        if (found == out.end()) {
            out.emplace_back(std::move(lname), trimmed_value(value));
        } else {
            found->second += ',' + trimmed_value(value);
        }
    }
    std::stable_sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    return out;
}

[[nodiscard]] inline std::string signed_headers(const http_request& request) {
    std::string out;
    for (const auto& [name, value] : signed_header_values(request)) {
        if (!out.empty()) out += ';';
        out += name;
    }
    return out;
}

[[nodiscard]] inline std::string canonical_request(const http_request& request) {
    std::string out = request.method + "\n" + canonical_uri(request.path) + "\n" + canonical_query(request.query) + "\n";
    for (const auto& [name, value] : signed_header_values(request)) out += name + ":" + value + "\n";
    out += "\n" + signed_headers(request) + "\n" + sha256_hex(request.body);
    return out;
}

/// "20150830/us-east-1/iam/aws4_request" for amz_date "20150830T123600Z".
[[nodiscard]] inline std::string credential_scope(std::string_view amz_date, std::string_view region,
                                                  std::string_view service) {
    return std::string(amz_date.substr(0, 8)) + "/" + std::string(region) + "/" + std::string(service) + "/aws4_request";
}

[[nodiscard]] inline std::string string_to_sign(std::string_view amz_date, std::string_view scope,
                                                std::string_view canonical) {
    return std::string(algorithm) + "\n" + std::string(amz_date) + "\n" + std::string(scope) + "\n" + sha256_hex(canonical);
}

[[nodiscard]] inline secret_bytes signing_key(std::string_view secret_access_key, std::string_view date,
                                              std::string_view region, std::string_view service) {
    secret_bytes seed(4 + secret_access_key.size());
    auto seed_bytes = seed.mutable_bytes();
    std::copy_n("AWS4", 4, reinterpret_cast<char*>(seed_bytes.data()));
    std::copy(secret_access_key.begin(), secret_access_key.end(), reinterpret_cast<char*>(seed_bytes.data()) + 4);
    auto k = hmac_sha256(seed.bytes(), date);
    k = hmac_sha256(k.bytes(), region);
    k = hmac_sha256(k.bytes(), service);
    return hmac_sha256(k.bytes(), "aws4_request");
}

/// "YYYYMMDDTHHMMSSZ" (UTC) for `when`.
[[nodiscard]] inline std::string amz_date(std::chrono::system_clock::time_point when) {
    const std::time_t t = std::chrono::system_clock::to_time_t(when);
    std::tm utc{};
    ::gmtime_r(&t, &utc);
    char out[32];
    const std::size_t n = std::strftime(out, sizeof out, "%Y%m%dT%H%M%SZ", &utc);
    return std::string(out, n);
}

/// The Authorization header value for `request` as it stands (its X-Amz-Date and, with a session
/// token, X-Amz-Security-Token headers already added).
[[nodiscard]] inline std::string authorization(const http_request& request, const credentials& creds,
                                               std::string_view region, std::string_view service,
                                               std::string_view amz_date) {
    const auto scope = credential_scope(amz_date, region, service);
    const auto to_sign = string_to_sign(amz_date, scope, canonical_request(request));
    const auto key = signing_key(creds.secret_access_key, amz_date.substr(0, 8), region, service);
    const auto signature = hmac_sha256(key.bytes(), to_sign);
    return std::string(algorithm) + " Credential=" + creds.access_key_id + "/" + scope +
           ", SignedHeaders=" + signed_headers(request) +
           ", Signature=" + to_hex({reinterpret_cast<const std::uint8_t*>(signature.data()), signature.size()});
}

/// Signs `request` in place: adds X-Amz-Date, X-Amz-Security-Token (temporary credentials) and
/// Authorization, replacing any a previous attempt added.
inline void sign(http_request& request, const credentials& creds, std::string_view region, std::string_view service,
                 std::string_view amz_date) {
    std::erase_if(request.headers, [](const auto& h) {
        const auto name = lower(h.first);
        return name == "authorization" || name == "x-amz-date" || name == "x-amz-security-token";
    });
    request.headers.emplace_back("X-Amz-Date", std::string(amz_date));
    if (!creds.session_token.empty()) request.headers.emplace_back("X-Amz-Security-Token", creds.session_token);
    request.headers.emplace_back("Authorization", authorization(request, creds, region, service, amz_date));
}

}  // namespace sigv4

inline std::string_view http_request::header(std::string_view name) const {
    const auto wanted = sigv4::lower(name);
    for (const auto& [n, v] : headers) {
        if (sigv4::lower(n) == wanted) return v;
    }
    return {};
}

}  // namespace atrest::aws
