#pragma once
/// Fused AES-CTR for x86-64: counters, AES rounds and the XOR with the data in registers, one pass
/// over memory. Two widths:
///   - `aes_x86_aesni::ctr<Nr>`: 128-bit AES-NI, 8 blocks per step (AES-NI's latency × throughput
///     on current cores: 4-cycle latency, 2 per cycle), its counters made by integer code through
///     a stack array so the vector units run little but AES (`full_steps_memory_counters`);
///   - `aes_x86_vaes::ctr<Nr>`: 256-bit VAES (AVX2 registers), 2 blocks per register, 16 per step.
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
#include <atrest/detail/endian.hpp>

#include <immintrin.h>

#include <algorithm>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>

#define ATREST_AESNI_TARGET gnu::target("aes,sse4.1")

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

// The fused kernels: one body (x86_aes_body.ipp) included once per instruction set, each time in
// its own namespace after an `isa` struct that says how that set holds and steps counters.

namespace aes_x86_aesni {
#define ATREST_AES_TARGET gnu::target("aes,sse4.1")

/// 128-bit AES-NI: one block per register.
struct isa {
    using vec = __m128i;
    static constexpr int blocks = 1;
    /// Counters by integer code through memory (`full_steps_memory_counters`): on Zen 1, where the
    /// vector counter adds and XORs took issue slots from AESENC, 5.6 → 7.2 GB/s for AES-128 at
    /// 16 KiB (docs/performance.md).
    static constexpr bool counters_in_memory = true;

    [[ATREST_AES_TARGET, gnu::always_inline]] static vec round_key(const std::uint8_t* p) noexcept {
        return _mm_load_si128(reinterpret_cast<const __m128i*>(p));
    }
    /// Counter c as a little-endian 128-bit number in every lane.
    [[ATREST_AES_TARGET, gnu::always_inline]] static vec counter(counter128 c) noexcept {
        return _mm_set_epi64x(static_cast<long long>(c.hi), static_cast<long long>(c.lo));
    }
    /// Lane l of register j holds block blocks·j + l: its offset in the low 64 bits (little-endian
    /// form), or in the last byte of the big-endian form.
    [[ATREST_AES_TARGET, gnu::always_inline]] static vec step64(int j) noexcept { return _mm_set_epi64x(0, j); }
    [[ATREST_AES_TARGET, gnu::always_inline]] static vec step_last_byte(int j) noexcept {
        return _mm_set_epi32(j << 24, 0, 0, 0);
    }
    [[ATREST_AES_TARGET, gnu::always_inline]] static vec counters(const counter128* c) noexcept { return counter(c[0]); }
    [[ATREST_AES_TARGET, gnu::always_inline]] static vec bswap(vec x) noexcept {
        return _mm_shuffle_epi8(x, _mm_set_epi8(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15));
    }
    [[ATREST_AES_TARGET, gnu::always_inline]] static vec add32(vec a, vec b) noexcept { return _mm_add_epi32(a, b); }
    [[ATREST_AES_TARGET, gnu::always_inline]] static vec add64(vec a, vec b) noexcept { return _mm_add_epi64(a, b); }
    [[ATREST_AES_TARGET, gnu::always_inline]] static vec xor_(vec a, vec b) noexcept { return _mm_xor_si128(a, b); }
    [[ATREST_AES_TARGET, gnu::always_inline]] static vec aesenc(vec a, vec k) noexcept { return _mm_aesenc_si128(a, k); }
    [[ATREST_AES_TARGET, gnu::always_inline]] static vec aesenclast(vec a, vec k) noexcept {
        return _mm_aesenclast_si128(a, k);
    }
    [[ATREST_AES_TARGET, gnu::always_inline]] static vec loadu(const void* p) noexcept {
        return _mm_loadu_si128(static_cast<const __m128i*>(p));
    }
    [[ATREST_AES_TARGET, gnu::always_inline]] static void storeu(void* p, vec x) noexcept {
        _mm_storeu_si128(static_cast<__m128i*>(p), x);
    }
};

#include <atrest/cipher/kernels/x86_aes_body.ipp>
#undef ATREST_AES_TARGET
}  // namespace aes_x86_aesni

namespace aes_x86_vaes {
#define ATREST_AES_TARGET gnu::target("aes,avx2,vaes")

/// 256-bit VAES: two blocks per register, block 2j in the low lane.
struct isa {
    using vec = __m256i;
    static constexpr int blocks = 2;
    /// Counters made in vector registers: the VAES path was measured that way (Zen 3); the
    /// memory counters of the AES-NI path are not measured on a VAES CPU yet.
    static constexpr bool counters_in_memory = false;

    [[ATREST_AES_TARGET, gnu::always_inline]] static vec round_key(const std::uint8_t* p) noexcept {
        return _mm256_broadcastsi128_si256(_mm_load_si128(reinterpret_cast<const __m128i*>(p)));
    }
    [[ATREST_AES_TARGET, gnu::always_inline]] static vec counter(counter128 c) noexcept {
        return _mm256_broadcastsi128_si256(_mm_set_epi64x(static_cast<long long>(c.hi), static_cast<long long>(c.lo)));
    }
    [[ATREST_AES_TARGET, gnu::always_inline]] static vec step64(int j) noexcept {
        return _mm256_set_epi64x(0, 2 * j + 1, 0, 2 * j);
    }
    [[ATREST_AES_TARGET, gnu::always_inline]] static vec step_last_byte(int j) noexcept {
        return _mm256_set_epi32((2 * j + 1) << 24, 0, 0, 0, (2 * j) << 24, 0, 0, 0);
    }
    [[ATREST_AES_TARGET, gnu::always_inline]] static vec counters(const counter128* c) noexcept {
        return _mm256_set_epi64x(static_cast<long long>(c[1].hi), static_cast<long long>(c[1].lo),
                                 static_cast<long long>(c[0].hi), static_cast<long long>(c[0].lo));
    }
    [[ATREST_AES_TARGET, gnu::always_inline]] static vec bswap(vec x) noexcept {
        return _mm256_shuffle_epi8(x, _mm256_set_epi8(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15,  //
                                                      0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15));
    }
    [[ATREST_AES_TARGET, gnu::always_inline]] static vec add32(vec a, vec b) noexcept { return _mm256_add_epi32(a, b); }
    [[ATREST_AES_TARGET, gnu::always_inline]] static vec add64(vec a, vec b) noexcept { return _mm256_add_epi64(a, b); }
    [[ATREST_AES_TARGET, gnu::always_inline]] static vec xor_(vec a, vec b) noexcept { return _mm256_xor_si256(a, b); }
    [[ATREST_AES_TARGET, gnu::always_inline]] static vec aesenc(vec a, vec k) noexcept {
        return _mm256_aesenc_epi128(a, k);
    }
    [[ATREST_AES_TARGET, gnu::always_inline]] static vec aesenclast(vec a, vec k) noexcept {
        return _mm256_aesenclast_epi128(a, k);
    }
    [[ATREST_AES_TARGET, gnu::always_inline]] static vec loadu(const void* p) noexcept {
        return _mm256_loadu_si256(static_cast<const __m256i*>(p));
    }
    [[ATREST_AES_TARGET, gnu::always_inline]] static void storeu(void* p, vec x) noexcept {
        _mm256_storeu_si256(static_cast<__m256i*>(p), x);
    }
};

#include <atrest/cipher/kernels/x86_aes_body.ipp>
#undef ATREST_AES_TARGET
}  // namespace aes_x86_vaes

}  // namespace atrest::detail

#undef ATREST_AESNI_TARGET

#endif  // __x86_64__
