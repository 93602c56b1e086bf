#pragma once
/// Fused AES-CTR for x86-64: counters, AES rounds and the XOR with the data in registers, one pass
/// over memory. Two widths:
///   - `aes_ctr_aesni<Nr>`: 128-bit AES-NI, 8 blocks per step (AES-NI's latency × throughput on
///     current cores: 4-cycle latency, 2 per cycle);
///   - `aes_ctr_vaes<Nr>`: 256-bit VAES (AVX2 registers), 2 blocks per register, 16 per step.
/// A 512-bit VAES kernel is not here: it could not be tested on the machines this was written
/// on (no AVX-512), and on Intel parts 512-bit code between 256-bit AES costs more than it gives.
///
/// The key is expanded once per stream (FIPS-197 §5.2) into the stream's own round-key array;
/// SubWord uses AESENCLAST, so nothing indexes a table with key bytes, and no branch depends on
/// the key or the data (the only branches test lengths and whether the public counter is about
/// to carry across 2^64 inside a step). The counter is TiKV's: the 16-byte IV as one 128-bit
/// big-endian number, block i of byte offset o using IV + o/16 + i mod 2^128 (OpenSSL's CTR).
///
/// Compiled with function-level target attributes, so the library builds without -march flags;
/// `ctr_kernel.hpp` calls these only after the CPU reports the features.

#if defined(__x86_64__)

#include <atrest/cipher/kernels/ctr_state.hpp>
#include <atrest/cipher/kernels/two_pass.hpp>
#include <atrest/detail/botan_compat.hpp>

#include <immintrin.h>

#include <algorithm>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>

#define ATREST_AESNI_TARGET gnu::target("aes,sse4.1")
#define ATREST_VAES_TARGET gnu::target("aes,avx2,vaes")

