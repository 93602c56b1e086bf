// Which types model the dictionary-store, clock and metrics policy concepts. Compiling is the test.
#include <atrest/dict.hpp>
#include <atrest/metrics/no_metrics.hpp>

#include <chrono>

namespace {
struct read_only_store {  // cannot write: not a dictionary store
    std::optional<std::vector<std::byte>> read(const std::filesystem::path&) { return {}; }
};
struct steady_clock_policy {  // steady_clock's time_point is not wall-clock time
    std::chrono::steady_clock::time_point now() const { return std::chrono::steady_clock::now(); }
};
struct partial_metrics {
    void set_initialized(bool) {}
};
}  // namespace

static_assert(atrest::dictionary_store<atrest::posix_store>);
static_assert(!atrest::dictionary_store<read_only_store>);
static_assert(!atrest::dictionary_store<int>);

static_assert(atrest::clock_policy<atrest::system_clock_policy>);
static_assert(!atrest::clock_policy<steady_clock_policy>);

static_assert(atrest::metrics_policy<atrest::no_metrics>);
static_assert(!atrest::metrics_policy<partial_metrics>);
