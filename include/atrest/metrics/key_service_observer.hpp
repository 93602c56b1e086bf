#pragma once
/// How a key-service client (the AWS KMS master key) reports to the engine's metrics without
/// knowing their type: two callbacks, empty when nobody listens. `open_key_manager` fills them from
/// a `key_service_metrics_policy`; a hand-built KMS master key takes one directly.

#include <atrest/metrics/concepts.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <utility>

namespace atrest {

struct key_service_observer final {
    std::function<void(kms_operation, kms_outcome, std::chrono::nanoseconds)> on_request;
    std::function<void(std::int64_t not_before, std::int64_t not_after)> on_client_certificate;

    void request(kms_operation op, kms_outcome outcome, std::chrono::nanoseconds elapsed) const {
        if (on_request) on_request(op, outcome, elapsed);
    }
    void client_certificate(std::int64_t not_before, std::int64_t not_after) const {
        if (on_client_certificate) on_client_certificate(not_before, not_after);
    }

    /// Reports into `metrics` (a copy: the policy's copies share one registry).
    template <key_service_metrics_policy Metrics>
    [[nodiscard]] static key_service_observer of(Metrics metrics) {
        key_service_observer o;
        o.on_request = [metrics](kms_operation op, kms_outcome outcome, std::chrono::nanoseconds elapsed) mutable {
            metrics.observe_kms_request(op, outcome, elapsed);
        };
        o.on_client_certificate = [metrics](std::int64_t not_before, std::int64_t not_after) mutable {
            metrics.set_tls_client_certificate_validity(not_before, not_after);
        };
        return o;
    }
};

}  // namespace atrest
