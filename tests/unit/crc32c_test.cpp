// CRC32C against the published check value and the RFC 3720 (iSCSI) B.4 vectors, and the
// slice-by-8 path against a bit-at-a-time reference on random data.
#include "catch.hpp"

#include <atrest/detail/crc32c.hpp>

#include <random>
#include <string_view>
#include <vector>

namespace {
std::uint32_t reference_crc32c(std::span<const std::byte> data) {
    std::uint32_t c = 0xffffffffu;
    for (auto b : data) {
        c ^= static_cast<std::uint8_t>(b);
        for (int k = 0; k < 8; ++k) c = (c & 1u) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
    }
    return ~c;
}
std::vector<std::byte> bytes_of(std::string_view s) {
    const auto* p = reinterpret_cast<const std::byte*>(s.data());
    return {p, p + s.size()};
}
}  // namespace

TEST_CASE("CRC32C matches the check value and RFC 3720 vectors", "[crc32c]") {
    using atrest::detail::crc32c;
    CHECK(crc32c(bytes_of("123456789")) == 0xE3069283u);
    CHECK(crc32c({}) == 0u);
    std::vector<std::byte> v(32, std::byte{0});
    CHECK(crc32c(v) == 0x8A9136AAu);
    std::fill(v.begin(), v.end(), std::byte{0xff});
    CHECK(crc32c(v) == 0x62A8AB43u);
    for (std::size_t i = 0; i < 32; ++i) v[i] = static_cast<std::byte>(i);
    CHECK(crc32c(v) == 0x46DD794Eu);
    for (std::size_t i = 0; i < 32; ++i) v[i] = static_cast<std::byte>(31 - i);
    CHECK(crc32c(v) == 0x113FDB5Cu);
}

TEST_CASE("CRC32C slice-by-8 equals the bitwise reference and extends incrementally", "[crc32c]") {
    std::mt19937 rng(1);
    for (int i = 0; i < 300; ++i) {
        std::vector<std::byte> data(rng() % 1000);
        for (auto& b : data) b = static_cast<std::byte>(rng());
        REQUIRE(atrest::detail::crc32c(data) == reference_crc32c(data));
        const std::size_t cut = data.empty() ? 0 : rng() % data.size();
        const auto head = std::span(data).first(cut);
        const auto tail = std::span(data).subspan(cut);
        REQUIRE(atrest::detail::crc32c_extend(atrest::detail::crc32c(head), tail) == reference_crc32c(data));
    }
}
