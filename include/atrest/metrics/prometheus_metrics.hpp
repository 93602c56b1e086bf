#pragma once
/// A ready metrics policy that keeps TiKV's encryption metrics and renders them in the Prometheus
/// text exposition format (version 0.0.4), for engines without a registry of their own. Updates
/// are relaxed atomic stores and adds — no lock, no allocation — because the key manager reports
/// from its I/O paths; only `render()` (a scrape) allocates.

#include <atrest/error.hpp>
#include <atrest/metrics/no_metrics.hpp>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace atrest {

namespace detail {

/// A label value as the exposition format requires: backslash, double quote and newline escaped.
[[nodiscard]] inline std::string escape_label_value(std::string_view value) {
    std::string out;
    out.reserve(value.size());
    for (char c : value) {
        if (c == '\\') {
            out += "\\\\";
        } else if (c == '"') {
            out += "\\\"";
        } else if (c == '\n') {
            out += "\\n";
        } else {
            out += c;
        }
    }
    return out;
}

[[nodiscard]] inline bool valid_label_name(std::string_view name) noexcept {
    if (name.empty() || name.starts_with("__")) return false;
    for (std::size_t i = 0; i < name.size(); ++i) {
        const char c = name[i];
        const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
        if (!alpha && !(i > 0 && c >= '0' && c <= '9')) return false;
    }
    return true;
}

}  // namespace detail

/// Models `metrics_policy`. A cheap handle: copies share one registry, so the engine keeps one
/// copy to scrape while the key manager owns another (`key_manager::metrics()` also returns it).
class prometheus_metrics final {
public:
    /// Upper bounds of the duration histogram buckets, in nanoseconds and as rendered (seconds):
    /// 100 µs to 10 s, since metadata I/O is an fsync or two.
    static constexpr std::array<std::uint64_t, 16> bucket_bounds_ns = {
        100'000,     250'000,     500'000,       1'000'000,     2'500'000,     5'000'000,
        10'000'000,  25'000'000,  50'000'000,    100'000'000,   250'000'000,   500'000'000,
        1'000'000'000, 2'500'000'000, 5'000'000'000, 10'000'000'000};
    static constexpr std::array<std::string_view, 16> bucket_bounds_text = {
        "0.0001", "0.00025", "0.0005", "0.001", "0.0025", "0.005", "0.01", "0.025",
        "0.05",   "0.1",     "0.25",   "0.5",   "1",      "2.5",   "5",    "10"};

    /// A fresh registry with no constant labels.
    prometheus_metrics() : m_registry(std::make_shared<registry>()) {}

    /// A fresh registry whose every series carries `constant_labels` (e.g. {"db", "kv"} when one
    /// process runs several stores). Names must be valid Prometheus label names, distinct, and not
    /// `name`, `type`, `operation`, `outcome` or `le`; otherwise `errc::invalid_argument` naming the label.
    explicit prometheus_metrics(const std::vector<std::pair<std::string, std::string>>& constant_labels)
        : prometheus_metrics() {
        std::vector<std::string_view> seen;
        for (const auto& [name, value] : constant_labels) {
            constexpr std::array<std::string_view, 5> reserved = {"name", "type", "operation", "outcome", "le"};
            if (!detail::valid_label_name(name)) {
                throw error(errc::invalid_argument, "prometheus_metrics: invalid label name \"" +
                                                        detail::escape_label_value(name) +
                                                        "\"; accepted: [a-zA-Z_][a-zA-Z0-9_]*, not starting with __");
            }
            if (std::find(reserved.begin(), reserved.end(), name) != reserved.end() ||
                std::find(seen.begin(), seen.end(), name) != seen.end()) {
                throw error(errc::invalid_argument, "prometheus_metrics: label name \"" + name +
                                                        "\" is reserved or given twice (reserved: name, type, "
                                                        "operation, outcome, le)");
            }
            seen.push_back(name);
            if (!m_registry->labels.empty()) m_registry->labels += ',';
            m_registry->labels += name + "=\"" + detail::escape_label_value(value) + '"';
        }
    }

    void set_initialized(bool flag) noexcept { m_registry->initialized.store(flag ? 1 : 0, std::memory_order_relaxed); }
    void set_data_key_count(std::size_t count) noexcept {
        m_registry->data_keys.store(count, std::memory_order_relaxed);
    }
    void set_encrypted_file_count(std::size_t count) noexcept {
        m_registry->encrypted_files.store(count, std::memory_order_relaxed);
    }
    void set_meta_file_size(meta_file file, std::uint64_t bytes) noexcept {
        const auto f = static_cast<std::size_t>(file);
        if (f < file_count) m_registry->meta_size[f].store(bytes, std::memory_order_relaxed);
    }
    void observe_meta_duration(meta_file file, meta_operation op, std::chrono::nanoseconds elapsed) noexcept {
        const auto f = static_cast<std::size_t>(file);
        const auto o = static_cast<std::size_t>(op);
        if (f >= file_count || o >= operation_count) return;
        observe(m_registry->durations[f * operation_count + o], elapsed);
    }

