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

}  // namespace atrest
