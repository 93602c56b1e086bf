// The SM4 block kernel for AVX2 registers, included by x86_sm4.hpp once per instruction set,
// each time inside its own namespace with ATREST_SM4_TARGET (the function target attribute) and
// ATREST_SM4_VAES (1: AESENCLAST on 256-bit registers; 0: on two 128-bit halves) defined. Not a
// header of its own.
//
// Layout: a group is 8 blocks in 4 registers, register j holding word j of every block (after a
// 4×4 transpose inside each 128-bit lane), every byte in M-domain (x86_sm4.hpp); G groups run side
// by side (up to 8: the state then lives in the stack frame, which costs less than the round
// latency it hides). With the whitened words S (sm4_expand_key), round i is
//   y = AESENCLAST(S1 ^ S2 ^ S3, K_i)                  (S-box in AES's field, then ShiftRows)
//   S0 ^= P0(A(y)) ^ P8(B(y)) ^ P16(B(y)) ^ P24(A(y) ^ B(y))
// (A, B: nibble tables; Pk: one PSHUFB that undoes ShiftRows and rotates by k bits).

struct constants {
    __m256i nib;
    __m256i a_lo;
    __m256i a_hi;
    __m256i b_lo;
    __m256i b_hi;
    __m256i rot[4];
};

[[ATREST_SM4_TARGET, gnu::always_inline]] inline __m256i broadcast16(const std::array<std::uint8_t, 16>& t) noexcept {
    return _mm256_broadcastsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(t.data())));
}

[[ATREST_SM4_TARGET, gnu::always_inline]] inline constants load_constants() noexcept {
    return {_mm256_set1_epi8(0x0f),
            broadcast16(sm4_out_a_tables.lo),
            broadcast16(sm4_out_a_tables.hi),
            broadcast16(sm4_out_b_tables.lo),
            broadcast16(sm4_out_b_tables.hi),
            {broadcast16(sm4_unshift_rotl[0]), broadcast16(sm4_unshift_rotl[1]), broadcast16(sm4_unshift_rotl[2]),
             broadcast16(sm4_unshift_rotl[3])}};
}

/// A per-byte map through its two nibble tables, the nibbles of the input given.
[[ATREST_SM4_TARGET, gnu::always_inline]] inline __m256i lookup(__m256i lo_nibbles, __m256i hi_nibbles, __m256i lo,
                                                                __m256i hi) noexcept {
    return _mm256_xor_si256(_mm256_shuffle_epi8(lo, lo_nibbles), _mm256_shuffle_epi8(hi, hi_nibbles));
}

/// A per-byte map given as nibble tables, on every byte of `x`.
[[ATREST_SM4_TARGET, gnu::always_inline]] inline __m256i map_bytes(__m256i x, const nibble_tables& t) noexcept {
    const __m256i nib = _mm256_set1_epi8(0x0f);
    return lookup(_mm256_and_si256(x, nib), _mm256_and_si256(_mm256_srli_epi16(x, 4), nib), broadcast16(t.lo),
                  broadcast16(t.hi));
}

/// SubBytes, ShiftRows and `key` on each 128-bit lane (AESENCLAST).
[[ATREST_SM4_TARGET, gnu::always_inline]] inline __m256i aes_last_round(__m256i x, __m256i key) noexcept {
#if ATREST_SM4_VAES
    return _mm256_aesenclast_epi128(x, key);
#else
    const __m128i k = _mm256_castsi256_si128(key);  // the same in both lanes
    const __m128i lo = _mm_aesenclast_si128(_mm256_castsi256_si128(x), k);
    const __m128i hi = _mm_aesenclast_si128(_mm256_extracti128_si256(x, 1), k);
    return _mm256_inserti128_si256(_mm256_castsi128_si256(lo), hi, 1);
#endif
}

/// The round function on 8 words of S-box input `x` (M-domain, constant included), with the
/// round's AESENCLAST key.
[[ATREST_SM4_TARGET, gnu::always_inline]] inline __m256i sm4_t(__m256i x, __m256i key, const constants& k) noexcept {
    const __m256i y = aes_last_round(x, key);
    const __m256i lo = _mm256_and_si256(y, k.nib);
    const __m256i hi = _mm256_and_si256(_mm256_srli_epi16(y, 4), k.nib);
    const __m256i a = lookup(lo, hi, k.a_lo, k.a_hi);
    const __m256i b = lookup(lo, hi, k.b_lo, k.b_hi);
    const __m256i c = _mm256_xor_si256(a, b);
    return _mm256_xor_si256(_mm256_xor_si256(_mm256_shuffle_epi8(a, k.rot[0]), _mm256_shuffle_epi8(b, k.rot[1])),
                            _mm256_xor_si256(_mm256_shuffle_epi8(b, k.rot[2]), _mm256_shuffle_epi8(c, k.rot[3])));
}

/// `word` (4 bytes at `p`) in every 32-bit lane.
[[ATREST_SM4_TARGET, gnu::always_inline]] inline __m256i broadcast_word(const std::uint8_t* p) noexcept {
    std::uint32_t w;
    std::memcpy(&w, p, 4);
    return _mm256_set1_epi32(static_cast<int>(w));
}

