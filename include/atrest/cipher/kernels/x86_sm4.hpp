#pragma once
/// SM4 (GB/T 32907) on x86-64 CPUs without SM4 instructions, with the S-box computed by the AES
/// unit: SM4's S-box is an inversion in GF(2^8) between two affine maps, like AES's, only in
/// another representation of the field. So S_sm4(x) = post(AESENCLAST(pre(x), 0)), where `pre`
/// and `post` are affine maps over GF(2)^8 that carry the SM4 representation to AES's and back
/// (and undo AES's own affine step) — the method of Saarinen's sm4ni, used by libgcrypt's and
/// Linux's sm4-aesni-avx2. Each affine map runs as two 16-entry PSHUFB lookups on the two nibbles
/// of every byte: in-register shuffles, not memory tables, so there is no secret-dependent memory
/// access and no branch on the key or the data.
///
/// The block kernels (x86_sm4_body.ipp) keep 8 blocks per AVX2 register set (one 32-bit word of
/// 8 blocks per register) and run two such sets at once for instruction-level parallelism. They
/// are compiled twice: with VAES (AESENCLAST on a whole 256-bit register) and without (two
/// 128-bit AESENCLASTs, for AVX2 CPUs from before VAES). A GFNI kernel (one instruction per
/// affine map) is not here: no machine it could be tested on was available.
///
/// CTR runs through the two-pass engine (two_pass.hpp): SM4 costs ~30 times what the counter
/// and XOR passes cost, so fusing them would gain nothing measurable.

#if defined(__x86_64__)

#include <atrest/cipher/kernels/ctr_state.hpp>
#include <atrest/cipher/kernels/two_pass.hpp>
#include <atrest/detail/botan_compat.hpp>
#include <atrest/detail/endian.hpp>

#include <immintrin.h>

#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>

namespace atrest::detail {

/// y = M·x ⊕ c over GF(2)^8, M given by the images of the 8 unit vectors (bit 0 first).
struct gf2_affine {
    std::uint8_t constant;
    std::array<std::uint8_t, 8> columns;

