// prometheus_metrics: values fed from several threads, rendered, parsed back from the exposition
// text and checked number by number; label escaping, constant labels and their errors; the
// rendered text passes the real linter, `promtool check metrics`.
#include "catch.hpp"
#include "promtool.hpp"

#include <atrest/metrics/prometheus_metrics.hpp>

#include <array>
#include <chrono>
#include <cstdint>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

using namespace std::chrono_literals;
using atrest::meta_file;
using atrest::meta_operation;

namespace {

struct parsed_text final {
    std::map<std::string, std::string> samples;  // "name{labels}" -> value text
    std::map<std::string, std::string> types;    // metric family -> TYPE
    std::map<std::string, std::string> helps;
};

/// A strict reader of the subset of the text format we emit: comment lines are HELP or TYPE,
/// sample lines are `name[{labels}] value`, a family's TYPE precedes its samples.
parsed_text parse(const std::string& text) {
    parsed_text out;
    std::istringstream in(text);
    std::string line;
    std::string current_family;
    REQUIRE(!text.empty());
    REQUIRE(text.back() == '\n');
    while (std::getline(in, line)) {
        REQUIRE(!line.empty());
        if (line.starts_with("# HELP ")) {
            const auto rest = line.substr(7);
            const auto space = rest.find(' ');
            REQUIRE(space != std::string::npos);
            out.helps[rest.substr(0, space)] = rest.substr(space + 1);
        } else if (line.starts_with("# TYPE ")) {
            const auto rest = line.substr(7);
            const auto space = rest.find(' ');
            REQUIRE(space != std::string::npos);
            current_family = rest.substr(0, space);
            REQUIRE(out.helps.count(current_family) == 1);
            out.types[current_family] = rest.substr(space + 1);
        } else {
            REQUIRE(line[0] != '#');
            const auto space = line.rfind(' ');
            REQUIRE(space != std::string::npos);
            const std::string series = line.substr(0, space);
            INFO(line);
            REQUIRE(series.starts_with(current_family));  // samples follow their TYPE line
            REQUIRE(out.samples.count(series) == 0);      // no duplicate series
            out.samples[series] = line.substr(space + 1);
        }
    }
    return out;
}

std::uint64_t number(const parsed_text& t, const std::string& series) {
    INFO(series);
    REQUIRE(t.samples.count(series) == 1);
    return std::stoull(t.samples.at(series));
}

const std::string hist = "atrest_encryption_write_read_file_duration_seconds";

}  // namespace

TEST_CASE("prometheus_metrics starts at zero and renders every family", "[metrics]") {
    const atrest::prometheus_metrics m;
    const auto t = parse(m.render());
    CHECK(t.types.at("atrest_encryption_is_initialized") == "gauge");
    CHECK(t.types.at("atrest_encryption_data_keys") == "gauge");
    CHECK(t.types.at("atrest_encryption_file_dictionary_entries") == "gauge");
    CHECK(t.types.at("atrest_encryption_meta_file_size_bytes") == "gauge");
    CHECK(t.types.at(hist) == "histogram");
    CHECK(t.types.size() == 5);
    for (const auto& [family, type] : t.types) {  // Prometheus' naming rules, as promtool applies them
        INFO(family);
        CHECK(family.ends_with("_total") == (type == "counter"));
    }
    CHECK(number(t, "atrest_encryption_is_initialized") == 0);
    CHECK(number(t, "atrest_encryption_meta_file_size_bytes{name=\"key_dictionary\"}") == 0);
    // 4 histograms x (17 buckets + sum + count) + 5 single gauges (two of them sizes).
    CHECK(t.samples.size() == 4 * 19 + 5);
    CHECK(t.samples.at(hist + "_sum{type=\"file_dictionary\",operation=\"read\"}") == "0.000000000");
}

