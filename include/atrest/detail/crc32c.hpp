#pragma once
/// CRC32C (Castagnoli, reflected polynomial 0x82F63B78) — the checksum of iSCSI, ext4 and
/// RocksDB. It frames metadata records so a torn or bit-rotted record is told apart from a
/// wrong key. Table-driven slice-by-8 in portable C++: metadata records are small, so hardware
/// CRC would not move any measured number.

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

namespace atrest::detail {

namespace crc32c_tables {
inline constexpr std::uint32_t polynomial = 0x82F63B78u;

consteval std::array<std::array<std::uint32_t, 256>, 8> make() {
    std::array<std::array<std::uint32_t, 256>, 8> t{};
    for (std::uint32_t i = 0; i < 256; ++i) {
        std::uint32_t c = i;
        for (int k = 0; k < 8; ++k) c = (c & 1u) ? (c >> 1) ^ polynomial : c >> 1;
        t[0][i] = c;
    }
    for (std::size_t s = 1; s < 8; ++s) {
        for (std::size_t i = 0; i < 256; ++i) t[s][i] = (t[s - 1][i] >> 8) ^ t[0][t[s - 1][i] & 0xffu];
    }
    return t;
}

inline constexpr auto table = make();
}  // namespace crc32c_tables

/// Continues a CRC32C: `crc32c_extend(crc32c(a), b) == crc32c(a || b)`.
[[nodiscard]] inline std::uint32_t crc32c_extend(std::uint32_t crc, std::span<const std::byte> data) noexcept {
    const auto& t = crc32c_tables::table;
    std::uint32_t c = ~crc;
    const auto* p = reinterpret_cast<const std::uint8_t*>(data.data());
    std::size_t n = data.size();
    while (n >= 8) {
        const std::uint32_t lo = c ^ (std::uint32_t{p[0]} | std::uint32_t{p[1]} << 8 | std::uint32_t{p[2]} << 16 |
                                      std::uint32_t{p[3]} << 24);
        c = t[7][lo & 0xff] ^ t[6][(lo >> 8) & 0xff] ^ t[5][(lo >> 16) & 0xff] ^ t[4][lo >> 24] ^ t[3][p[4]] ^
            t[2][p[5]] ^ t[1][p[6]] ^ t[0][p[7]];
        p += 8;
        n -= 8;
    }
    while (n-- > 0) c = t[0][(c ^ *p++) & 0xffu] ^ (c >> 8);
    return ~c;
}

[[nodiscard]] inline std::uint32_t crc32c(std::span<const std::byte> data) noexcept { return crc32c_extend(0, data); }

}  // namespace atrest::detail
