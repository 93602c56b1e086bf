#pragma once
/// `atrest::no_metrics`: the default metrics policy (metrics/concepts.hpp); every call compiles away.

#include <atrest/metrics/concepts.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>

namespace atrest {

/// Reports nothing; every call is an empty inline function.
struct no_metrics final {
    void set_initialized(bool) noexcept {}
    void set_data_key_count(std::size_t) noexcept {}
    void set_encrypted_file_count(std::size_t) noexcept {}
    void set_meta_file_size(meta_file, std::uint64_t) noexcept {}
    void observe_meta_duration(meta_file, meta_operation, std::chrono::nanoseconds) noexcept {}
};

static_assert(metrics_policy<no_metrics>);

}  // namespace atrest
