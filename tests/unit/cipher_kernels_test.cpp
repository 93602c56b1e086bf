// The CTR engine's vector kernels (16-, 32- and 64-byte) against plain scalar code, each width on
// its own, whatever the dispatcher would pick on this CPU; widths the CPU lacks are skipped.
// Together with the OpenSSL differential test (which runs the dispatched width) this covers every
// kernel on a machine with AVX-512.
#include "catch.hpp"

#include <atrest/cipher.hpp>

#include <algorithm>
#include <array>
#include <cstring>
#include <random>
#include <vector>

namespace {

using atrest::detail::ctr_simd;

bool cpu_has(ctr_simd level) { return static_cast<int>(atrest::detail::ctr_simd_level()) >= static_cast<int>(level); }

template <class Kernels>
void check_fill(std::mt19937_64& rng) {
    constexpr std::size_t guard = 64;
    for (int i = 0; i < 2000; ++i) {
        const std::uint64_t hi = rng();
        std::uint64_t lo = rng();
        if (i % 3 == 0) lo |= 0xffffffffffffff00u;  // next to the 2^64 carry, which must not happen
        const std::size_t blocks = 1 + rng() % atrest::detail::ctr_batch_blocks;
        // The batch may not pass a multiple of 256 (ctr_crypt's guarantee); every third case ends
        // exactly on one.
        const std::uint64_t last_byte = (i % 3 == 2) ? 256 - blocks : rng() % (256 - blocks + 1);
        lo = (lo & ~std::uint64_t{0xff}) | last_byte;
        std::vector<std::uint8_t> got(atrest::detail::ctr_batch_blocks * 16 + guard, 0xa5);
        std::uint64_t hi_mem;
        std::uint64_t lo_mem;
        atrest::detail::store_be(&hi_mem, hi);
        atrest::detail::store_be(&lo_mem, lo);
        Kernels::fill(got.data(), hi_mem, lo_mem, blocks);
        INFO("case " << i << " blocks " << blocks << " lo " << lo);
        for (std::size_t b = 0; b < blocks; ++b) {
            std::array<std::uint8_t, 16> want;
            atrest::detail::store_be(want.data(), hi);
            atrest::detail::store_be(want.data() + 8, lo + b);
            REQUIRE(std::memcmp(got.data() + b * 16, want.data(), 16) == 0);
        }
        // Only whole vectors are written: never past the batch buffer.
        CHECK(std::all_of(got.end() - guard, got.end(), [](std::uint8_t v) { return v == 0xa5; }));
    }
}

template <class Kernels>
void check_xor(std::mt19937_64& rng) {
    for (std::size_t n = 0; n < 400; ++n) {
        const std::size_t shift = rng() % 16;  // misaligned pointers
        std::vector<std::byte> in(n + 16);
        std::vector<std::uint8_t> ks(n + 16);
        for (auto& b : in) b = static_cast<std::byte>(rng());
        for (auto& b : ks) b = static_cast<std::uint8_t>(rng());
        std::vector<std::byte> want(n);
        for (std::size_t i = 0; i < n; ++i) want[i] = in[shift + i] ^ static_cast<std::byte>(ks[i + 1]);
        std::vector<std::byte> out(n + 1, std::byte{0x5a});
        Kernels::xor_into(out.data(), in.data() + shift, ks.data() + 1, n);
        INFO("length " << n);
        REQUIRE(std::equal(want.begin(), want.end(), out.begin()));
        CHECK(out[n] == std::byte{0x5a});
        Kernels::xor_into(in.data() + shift, in.data() + shift, ks.data() + 1, n);  // in place
        REQUIRE(std::equal(want.begin(), want.end(), in.begin() + static_cast<std::ptrdiff_t>(shift)));
    }
}

/// A whole `ctr_crypt` with these kernels and any rounding of the last batch equals
/// `ctr_stream::apply` (checked against OpenSSL by the differential test) for random offsets and
/// lengths and IVs next to every carry.
template <class Kernels>
void check_crypt(std::mt19937_64& rng) {
    std::array<std::byte, 16> key;
    for (auto& b : key) b = static_cast<std::byte>(rng());
    const auto cipher = atrest::detail::botan_compat::make_block_cipher("AES-128");
    cipher->set_key(reinterpret_cast<const std::uint8_t*>(key.data()), key.size());
    for (int i = 0; i < 600; ++i) {
        std::array<std::byte, 16> iv;
        for (auto& b : iv) b = static_cast<std::byte>(rng());
        if (i % 4 == 1) std::fill(iv.begin() + 8, iv.end(), std::byte{0xff});
        if (i % 4 == 2) std::fill(iv.begin(), iv.end(), std::byte{0xff});
        if (i % 4 == 3) iv[15] = std::byte{0xfe};
        const atrest::ctr_stream<atrest::aes128_ctr> stream(key, iv);
        const std::uint64_t offset = rng() % 50000;
        const std::size_t parallel = 1 + rng() % atrest::detail::ctr_batch_blocks;  // any group width
        std::vector<std::byte> in(rng() % 5000);
        for (auto& b : in) b = static_cast<std::byte>(rng());
        std::vector<std::byte> want(in.size());
        stream.apply(offset, in, want);
        std::vector<std::byte> got(in.size());
        const atrest::detail::ctr_context ctx{*cipher, atrest::detail::load_be<std::uint64_t>(iv.data()),
                                              atrest::detail::load_be<std::uint64_t>(iv.data() + 8), parallel};
        atrest::detail::ctr_crypt<Kernels>(ctx, offset, in.data(), got.data(), in.size());
        INFO("case " << i << " offset " << offset << " length " << in.size());
        REQUIRE(got == want);
    }
}

template <class Kernels>
void check_all(ctr_simd level) {
    if (!cpu_has(level)) {
        WARN("this CPU lacks vector width " << static_cast<int>(level) << "; kernels not run");
        return;
    }
    std::mt19937_64 rng(42 + static_cast<int>(level));
    check_fill<Kernels>(rng);
    check_xor<Kernels>(rng);
    check_crypt<Kernels>(rng);
}

}  // namespace

TEST_CASE("CTR counter and XOR kernels equal scalar code at 16-byte width", "[cipher][kernels]") {
    check_all<atrest::detail::ctr_kernels_v128>(ctr_simd::v128);
}

#if defined(__x86_64__)
TEST_CASE("CTR counter and XOR kernels equal scalar code at 32-byte width (AVX2)", "[cipher][kernels]") {
    check_all<atrest::detail::ctr_kernels_v256>(ctr_simd::v256);
}

TEST_CASE("CTR counter and XOR kernels equal scalar code at 64-byte width (AVX-512)", "[cipher][kernels]") {
    check_all<atrest::detail::ctr_kernels_v512>(ctr_simd::v512);
}
#endif
