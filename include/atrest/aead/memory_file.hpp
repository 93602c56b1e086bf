#pragma once
/// A byte vector as a writable file policy: sealed streams in memory (the object layer's sealed
/// keys, tests, fuzzing, benchmarks). `name` labels it in error messages.

#include <atrest/file/concepts.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace atrest {

class memory_file final {
public:
    explicit memory_file(std::string name = "memory", std::vector<std::byte> bytes = {})
        : m_name(std::move(name)), m_bytes(std::move(bytes)) {}

    [[nodiscard]] std::size_t read_at(std::uint64_t offset, std::span<std::byte> out) const {
        if (offset >= m_bytes.size()) return 0;
        const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(out.size(), m_bytes.size() - offset));
        if (n != 0) std::memcpy(out.data(), m_bytes.data() + offset, n);
        return n;
    }

    [[nodiscard]] std::size_t write_at(std::uint64_t offset, std::span<const std::byte> data) {
        const auto end = static_cast<std::size_t>(offset + data.size());
        if (end > m_bytes.size()) m_bytes.resize(end);
        if (!data.empty()) std::memcpy(m_bytes.data() + offset, data.data(), data.size());
        return data.size();
    }

    void sync() noexcept {}
    void truncate(std::uint64_t size) { m_bytes.resize(static_cast<std::size_t>(size)); }
    [[nodiscard]] std::uint64_t size() const noexcept { return m_bytes.size(); }
    [[nodiscard]] std::string_view name() const noexcept { return m_name; }

    [[nodiscard]] const std::vector<std::byte>& bytes() const noexcept { return m_bytes; }
    [[nodiscard]] std::vector<std::byte>& bytes() noexcept { return m_bytes; }

private:
    std::string m_name;
    std::vector<std::byte> m_bytes;
};

static_assert(writable_file<memory_file>);

}  // namespace atrest
