// Which types model atrest::metrics_policy. Compiling is the test.
#include <atrest/metrics/no_metrics.hpp>
#include <atrest/metrics/prometheus_metrics.hpp>

#include <chrono>
#include <type_traits>
#include <utility>

namespace {
struct no_histogram {  // gauges only: cannot take durations
    void set_initialized(bool) {}
    void set_data_key_count(std::size_t) {}
    void set_encrypted_file_count(std::size_t) {}
    void set_meta_file_size(atrest::meta_file, std::uint64_t) {}
};
struct seconds_as_double {  // takes double seconds: a nanoseconds duration does not convert
    void set_initialized(bool) {}
    void set_data_key_count(std::size_t) {}
    void set_encrypted_file_count(std::size_t) {}
    void set_meta_file_size(atrest::meta_file, std::uint64_t) {}
    void observe_meta_duration(atrest::meta_file, atrest::meta_operation, double) {}
};
}  // namespace

static_assert(atrest::metrics_policy<atrest::prometheus_metrics>);
static_assert(atrest::metrics_policy<atrest::no_metrics>);
static_assert(!atrest::metrics_policy<no_histogram>);
static_assert(!atrest::metrics_policy<seconds_as_double>);
static_assert(!atrest::metrics_policy<int>);

// The key manager takes its metrics policy by value: the handle must copy and move, and the
// hot-path calls must not throw.
static_assert(std::is_nothrow_move_constructible_v<atrest::prometheus_metrics>);
static_assert(std::is_copy_constructible_v<atrest::prometheus_metrics>);
static_assert(noexcept(std::declval<atrest::prometheus_metrics&>().observe_meta_duration(
    atrest::meta_file::key_dictionary, atrest::meta_operation::write, std::declval<std::chrono::nanoseconds>())));
static_assert(noexcept(std::declval<atrest::prometheus_metrics&>().set_meta_file_size(atrest::meta_file::file_dictionary, 1)));
