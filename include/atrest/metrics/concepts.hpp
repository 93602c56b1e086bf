#pragma once
/// The metrics policy family's concept: the key manager reports TiKV's encryption metrics through
/// a policy type, so an engine plugs in its own registry and the default (`no_metrics`) compiles
/// away. Models: no_metrics.hpp, prometheus_metrics.hpp; checks: tests/static/metrics_static.cpp.

#include <chrono>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace atrest {

/// The two metadata files whose size and I/O time are reported.
enum class meta_file : std::uint8_t { file_dictionary, key_dictionary };
/// Whether a metadata duration was spent reading or writing.
enum class meta_operation : std::uint8_t { read, write };

[[nodiscard]] constexpr std::string_view to_string(meta_file f) noexcept {
    return f == meta_file::file_dictionary ? "file_dictionary" : "key_dictionary";
}
[[nodiscard]] constexpr std::string_view to_string(meta_operation o) noexcept {
    return o == meta_operation::read ? "read" : "write";
}

/// A key-service call whose count, failures and latency are reported (AWS KMS today).
enum class kms_operation : std::uint8_t { generate_data_key, decrypt };
/// How one key-service request (one attempt: a retry is another request) ended.
enum class kms_outcome : std::uint8_t { ok, wrong_key, refused, throttled, server_error, network_error, tls_error };

[[nodiscard]] constexpr std::string_view to_string(kms_operation o) noexcept {
    return o == kms_operation::generate_data_key ? "GenerateDataKey" : "Decrypt";
}
[[nodiscard]] constexpr std::string_view to_string(kms_outcome o) noexcept {
    switch (o) {
        case kms_outcome::ok: return "ok";
        case kms_outcome::wrong_key: return "wrong_key";
        case kms_outcome::refused: return "refused";
        case kms_outcome::throttled: return "throttled";
        case kms_outcome::server_error: return "server_error";
        case kms_outcome::network_error: return "network_error";
        case kms_outcome::tls_error: break;
    }
    return "tls_error";
}

/// What a metrics policy must accept. Calls may come from several threads at once.
template <class M>
concept metrics_policy = requires(M& m, bool flag, std::size_t count, meta_file file, meta_operation op,
                                  std::uint64_t bytes, std::chrono::nanoseconds elapsed) {
    m.set_initialized(flag);                    // encryption initialized at open (0/1)
    m.set_data_key_count(count);                // number of data keys in the key dictionary
    m.set_encrypted_file_count(count);          // number of entries in the file dictionary
    m.set_meta_file_size(file, bytes);          // size of each metadata file
    m.observe_meta_duration(file, op, elapsed); // time spent on metadata I/O
};

/// A metrics policy that also takes the key service's figures (open_key_manager hands it to a
/// KMS master key through `key_service_observer`). Copies must share one registry.
template <class M>
concept key_service_metrics_policy = metrics_policy<M> && std::copy_constructible<M> &&
    requires(M& m, kms_operation op, kms_outcome outcome, std::chrono::nanoseconds elapsed, std::int64_t unix_seconds) {
        m.observe_kms_request(op, outcome, elapsed);                        // one request, its outcome and latency
        m.set_tls_client_certificate_validity(unix_seconds, unix_seconds);  // not-before, not-after
    };

}  // namespace atrest