/// Two rounds on every group: S[I0] ^= round(S[I1] ^ P), then S[I1] ^= round(P ^ S[I0]), with
/// P = S[I2] ^ S[I3] shared by both (three XORs for two S-box inputs instead of four).
template <int G, int I0, int I1, int I2, int I3>
[[ATREST_SM4_TARGET, gnu::always_inline]] inline void round_pair(__m256i (&x)[G][4], const std::uint8_t* keys,
                                                                 const constants& k) noexcept {
    const __m256i k0 = broadcast_word(keys);
    const __m256i k1 = broadcast_word(keys + 4);
    __m256i p[G];
#pragma GCC unroll 8
    for (int g = 0; g < G; ++g) {
        p[g] = _mm256_xor_si256(x[g][I2], x[g][I3]);
        x[g][I0] = _mm256_xor_si256(x[g][I0], sm4_t(_mm256_xor_si256(x[g][I1], p[g]), k0, k));
    }
#pragma GCC unroll 8
    for (int g = 0; g < G; ++g) x[g][I1] = _mm256_xor_si256(x[g][I1], sm4_t(_mm256_xor_si256(p[g], x[g][I0]), k1, k));
}

/// 4×4 transpose of 32-bit words inside each 128-bit lane (its own inverse).
[[ATREST_SM4_TARGET, gnu::always_inline]] inline void transpose(__m256i& a, __m256i& b, __m256i& c, __m256i& d) noexcept {
    const __m256i t0 = _mm256_unpacklo_epi32(a, b);
    const __m256i t1 = _mm256_unpackhi_epi32(a, b);
    const __m256i t2 = _mm256_unpacklo_epi32(c, d);
    const __m256i t3 = _mm256_unpackhi_epi32(c, d);
    a = _mm256_unpacklo_epi64(t0, t2);
    b = _mm256_unpackhi_epi64(t0, t2);
    c = _mm256_unpacklo_epi64(t1, t3);
    d = _mm256_unpackhi_epi64(t1, t3);
}

/// 8·G blocks from `in` to `out` with the schedule `rk` (sm4_expand_key).
template <int G>
[[ATREST_SM4_TARGET, gnu::always_inline]] inline void groups(const std::uint8_t* rk, const std::uint8_t* in,
                                                             std::uint8_t* out, const constants& k) noexcept {
    const __m256i bswap = broadcast16(bswap32_mask);
    __m256i x[G][4];
#pragma GCC unroll 4
    for (int g = 0; g < G; ++g) {
#pragma GCC unroll 4
        for (int w = 0; w < 4; ++w) {
            const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(in + 128 * g + 32 * w));
            x[g][w] = map_bytes(_mm256_shuffle_epi8(v, bswap), sm4_domain_tables);
        }
        transpose(x[g][0], x[g][1], x[g][2], x[g][3]);
#pragma GCC unroll 4
        for (int w = 0; w < 4; ++w) x[g][w] = _mm256_xor_si256(x[g][w], broadcast_word(rk + sm4_schedule::whiten_in + 4 * w));
    }
    const std::uint8_t* keys = rk + sm4_schedule::aes_keys;
    for (int i = 0; i < 32; i += 4) {
        round_pair<G, 0, 1, 2, 3>(x, keys + 4 * i, k);
        round_pair<G, 2, 3, 0, 1>(x, keys + 4 * (i + 2), k);
    }
#pragma GCC unroll 4
    for (int g = 0; g < G; ++g) {
#pragma GCC unroll 4
        for (int w = 0; w < 4; ++w) x[g][w] = _mm256_xor_si256(x[g][w], broadcast_word(rk + sm4_schedule::whiten_out + 4 * w));
        transpose(x[g][3], x[g][2], x[g][1], x[g][0]);  // the output is X35, X34, X33, X32
#pragma GCC unroll 4
        for (int w = 0; w < 4; ++w) {
            _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + 128 * g + 32 * w),
                                _mm256_shuffle_epi8(map_bytes(x[g][3 - w], sm4_domain_inverse_tables), bswap));
        }
    }
}

/// Encrypts `blocks` blocks (a multiple of `sm4_kernel_blocks`) with the round keys `rk` (32
/// native 32-bit words). `in` and `out` may be the same buffer.
[[ATREST_SM4_TARGET]] inline void encrypt_blocks(const std::uint8_t* rk, const std::uint8_t* in, std::uint8_t* out,
                                                 std::size_t blocks) noexcept {
    const constants k = load_constants();
    for (; blocks >= 64; blocks -= 64, in += 1024, out += 1024) groups<8>(rk, in, out, k);
    if (blocks >= 32) {
        groups<4>(rk, in, out, k);
        blocks -= 32, in += 512, out += 512;
    }
    if (blocks >= 16) {
        groups<2>(rk, in, out, k);
        blocks -= 16, in += 256, out += 256;
    }
    if (blocks >= 8) groups<1>(rk, in, out, k);
}