    /// One key-service request (models `key_service_metrics_policy`). The KMS series are rendered
    /// from the first call on, so a build without a key service shows none.
    void observe_kms_request(kms_operation op, kms_outcome outcome, std::chrono::nanoseconds elapsed) noexcept {
        const auto o = static_cast<std::size_t>(op);
        const auto r = static_cast<std::size_t>(outcome);
        if (o >= kms_operation_count || r >= kms_outcome_count) return;
        m_registry->kms_requests[o * kms_outcome_count + r].fetch_add(1, std::memory_order_relaxed);
        observe(m_registry->kms_durations[o], elapsed);
        m_registry->kms_used.store(true, std::memory_order_release);
    }
    /// The key-service client certificate's validity, in seconds since the Unix epoch, as last read
    /// (it is read again for every new connection, so a replaced certificate shows here).
    void set_tls_client_certificate_validity(std::int64_t not_before, std::int64_t not_after) noexcept {
        m_registry->certificate_not_before.store(not_before, std::memory_order_relaxed);
        m_registry->certificate_not_after.store(not_after, std::memory_order_relaxed);
        m_registry->certificate_set.store(true, std::memory_order_release);
    }

    /// Every metric with HELP and TYPE lines, ready to serve at `/metrics`. Each histogram's
    /// `_count` equals its `+Inf` bucket even while observations race the scrape.
    [[nodiscard]] std::string render() const {
        const registry& r = *m_registry;
        std::string out;
        out.reserve(4096);
        auto header = [&](std::string_view name, std::string_view help, std::string_view type) {
            out.append("# HELP ").append(name).append(" ").append(help).append("\n# TYPE ").append(name);
            out.append(" ").append(type).append("\n");
        };
        auto sample = [&](std::string_view name, std::string_view labels, std::string_view value) {
            out.append(name);
            if (!r.labels.empty() || !labels.empty()) {
                out.append("{").append(r.labels);
                if (!r.labels.empty() && !labels.empty()) out.append(",");
                out.append(labels).append("}");
            }
            out.append(" ").append(value).append("\n");
        };
        auto load = [](const std::atomic<std::uint64_t>& a) { return std::to_string(a.load(std::memory_order_relaxed)); };

        // Names follow Prometheus' rules as `promtool check metrics` enforces them: gauges carry no
        // `_total` (TiKV's `..._data_key_storage_total` gauge is the one it rejects), base units
        // are spelled out (`_bytes`, `_seconds`). docs/config.md lists every series.
        header("atrest_encryption_is_initialized", "Whether encryption was initialized at open (1) or not (0).",
               "gauge");
        sample("atrest_encryption_is_initialized", "", load(r.initialized));
        header("atrest_encryption_data_keys", "Number of data keys in the key dictionary.", "gauge");
        sample("atrest_encryption_data_keys", "", load(r.data_keys));
        header("atrest_encryption_file_dictionary_entries", "Number of entries in the file dictionary.", "gauge");
        sample("atrest_encryption_file_dictionary_entries", "", load(r.encrypted_files));
        header("atrest_encryption_meta_file_size_bytes", "Size of each encryption metadata file in bytes.", "gauge");
        for (std::size_t f = 0; f < file_count; ++f) {
            sample("atrest_encryption_meta_file_size_bytes", name_label(f), load(r.meta_size[f]));
        }
        constexpr std::string_view hist = "atrest_encryption_write_read_file_duration_seconds";
        header(hist, "Time spent reading and writing encryption metadata files in seconds.", "histogram");
        for (std::size_t f = 0; f < file_count; ++f) {
            for (std::size_t o = 0; o < operation_count; ++o) {
                const std::string labels = std::string("type=\"") + std::string(to_string(static_cast<meta_file>(f))) +
                                           "\",operation=\"" + std::string(to_string(static_cast<meta_operation>(o))) +
                                           '"';
                render_histogram(hist, labels, r.durations[f * operation_count + o], sample);
            }
        }
        if (r.kms_used.load(std::memory_order_acquire)) {
            header("atrest_kms_requests_total",
                   "Key-service (KMS) requests by operation and outcome; every outcome but ok is an error.", "counter");
            for (std::size_t o = 0; o < kms_operation_count; ++o) {
                for (std::size_t k = 0; k < kms_outcome_count; ++k) {
                    sample("atrest_kms_requests_total", kms_labels(o) + ",outcome=\"" +
                                                            std::string(to_string(static_cast<kms_outcome>(k))) + '"',
                           load(r.kms_requests[o * kms_outcome_count + k]));
                }
            }
            constexpr std::string_view kms_hist = "atrest_kms_request_duration_seconds";
            header(kms_hist, "Time each key-service (KMS) request took in seconds, failed ones included.", "histogram");
            for (std::size_t o = 0; o < kms_operation_count; ++o) {
                render_histogram(kms_hist, kms_labels(o), r.kms_durations[o], sample);
            }
        }
        if (r.certificate_set.load(std::memory_order_acquire)) {
            header("atrest_tls_client_certificate_not_before_timestamp_seconds",
                   "Start of the key-service client certificate's validity, in seconds since the Unix epoch.", "gauge");
            sample("atrest_tls_client_certificate_not_before_timestamp_seconds", "",
                   std::to_string(r.certificate_not_before.load(std::memory_order_relaxed)));
            header("atrest_tls_client_certificate_not_after_timestamp_seconds",
                   "End of the key-service client certificate's validity, in seconds since the Unix epoch.", "gauge");
            sample("atrest_tls_client_certificate_not_after_timestamp_seconds", "",
                   std::to_string(r.certificate_not_after.load(std::memory_order_relaxed)));
        }
        return out;
    }

private:
    static constexpr std::size_t file_count = 2;       // meta_file values
    static constexpr std::size_t operation_count = 2;  // meta_operation values
    static constexpr std::size_t kms_operation_count = 2;  // kms_operation values
    static constexpr std::size_t kms_outcome_count = 7;    // kms_outcome values