namespace atrest::detail {

/// SubWord: the AES S-box on each byte of `w`. With the word in all four columns ShiftRows moves
/// nothing, and the last round has no MixColumns, so AESENCLAST with a zero round key is SubBytes.
[[ATREST_AESNI_TARGET]] inline std::uint32_t aes_sub_word(std::uint32_t w) noexcept {
    const __m128i x = _mm_aesenclast_si128(_mm_set1_epi32(static_cast<int>(w)), _mm_setzero_si128());
    return static_cast<std::uint32_t>(_mm_cvtsi128_si32(x));
}

/// FIPS-197 key expansion for a key of `nk` 32-bit words (4, 6 or 8) into 4·(nk+7) words, laid
/// out as AES-NI expects its round keys (the bytes in the standard's order).
[[ATREST_AESNI_TARGET]] inline void aes_expand_key(const std::byte* key, std::size_t nk, std::uint8_t* round_keys) noexcept {
    const std::size_t words = 4 * (nk + 7);
    std::uint32_t w[60];
    std::memcpy(w, key, 4 * nk);  // little-endian words: byte 0 of the key is the low byte
    std::uint32_t rcon = 1;
    for (std::size_t i = nk; i < words; ++i) {
        std::uint32_t t = w[i - 1];
        if (i % nk == 0) {
            t = aes_sub_word(std::rotr(t, 8)) ^ rcon;  // RotWord moves byte 1 to byte 0
            rcon = (rcon << 1) ^ ((rcon >> 7) * 0x11b);
        } else if (nk > 6 && i % nk == 4) {
            t = aes_sub_word(t);
        }
        w[i] = w[i - nk] ^ t;
    }
    std::memcpy(round_keys, w, 4 * words);
    botan_compat::secure_scrub(w, sizeof w);
}

// ---- 128-bit AES-NI ----------------------------------------------------------------------------

/// Reverses the 16 bytes of a block: a counter held as a little-endian 128-bit number becomes
/// the big-endian block AES encrypts.
[[ATREST_AESNI_TARGET, gnu::always_inline]] inline __m128i bswap128(__m128i x) noexcept {
    return _mm_shuffle_epi8(x, _mm_set_epi8(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15));
}

/// Round keys read from the stream's array where they are used (short calls: no set-up).
struct aesni_key_memory {
    const std::uint8_t* p;
    [[ATREST_AESNI_TARGET, gnu::always_inline]] __m128i operator[](int r) const noexcept {
        return _mm_load_si128(reinterpret_cast<const __m128i*>(p + 16 * r));
    }
};

/// Keystream blocks c, c+1, …, c+M-1 into x[0..M); `rk[r]` is round key r. Counters are made with one byte swap and a
/// 32-bit add per block on the big-endian form where the step stays inside the last byte (most
/// steps), else with 64-bit adds on the little-endian form and a byte swap each, else (a carry
/// into the high half inside the step) one by one.
template <int Nr, int M, class Keys>
[[ATREST_AESNI_TARGET, gnu::always_inline]] inline void aesni_keystream(const Keys& rk, counter128 c, __m128i* x) noexcept {
    if ((c.lo & 0xff) <= 256 - M) {  // no carry out of the last byte in this step: add to that byte
        const __m128i base = bswap128(_mm_set_epi64x(static_cast<long long>(c.hi), static_cast<long long>(c.lo)));
#pragma GCC unroll 16
        for (int j = 0; j < M; ++j) x[j] = _mm_add_epi32(base, _mm_set_epi32(j << 24, 0, 0, 0));
    } else if (c.lo <= ~std::uint64_t{0} - (M - 1)) {  // no carry into the high half in this step
        const __m128i base = _mm_set_epi64x(static_cast<long long>(c.hi), static_cast<long long>(c.lo));
#pragma GCC unroll 16
        for (int j = 0; j < M; ++j) x[j] = _mm_add_epi64(base, _mm_set_epi64x(0, j));
    } else {
#pragma GCC unroll 16
        for (int j = 0; j < M; ++j) {
            const counter128 cj = counter_add(c, static_cast<std::uint64_t>(j));
            x[j] = _mm_set_epi64x(static_cast<long long>(cj.hi), static_cast<long long>(cj.lo));
        }
    }
    if ((c.lo & 0xff) > 256 - M) {
#pragma GCC unroll 16
        for (int j = 0; j < M; ++j) x[j] = bswap128(x[j]);
    }
#pragma GCC unroll 16
    for (int j = 0; j < M; ++j) x[j] = _mm_xor_si128(x[j], rk[0]);
#pragma GCC unroll 16
    for (int r = 1; r < Nr; ++r) {
#pragma GCC unroll 16
        for (int j = 0; j < M; ++j) x[j] = _mm_aesenc_si128(x[j], rk[r]);
    }
#pragma GCC unroll 16
    for (int j = 0; j < M; ++j) x[j] = _mm_aesenclast_si128(x[j], rk[Nr]);
}

/// Up to M blocks through a stack buffer: bytes [skip, skip+len) of the keystream from counter c.
template <int Nr, int M>
[[ATREST_AESNI_TARGET, gnu::always_inline]] inline void aesni_partial(aesni_key_memory rk, counter128 c, std::size_t skip,
                                                                      const std::byte* in, std::byte* out,
                                                                      std::size_t len) noexcept {
    __m128i x[M];
    aesni_keystream<Nr, M>(rk, c, x);
    alignas(16) std::uint8_t ks[M * 16];
#pragma GCC unroll 16
    for (int j = 0; j < M; ++j) _mm_store_si128(reinterpret_cast<__m128i*>(ks + 16 * j), x[j]);
    xor_into_w<16>(out, in, ks + skip, len);
}

/// Keystream bytes [skip, skip+len) from counter c, skip+len <= 128: the smallest group that covers them.
template <int Nr>
[[ATREST_AESNI_TARGET]] inline void aesni_short(aesni_key_memory rk, counter128 c, std::size_t skip, const std::byte* in,
                                                std::byte* out, std::size_t len) noexcept {
    const std::size_t blocks = (skip + len + 15) / 16;
    if (blocks <= 1) return aesni_partial<Nr, 1>(rk, c, skip, in, out, len);
    if (blocks <= 2) return aesni_partial<Nr, 2>(rk, c, skip, in, out, len);
    if (blocks <= 4) return aesni_partial<Nr, 4>(rk, c, skip, in, out, len);
    aesni_partial<Nr, 8>(rk, c, skip, in, out, len);
}

template <int Nr>
[[ATREST_AESNI_TARGET]] void aes_ctr_aesni(const ctr_state& s, std::uint64_t offset, const std::byte* in, std::byte* out,
                                           std::size_t n) {
    constexpr int M = 8;
    constexpr std::size_t step = M * 16;
    const aesni_key_memory keys{s.round_keys};
    counter128 c = counter_at(s, offset);
    std::size_t pos = 0;
    if (const std::size_t skip = static_cast<std::size_t>(offset % 16); skip != 0 || n < step) {
        pos = std::min(n, step - skip);
        aesni_short<Nr>(keys, c, skip, in, out, pos);
        c = counter_add(c, (skip + pos + 15) / 16);
    }
    if (n - pos < step) {
        if (pos < n) aesni_short<Nr>(keys, c, 0, in + pos, out + pos, n - pos);
        return;
    }
    __m128i rk[Nr + 1];
#pragma GCC unroll 16
    for (int r = 0; r <= Nr; ++r) rk[r] = keys[r];
    for (; n - pos >= step; pos += step) {
        __m128i x[M];
        aesni_keystream<Nr, M>(rk, c, x);
#pragma GCC unroll 16
        for (int j = 0; j < M; ++j) {
            const __m128i d = _mm_loadu_si128(reinterpret_cast<const __m128i*>(in + pos + 16 * j));
            _mm_storeu_si128(reinterpret_cast<__m128i*>(out + pos + 16 * j), _mm_xor_si128(d, x[j]));
        }
        c = counter_add(c, M);
    }
    if (pos < n) aesni_short<Nr>(keys, c, 0, in + pos, out + pos, n - pos);
}

// ---- 256-bit VAES ------------------------------------------------------------------------------

[[ATREST_VAES_TARGET, gnu::always_inline]] inline __m256i bswap128x2(__m256i x) noexcept {
    return _mm256_shuffle_epi8(x, _mm256_set_epi8(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15,  //
                                                  0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15));
}

/// Round keys read from the stream's array where they are used (short calls: no set-up).
struct vaes_key_memory {
    const std::uint8_t* p;
    [[ATREST_VAES_TARGET, gnu::always_inline]] __m256i operator[](int r) const noexcept {
        return _mm256_broadcastsi128_si256(_mm_load_si128(reinterpret_cast<const __m128i*>(p + 16 * r)));
    }
};

/// Keystream blocks c, …, c+2M-1 into x[0..M), two per register (block 2j in the low lane).
template <int Nr, int M, class Keys>
[[ATREST_VAES_TARGET, gnu::always_inline]] inline void vaes_keystream(const Keys& rk, counter128 c, __m256i* x) noexcept {
    const bool in_last_byte = (c.lo & 0xff) <= 256 - 2 * M;
    if (in_last_byte) {  // no carry out of the last byte in this step: add to that byte
        const __m256i base = bswap128x2(_mm256_broadcastsi128_si256(
            _mm_set_epi64x(static_cast<long long>(c.hi), static_cast<long long>(c.lo))));
#pragma GCC unroll 16
        for (int j = 0; j < M; ++j) x[j] = _mm256_add_epi32(base, _mm256_set_epi32((2 * j + 1) << 24, 0, 0, 0, (2 * j) << 24, 0, 0, 0));
    } else if (c.lo <= ~std::uint64_t{0} - (2 * M - 1)) {
        const __m256i base = _mm256_broadcastsi128_si256(
            _mm_set_epi64x(static_cast<long long>(c.hi), static_cast<long long>(c.lo)));
#pragma GCC unroll 16
        for (int j = 0; j < M; ++j) x[j] = _mm256_add_epi64(base, _mm256_set_epi64x(0, 2 * j + 1, 0, 2 * j));
    } else {
#pragma GCC unroll 16
        for (int j = 0; j < M; ++j) {
            const counter128 a = counter_add(c, static_cast<std::uint64_t>(2 * j));
            const counter128 b = counter_add(c, static_cast<std::uint64_t>(2 * j + 1));
            x[j] = _mm256_set_epi64x(static_cast<long long>(b.hi), static_cast<long long>(b.lo),
                                     static_cast<long long>(a.hi), static_cast<long long>(a.lo));
        }
    }
    if (!in_last_byte) {
#pragma GCC unroll 16
        for (int j = 0; j < M; ++j) x[j] = bswap128x2(x[j]);
    }
#pragma GCC unroll 16
    for (int j = 0; j < M; ++j) x[j] = _mm256_xor_si256(x[j], rk[0]);
#pragma GCC unroll 16
    for (int r = 1; r < Nr; ++r) {
#pragma GCC unroll 16
        for (int j = 0; j < M; ++j) x[j] = _mm256_aesenc_epi128(x[j], rk[r]);
    }
#pragma GCC unroll 16
    for (int j = 0; j < M; ++j) x[j] = _mm256_aesenclast_epi128(x[j], rk[Nr]);
}

template <int Nr, int M>
[[ATREST_VAES_TARGET, gnu::always_inline]] inline void vaes_partial(vaes_key_memory rk, counter128 c, std::size_t skip,
                                                                    const std::byte* in, std::byte* out,
                                                                    std::size_t len) noexcept {
    __m256i x[M];
    vaes_keystream<Nr, M>(rk, c, x);
    alignas(32) std::uint8_t ks[M * 32];
#pragma GCC unroll 16
    for (int j = 0; j < M; ++j) _mm256_store_si256(reinterpret_cast<__m256i*>(ks + 32 * j), x[j]);
    xor_into_w<32>(out, in, ks + skip, len);
}

/// Keystream bytes [skip, skip+len) from counter c, skip+len <= 256.
template <int Nr>
[[ATREST_VAES_TARGET]] inline void vaes_short(vaes_key_memory rk, counter128 c, std::size_t skip, const std::byte* in,
                                              std::byte* out, std::size_t len) noexcept {
    const std::size_t blocks = (skip + len + 15) / 16;
    if (blocks <= 2) return vaes_partial<Nr, 1>(rk, c, skip, in, out, len);
    if (blocks <= 4) return vaes_partial<Nr, 2>(rk, c, skip, in, out, len);
    if (blocks <= 8) return vaes_partial<Nr, 4>(rk, c, skip, in, out, len);
    vaes_partial<Nr, 8>(rk, c, skip, in, out, len);
}

template <int Nr>
[[ATREST_VAES_TARGET]] void aes_ctr_vaes(const ctr_state& s, std::uint64_t offset, const std::byte* in, std::byte* out,
                                         std::size_t n) {
    constexpr int M = 8;
    constexpr std::size_t step = M * 32;
    const vaes_key_memory keys{s.round_keys};
    counter128 c = counter_at(s, offset);
    std::size_t pos = 0;
    if (const std::size_t skip = static_cast<std::size_t>(offset % 16); skip != 0 || n < step) {
        pos = std::min(n, step - skip);
        vaes_short<Nr>(keys, c, skip, in, out, pos);
        c = counter_add(c, (skip + pos + 15) / 16);
    }
    if (n - pos < step) {
        if (pos < n) vaes_short<Nr>(keys, c, 0, in + pos, out + pos, n - pos);
        return;
    }
    __m256i rk[Nr + 1];
#pragma GCC unroll 16
    for (int r = 0; r <= Nr; ++r) rk[r] = keys[r];
    for (; n - pos >= step; pos += step) {
        __m256i x[M];
        vaes_keystream<Nr, M>(rk, c, x);
#pragma GCC unroll 16
        for (int j = 0; j < M; ++j) {
            const __m256i d = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(in + pos + 32 * j));
            _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + pos + 32 * j), _mm256_xor_si256(d, x[j]));
        }
        c = counter_add(c, 2 * M);
    }
    if (pos < n) vaes_short<Nr>(keys, c, 0, in + pos, out + pos, n - pos);
}

}  // namespace atrest::detail

#endif  // __x86_64__