TEST_CASE("prometheus_metrics counts values fed from several threads", "[metrics][threads]") {
    atrest::prometheus_metrics m;
    atrest::prometheus_metrics handle = m;  // copies share the registry
    static constexpr int threads = 4;
    static constexpr int rounds = 1000;
    // Durations in ns chosen on, just below and just above bucket bounds.
    static constexpr std::array<std::int64_t, 8> durations = {0, 100'000, 100'001, 999'999, 1'000'000, 10'000'000'000,
                                                       10'000'000'001, -5};
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t) {
        pool.emplace_back([&m, t] {
            const auto file = t % 2 == 0 ? meta_file::file_dictionary : meta_file::key_dictionary;
            for (int i = 0; i < rounds; ++i) {
                for (auto ns : durations) m.observe_meta_duration(file, meta_operation::write, std::chrono::nanoseconds(ns));
                m.observe_meta_duration(file, meta_operation::read, 2ms);
                m.set_meta_file_size(file, static_cast<std::uint64_t>(1000 + t % 2));
                m.set_data_key_count(3);
                m.set_encrypted_file_count(128'000);
                m.set_initialized(true);
            }
        });
    }
    for (auto& th : pool) th.join();

    const auto t = parse(handle.render());
    CHECK(number(t, "atrest_encryption_is_initialized") == 1);
    CHECK(number(t, "atrest_encryption_data_keys") == 3);
    CHECK(number(t, "atrest_encryption_file_dictionary_entries") == 128'000);
    CHECK(number(t, "atrest_encryption_meta_file_size_bytes{name=\"file_dictionary\"}") == 1000);
    CHECK(number(t, "atrest_encryption_meta_file_size_bytes{name=\"key_dictionary\"}") == 1001);

    const std::uint64_t per_file = (threads / 2) * rounds;  // rounds per file per operation
    for (const std::string type : {"file_dictionary", "key_dictionary"}) {
        const std::string w = "type=\"" + type + "\",operation=\"write\"";
        auto bucket = [&](const std::string& le) { return number(t, hist + "_bucket{" + w + ",le=\"" + le + "\"}"); };
        CHECK(bucket("0.0001") == 3 * per_file);     // 0, 100000 and the negative one (clamped to 0)
        CHECK(bucket("0.00025") == 4 * per_file);    // + 100001
        CHECK(bucket("0.0005") == 4 * per_file);
        CHECK(bucket("0.001") == 6 * per_file);      // + 999999 and 1000000
        CHECK(bucket("5") == 6 * per_file);
        CHECK(bucket("10") == 7 * per_file);         // + exactly 10 s
        CHECK(bucket("+Inf") == 8 * per_file);       // + 10 s and 1 ns
        CHECK(number(t, hist + "_count{" + w + "}") == 8 * per_file);
        // Sum per round: 0 + 100000 + 100001 + 999999 + 1000000 + 10e9 + 10e9+1 + 0 = 20002200001 ns.
        const std::uint64_t sum_ns = 20'002'200'001ULL * per_file;
        const std::string expected_sum = std::to_string(sum_ns / 1'000'000'000) + "." +
                                         std::string(9 - std::to_string(sum_ns % 1'000'000'000).size(), '0') +
                                         std::to_string(sum_ns % 1'000'000'000);
        CHECK(t.samples.at(hist + "_sum{" + w + "}") == expected_sum);

        const std::string r = "type=\"" + type + "\",operation=\"read\"";
        CHECK(number(t, hist + "_bucket{" + r + ",le=\"0.001\"}") == 0);
        CHECK(number(t, hist + "_bucket{" + r + ",le=\"0.0025\"}") == per_file);
        CHECK(number(t, hist + "_count{" + r + "}") == per_file);
        CHECK(t.samples.at(hist + "_sum{" + r + "}") == std::to_string(2 * per_file / 1000) + ".000000000");
    }
    // Buckets are cumulative and listed in increasing order of le.
    std::uint64_t previous = 0;
    for (auto le : atrest::prometheus_metrics::bucket_bounds_text) {
        const auto n = number(t, hist + "_bucket{type=\"key_dictionary\",operation=\"write\",le=\"" + std::string(le) + "\"}");
        CHECK(n >= previous);
        previous = n;
    }
    m.set_initialized(false);
    CHECK(number(parse(handle.render()), "atrest_encryption_is_initialized") == 0);
}

TEST_CASE("prometheus_metrics renders constant labels escaped", "[metrics]") {
    const atrest::prometheus_metrics m({{"db", "kv"}, {"path", "C:\\data\n\"x\""}});
    const auto t = parse(m.render());
    const std::string labels = "db=\"kv\",path=\"C:\\\\data\\n\\\"x\\\"\"";
    CHECK(number(t, "atrest_encryption_is_initialized{" + labels + "}") == 0);
    CHECK(number(t, "atrest_encryption_meta_file_size_bytes{" + labels + ",name=\"file_dictionary\"}") == 0);
    CHECK(number(t, hist + "_bucket{" + labels + ",type=\"key_dictionary\",operation=\"read\",le=\"+Inf\"}") == 0);
    CHECK(atrest::detail::escape_label_value("a\\b\"c\nd") == "a\\\\b\\\"c\\nd");
}

TEST_CASE("prometheus_metrics rejects bad constant label names", "[metrics]") {
    using labels = std::vector<std::pair<std::string, std::string>>;
    for (const labels& bad : {labels{{"", "x"}}, labels{{"1db", "x"}}, labels{{"d-b", "x"}}, labels{{"__name", "x"}},
                              labels{{"le", "x"}}, labels{{"type", "x"}}, labels{{"name", "x"}},
                              labels{{"operation", "x"}}, labels{{"db", "a"}, {"db", "b"}}}) {
        INFO(bad.back().first);
        try {
            atrest::prometheus_metrics m(bad);
            FAIL("accepted");
        } catch (const atrest::error& e) {
            CHECK(e.kind() == atrest::errc::invalid_argument);
            CHECK(std::string_view(e.what()).find(bad.back().first) != std::string_view::npos);
        }
    }
    CHECK_NOTHROW(atrest::prometheus_metrics(labels{{"_db", "x"}, {"Db9", ""}}));
}

TEST_CASE("promtool check metrics finds nothing to say about the rendered text", "[metrics][promtool]") {
    // The linter is live: it rejects what TiKV (and atrest before) exported, a gauge named _total.
    const auto tikv = atrest_test::promtool_check_metrics(
        "# HELP tikv_encryption_data_key_storage_total Number of data keys.\n"
        "# TYPE tikv_encryption_data_key_storage_total gauge\ntikv_encryption_data_key_storage_total 3\n");
    CHECK(tikv.exit_code != 0);
    CHECK((tikv.out + tikv.err).find("non-counter metrics should not have \"_total\" suffix") != std::string::npos);

    atrest::prometheus_metrics m({{"db", "kv"}, {"path", "/data/\"x\"\n"}});
    atrest_test::require_promtool_clean(m.render());  // all zero
    m.set_initialized(true);
    m.set_data_key_count(4);
    m.set_encrypted_file_count(1234);
    m.set_meta_file_size(meta_file::file_dictionary, 4096);
    m.set_meta_file_size(meta_file::key_dictionary, 300);
    for (auto ns : {0LL, 150'000LL, 3'000'000LL, 20'000'000'000LL}) {
        m.observe_meta_duration(meta_file::key_dictionary, meta_operation::write, std::chrono::nanoseconds(ns));
        m.observe_meta_duration(meta_file::file_dictionary, meta_operation::read, std::chrono::nanoseconds(ns));
    }
    atrest_test::require_promtool_clean(m.render());
    atrest_test::require_promtool_clean(atrest::prometheus_metrics().render());  // no constant labels
}