    struct histogram final {
        std::array<std::atomic<std::uint64_t>, bucket_bounds_ns.size() + 1> buckets{};  // last: above 10 s
        std::atomic<std::uint64_t> sum_ns{0};
    };
    struct registry final {
        std::atomic<std::uint64_t> initialized{0};
        std::atomic<std::uint64_t> data_keys{0};
        std::atomic<std::uint64_t> encrypted_files{0};
        std::array<std::atomic<std::uint64_t>, file_count> meta_size{};
        std::array<histogram, file_count * operation_count> durations{};
        std::atomic<bool> kms_used{false};
        std::array<std::atomic<std::uint64_t>, kms_operation_count * kms_outcome_count> kms_requests{};
        std::array<histogram, kms_operation_count> kms_durations{};
        std::atomic<bool> certificate_set{false};
        std::atomic<std::int64_t> certificate_not_before{0};
        std::atomic<std::int64_t> certificate_not_after{0};
        std::string labels;  // rendered constant labels, fixed after construction
    };

    static void observe(histogram& h, std::chrono::nanoseconds elapsed) noexcept {
        const std::uint64_t ns = elapsed.count() > 0 ? static_cast<std::uint64_t>(elapsed.count()) : 0;
        const auto bucket = static_cast<std::size_t>(
            std::lower_bound(bucket_bounds_ns.begin(), bucket_bounds_ns.end(), ns) - bucket_bounds_ns.begin());
        h.buckets[bucket].fetch_add(1, std::memory_order_relaxed);
        h.sum_ns.fetch_add(ns, std::memory_order_relaxed);
    }

    /// The buckets, sum and count of one histogram series; `_count` is the `+Inf` bucket.
    template <class Sample>
    static void render_histogram(std::string_view name, const std::string& labels, const histogram& h, Sample& sample) {
        std::uint64_t cumulative = 0;
        for (std::size_t b = 0; b <= bucket_bounds_ns.size(); ++b) {
            cumulative += h.buckets[b].load(std::memory_order_relaxed);
            const std::string_view le = b < bucket_bounds_text.size() ? bucket_bounds_text[b] : "+Inf";
            sample(std::string(name) + "_bucket", labels + ",le=\"" + std::string(le) + '"', std::to_string(cumulative));
        }
        sample(std::string(name) + "_sum", labels, seconds_text(h.sum_ns.load(std::memory_order_relaxed)));
        sample(std::string(name) + "_count", labels, std::to_string(cumulative));
    }

    [[nodiscard]] static std::string kms_labels(std::size_t op) {
        return "operation=\"" + std::string(to_string(static_cast<kms_operation>(op))) + '"';
    }

    [[nodiscard]] static std::string name_label(std::size_t f) {
        return "name=\"" + std::string(to_string(static_cast<meta_file>(f))) + '"';
    }
    /// Exact decimal seconds from integer nanoseconds ("1.500000000"), no floating-point rounding.
    [[nodiscard]] static std::string seconds_text(std::uint64_t ns) {
        std::string frac = std::to_string(ns % 1'000'000'000);
        return std::to_string(ns / 1'000'000'000) + "." + std::string(9 - frac.size(), '0') + frac;
    }

    std::shared_ptr<registry> m_registry;
};

static_assert(metrics_policy<prometheus_metrics>);
static_assert(key_service_metrics_policy<prometheus_metrics>);

}  // namespace atrest