    /// Branch-free: the bits of `x` select columns through masks.
    [[nodiscard]] constexpr std::uint8_t operator()(std::uint8_t x) const noexcept {
        unsigned v = constant;
        for (unsigned k = 0; k < 8; ++k) v ^= columns[k] & (0u - ((x >> k) & 1u));
        return static_cast<std::uint8_t>(v);
    }
};

[[nodiscard]] constexpr gf2_affine operator^(const gf2_affine& a, const gf2_affine& b) noexcept {
    gf2_affine r{static_cast<std::uint8_t>(a.constant ^ b.constant), {}};
    for (unsigned k = 0; k < 8; ++k) r.columns[k] = static_cast<std::uint8_t>(a.columns[k] ^ b.columns[k]);
    return r;
}

/// outer ∘ inner.
[[nodiscard]] constexpr gf2_affine compose(const gf2_affine& outer, const gf2_affine& inner) noexcept {
    gf2_affine r{outer(inner.constant), {}};
    for (unsigned k = 0; k < 8; ++k) r.columns[k] = static_cast<std::uint8_t>(outer(inner.columns[k]) ^ outer.constant);
    return r;
}

[[nodiscard]] constexpr gf2_affine linear_part(const gf2_affine& f) noexcept { return {0, f.columns}; }

/// The inverse of an invertible linear map (constant 0).
[[nodiscard]] constexpr gf2_affine inverse(const gf2_affine& f) noexcept {
    gf2_affine r{0, {}};
    for (unsigned x = 1; x < 256; ++x) {
        const unsigned y = f(static_cast<std::uint8_t>(x));
        if (std::has_single_bit(y)) r.columns[static_cast<unsigned>(std::countr_zero(y))] = static_cast<std::uint8_t>(x);
    }
    return r;
}

inline constexpr gf2_affine gf2_identity{0, {0x01, 0x02, 0x04, 0x08, 0x10, 0x20, 0x40, 0x80}};
inline constexpr gf2_affine gf2_shl2{0, {0x04, 0x08, 0x10, 0x20, 0x40, 0x80, 0, 0}};  ///< x << 2 in a byte
inline constexpr gf2_affine gf2_shr6{0, {0, 0, 0, 0, 0, 0, 0x01, 0x02}};              ///< x >> 6

/// SM4's input affine map followed by the isomorphism into AES's field representation.
inline constexpr gf2_affine sm4_pre_affine{0x69, {0x75, 0xc9, 0xdf, 0x3a, 0x98, 0x37, 0x6c, 0xab}};
/// AES's affine map undone, the isomorphism back, and SM4's output affine map.
inline constexpr gf2_affine sm4_post_affine{0x61, {0x0f, 0x90, 0x64, 0x94, 0xa4, 0xe0, 0xcd, 0xa5}};

// The block kernels keep every state word in "M-domain": each byte b stored as M·b, M the linear
// part of the pre map. Then the S-box input M·(X1^X2^X3^rk) ⊕ c is the XOR of the stored words
// and a converted round key M·rk ⊕ c — the pre map costs nothing per round. For the way back,
// L(b) = b ^ b<<<2 ^ b<<<10 ^ b<<<18 ^ b<<<24 is split at byte boundaries: with s the S-box
// bytes, f(x) = x<<2 and g(x) = x>>6 per byte (so s<<<2 = f(s) ^ g(s)<<<8),
//   M·L(s) = A(s) ^ B(s)<<<8 ^ B(s)<<<16 ^ C(s)<<<24,  A = M(1+f), B = M(f+g), C = M(1+g) = A+B,
// A and B each composed with the post map into one pair of nibble tables. A round is then 3 XORs,
// AESENCLAST, 2 table pairs, 4 byte shuffles and 5 XORs: nothing but byte operations (and one
// XOR less with the whitening of `sm4_expand_key`).
inline constexpr gf2_affine sm4_domain = linear_part(sm4_pre_affine);
inline constexpr gf2_affine sm4_domain_inverse = inverse(sm4_domain);
inline constexpr gf2_affine sm4_out_a = compose(sm4_domain, compose(gf2_identity ^ gf2_shl2, sm4_post_affine));
inline constexpr gf2_affine sm4_out_b = compose(sm4_domain, compose(gf2_shl2 ^ gf2_shr6, sm4_post_affine));
static_assert((sm4_out_a ^ sm4_out_b)(0xa7) ==
              compose(sm4_domain, compose(gf2_identity ^ gf2_shr6, sm4_post_affine))(0xa7));  // C = A ^ B
static_assert(compose(sm4_domain_inverse, sm4_domain)(0x5a) == 0x5a && compose(sm4_domain, sm4_domain_inverse)(0xc3) == 0xc3);

/// An affine map as two PSHUFB tables: f(x) = lo[x & 15] ^ hi[x >> 4] (the constant goes in lo).
struct nibble_tables {
    std::array<std::uint8_t, 16> lo;
    std::array<std::uint8_t, 16> hi;
};

[[nodiscard]] constexpr nibble_tables split_affine(const gf2_affine& f) noexcept {
    nibble_tables t{};
    for (unsigned n = 0; n < 16; ++n) {
        t.lo[n] = f(static_cast<std::uint8_t>(n));
        t.hi[n] = static_cast<std::uint8_t>(f(static_cast<std::uint8_t>(n << 4)) ^ f.constant);
    }
    return t;
}

inline constexpr nibble_tables sm4_pre_tables = split_affine(sm4_pre_affine);
inline constexpr nibble_tables sm4_post_tables = split_affine(sm4_post_affine);
inline constexpr nibble_tables sm4_domain_tables = split_affine(sm4_domain);
inline constexpr nibble_tables sm4_domain_inverse_tables = split_affine(sm4_domain_inverse);
inline constexpr nibble_tables sm4_out_a_tables = split_affine(sm4_out_a);
inline constexpr nibble_tables sm4_out_b_tables = split_affine(sm4_out_b);

/// The PSHUFB mask that undoes AES's ShiftRows (which AESENCLAST applied to the S-box outputs)
/// and then rotates every 32-bit word left by 8·k bits. Byte 4c+r is row r of column c; ShiftRows
/// moved it to column c−r.
[[nodiscard]] constexpr std::array<std::uint8_t, 16> unshift_rows_rotl(unsigned k) noexcept {
    std::array<std::uint8_t, 16> m{};
    for (unsigned i = 0; i < 16; ++i) {
        const unsigned column = i / 4;
        const unsigned row = (i % 4 + 4 - k) % 4;  // rotl by 8k: byte b comes from byte b−k
        m[i] = static_cast<std::uint8_t>(4 * ((column + 4 - row) % 4) + row);
    }
    return m;
}

/// `unshift_rows_rotl(k)` for k = 0..3, and the mask that byte-swaps every 32-bit word (SM4's
/// words are big-endian in the block).
inline constexpr std::array<std::array<std::uint8_t, 16>, 4> sm4_unshift_rotl = {
    unshift_rows_rotl(0), unshift_rows_rotl(1), unshift_rows_rotl(2), unshift_rows_rotl(3)};
inline constexpr std::array<std::uint8_t, 16> bswap32_mask = {3, 2, 1, 0, 7, 6, 5, 4, 11, 10, 9, 8, 15, 14, 13, 12};

/// The standard's constants: FK, and CK_i whose byte j is (4i+j)·7 mod 256.
inline constexpr std::array<std::uint32_t, 4> sm4_fk = {0xa3b1bac6, 0x56aa3350, 0x677d9197, 0xb27022dc};

[[nodiscard]] constexpr std::uint32_t sm4_ck(unsigned i) noexcept {
    std::uint32_t v = 0;
    for (unsigned j = 0; j < 4; ++j) v = (v << 8) | (((4 * i + j) * 7) & 0xff);
    return v;
}

/// τ (the S-box on each byte) of one word, for the key schedule. The word fills all four columns,
/// so ShiftRows moves nothing.
[[gnu::target("aes,ssse3")]] inline std::uint32_t sm4_tau(std::uint32_t w) noexcept {
    const __m128i nib = _mm_set1_epi8(0x0f);
    const __m128i pre_lo = _mm_loadu_si128(reinterpret_cast<const __m128i*>(sm4_pre_tables.lo.data()));
    const __m128i pre_hi = _mm_loadu_si128(reinterpret_cast<const __m128i*>(sm4_pre_tables.hi.data()));
    const __m128i post_lo = _mm_loadu_si128(reinterpret_cast<const __m128i*>(sm4_post_tables.lo.data()));
    const __m128i post_hi = _mm_loadu_si128(reinterpret_cast<const __m128i*>(sm4_post_tables.hi.data()));
    __m128i x = _mm_set1_epi32(static_cast<int>(w));
    x = _mm_xor_si128(_mm_shuffle_epi8(pre_lo, _mm_and_si128(x, nib)),
                      _mm_shuffle_epi8(pre_hi, _mm_and_si128(_mm_srli_epi32(x, 4), nib)));
    x = _mm_aesenclast_si128(x, _mm_setzero_si128());
    x = _mm_xor_si128(_mm_shuffle_epi8(post_lo, _mm_and_si128(x, nib)),
                      _mm_shuffle_epi8(post_hi, _mm_and_si128(_mm_srli_epi32(x, 4), nib)));
    return static_cast<std::uint32_t>(_mm_cvtsi128_si32(x));
}

/// The 32 round keys of GB/T 32907 §7.3, as native 32-bit words.
inline void sm4_round_keys(const std::byte* key, std::uint32_t* rk) noexcept {
    std::uint32_t k[4];
    for (unsigned i = 0; i < 4; ++i) k[i] = load_be<std::uint32_t>(key + 4 * i) ^ sm4_fk[i];
    for (unsigned i = 0; i < 32; ++i) {
        std::uint32_t t = sm4_tau(k[(i + 1) % 4] ^ k[(i + 2) % 4] ^ k[(i + 3) % 4] ^ sm4_ck(i));
        t ^= std::rotl(t, 13) ^ std::rotl(t, 23);
        k[i % 4] ^= t;
        rk[i] = k[i % 4];
    }
    botan_compat::secure_scrub(k, sizeof k);
}

/// SM4's linear map L and its inverse. In GF(2)[x]/(x^32+1), L = 1+x^2+x^10+x^18+x^24, L^2 =
/// 1+x^16+x^20 and L^4 = x^8: so L^-1 = L^3 followed by a right rotation by 8.
[[nodiscard]] constexpr std::uint32_t sm4_l(std::uint32_t b) noexcept {
    return b ^ std::rotl(b, 2) ^ std::rotl(b, 10) ^ std::rotl(b, 18) ^ std::rotl(b, 24);
}
[[nodiscard]] constexpr std::uint32_t sm4_l_inverse(std::uint32_t b) noexcept { return std::rotr(sm4_l(sm4_l(sm4_l(b))), 8); }
static_assert(sm4_l_inverse(sm4_l(0x0123abcdu)) == 0x0123abcdu && sm4_l(sm4_l_inverse(0x80000001u)) == 0x80000001u);

/// `f` on each byte of `w`.
[[nodiscard]] constexpr std::uint32_t map_word_bytes(const gf2_affine& f, std::uint32_t w) noexcept {
    std::uint32_t r = 0;
    for (unsigned shift = 0; shift < 32; shift += 8) r |= std::uint32_t{f(static_cast<std::uint8_t>(w >> shift))} << shift;
    return r;
}

inline constexpr gf2_affine sm4_post_linear_inverse = inverse(linear_part(sm4_post_affine));

/// Where the block kernels find their schedule in `ctr_state::round_keys`: 32 AESENCLAST keys,
/// then the whitening words D0..D3 (XORed in after loading) and D32..D35 (XORed out at the end).
struct sm4_schedule {
    static constexpr std::size_t aes_keys = 0;
    static constexpr std::size_t whiten_in = 128;
    static constexpr std::size_t whiten_out = 144;
};

/// The block kernels' schedule for `key`. The kernels keep S_j = X_j ^ D_j (M-domain) instead of
/// the state words X_j, with D chosen so that D_{j+1} ^ D_{j+2} ^ D_{j+3} is round j's key (in
/// M-domain, with the pre map's constant): then the S-box input of round j is S_{j+1} ^ S_{j+2} ^
/// S_{j+3}, one XOR less per round. What S_{j+4} = S_j ^ M·T(…) then lacks, D_j ^ D_{j+4}, enters
/// through AESENCLAST's round key K_j (added after SubBytes, it reaches the output through the
/// linear part of the round: K_j = post⁻¹ L⁻¹ M⁻¹ (D_j ^ D_{j+4}), the same in every column, so
/// ShiftRows leaves it alone).
inline void sm4_expand_key(const std::byte* key, std::uint8_t* round_keys) noexcept {
    std::uint32_t rk[32];
    std::uint32_t d[36];
    sm4_round_keys(key, rk);
    for (std::uint32_t& r : rk) r = map_word_bytes(sm4_pre_affine, r);
    d[0] = d[1] = d[2] = 0;
    d[3] = rk[0];
    for (unsigned j = 1; j < 32; ++j) d[j + 3] = rk[j] ^ d[j + 1] ^ d[j + 2];
    d[35] = d[31];
    for (unsigned j = 0; j < 32; ++j) {
        const std::uint32_t k = map_word_bytes(
            sm4_post_linear_inverse, sm4_l_inverse(map_word_bytes(sm4_domain_inverse, d[j] ^ d[j + 4])));
        std::memcpy(round_keys + sm4_schedule::aes_keys + 4 * j, &k, 4);
    }
    std::memcpy(round_keys + sm4_schedule::whiten_in, d, 16);
    std::memcpy(round_keys + sm4_schedule::whiten_out, d + 32, 16);
    botan_compat::secure_scrub(rk, sizeof rk);
    botan_compat::secure_scrub(d, sizeof d);
}

/// Block counts the SM4 kernels take per call: a multiple of this.
inline constexpr std::size_t sm4_kernel_blocks = 8;
/// Blocks per two-pass batch for SM4: eight groups of 8 in flight hide the latency of a round
/// (measured on Zen 3: 2 groups 0.90 GB/s, 4 groups 1.45, 6 groups 1.59, 8 groups 1.60).
inline constexpr std::size_t sm4_batch_blocks = 64;

namespace sm4_x86_vaes {
#define ATREST_SM4_TARGET gnu::target("aes,avx2,vaes")
#define ATREST_SM4_VAES 1
#include <atrest/cipher/kernels/x86_sm4_body.ipp>
#undef ATREST_SM4_VAES
#undef ATREST_SM4_TARGET
}  // namespace sm4_x86_vaes

namespace sm4_x86_aesni_avx2 {
#define ATREST_SM4_TARGET gnu::target("aes,avx2")
#define ATREST_SM4_VAES 0
#include <atrest/cipher/kernels/x86_sm4_body.ipp>
#undef ATREST_SM4_VAES
#undef ATREST_SM4_TARGET
}  // namespace sm4_x86_aesni_avx2

/// A kernel (`ctr_kernel_fn`): SM4-CTR through the two-pass engine with the `Blocks` SM4 kernel.
template <void (*Blocks)(const std::uint8_t*, const std::uint8_t*, std::uint8_t*, std::size_t)>
void sm4_ctr(const ctr_state& s, std::uint64_t offset, const std::byte* in, std::byte* out, std::size_t n) {
    const std::uint8_t* rk = s.round_keys;
    ctr_two_pass<two_pass_v256, sm4_batch_blocks, true>(
        s, [rk](const std::uint8_t* i, std::uint8_t* o, std::size_t blocks) { Blocks(rk, i, o, blocks); },
        sm4_kernel_blocks, offset, in, out, n);
}

}  // namespace atrest::detail

#endif  // __x86_64__
