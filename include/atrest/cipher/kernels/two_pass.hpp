#pragma once
/// The two-pass CTR engine, for a block cipher that is only reachable through a bulk "encrypt n
/// blocks" call (Botan's `encrypt_n`, or our SM4 kernels): per batch, the counters are laid out in
/// a stack buffer, encrypted with one bulk call and XORed into the data. No allocation, one
/// (indirect) bulk call per batch.
///
/// With the block cipher taken as given, the rest is memory traffic (write the counters, read the
/// keystream and the data, write the result), bound by stores per cycle. So counters are made with
/// vector adds (no byte swaps), a full batch goes through straight-line code for exactly one batch
/// (no loop control, every store independent), and both passes run on a vector width chosen per
/// CPU (ctr_kernel.hpp says which and why). The wider variants are compiled with function-level
/// target attributes, so the binary needs nothing beyond the target's baseline ISA.

#include <atrest/cipher/kernels/ctr_state.hpp>
#include <atrest/detail/endian.hpp>

#include <algorithm>
#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <utility>

#if !defined(__GNUC__)
#error "atrest's CTR engine uses the GCC/Clang vector extension; build with GCC or Clang"
#endif

namespace atrest::detail {

/// Counter blocks per bulk call over Botan: 512 bytes of counters and 512 of keystream on the
/// stack. Long enough for Botan's 4/8-way AES-NI and 16/32-way VAES/GFNI loops, short enough that
/// the XOR of one batch overlaps the cipher of the next in the CPU's out-of-order window
/// (measured on Zen 5: 32 beats 16, 64 and 128 by 2-7%, docs/performance.md). Other users pick
/// their own batch (a multiple of 4: the widest kernel makes four counters per store; at most 256).
inline constexpr std::size_t ctr_batch_blocks = 32;

/// W bytes as one vector register (GCC/Clang vector extension; no intrinsics).
template <std::size_t W>
struct byte_vector {
    typedef std::uint8_t type __attribute__((vector_size(W)));
};
template <std::size_t W>
struct word_vector {
    typedef std::uint64_t type __attribute__((vector_size(W)));
};

/// Where the counter's last byte sits inside its second 64-bit word as the word is held in a register.
inline constexpr unsigned last_byte_shift = std::endian::native == std::endian::little ? 56 : 0;

// (Vectors go in and out of these helpers by reference: a by-value AVX vector in a function
// without the AVX target would change the ABI.)

/// `v` = the W/16 counters (hi, lo), (hi, lo) + 1, … (in the last byte only).
template <std::size_t W, std::size_t... I>
[[gnu::always_inline]] inline void counter_vector(typename word_vector<W>::type& v, std::uint64_t hi, std::uint64_t lo,
                                                  std::index_sequence<I...>) noexcept {
    v = typename word_vector<W>::type{(I % 2 == 0 ? hi : lo + (std::uint64_t{I / 2} << last_byte_shift))...};
}

/// `v` = the vector that advances every counter of a W-byte vector by `k` (in the last byte only).
template <std::size_t W, std::size_t... I>
[[gnu::always_inline]] inline void step_vector(typename word_vector<W>::type& v, std::uint64_t k,
                                               std::index_sequence<I...>) noexcept {
    v = typename word_vector<W>::type{(I % 2 == 0 ? std::uint64_t{0} : k << last_byte_shift)...};
}

/// Writes counter blocks `first`, `first`+1, … (at least `blocks`, rounded up to W/16) to `dst`;
/// `first_hi`/`first_lo` are the counter's two 8-byte halves as they lie in memory (big-endian).
/// The caller guarantees the last byte of `first` plus `blocks`-1 does not pass 255, so only that
/// byte differs between the blocks: one vector add makes W/16 counters, with no byte swaps, and
/// no carry can leave the byte (it is the top of its 64-bit lane, where a carry falls off).
template <std::size_t W>
[[gnu::always_inline]] inline void fill_counters_w(std::uint8_t* dst, std::uint64_t first_hi, std::uint64_t first_lo,
                                                   std::size_t blocks) noexcept {
    using vec = typename word_vector<W>::type;
    constexpr std::uint64_t per = W / ctr_block_size;
    vec c;
    vec step;
    counter_vector<W>(c, first_hi, first_lo, std::make_index_sequence<W / 8>{});
    step_vector<W>(step, per, std::make_index_sequence<W / 8>{});
    for (std::size_t b = 0; b < blocks; b += per) {
        std::memcpy(dst + b * ctr_block_size, &c, W);
        c += step;
    }
}

/// Counter vector J of a full batch starting at `c` (see `fill_batch_w`).
template <std::size_t W, std::size_t J>
[[gnu::always_inline]] inline void fill_one_w(std::uint8_t* dst, const typename word_vector<W>::type& c) noexcept {
    typename word_vector<W>::type v;
    step_vector<W>(v, J * (W / ctr_block_size), std::make_index_sequence<W / 8>{});
    v += c;
    std::memcpy(dst + J * W, &v, W);
}

/// `fill_counters_w` for exactly one full batch, straight-line: every store independent.
template <std::size_t W, std::size_t... J>
[[gnu::always_inline]] inline void fill_batch_w(std::uint8_t* dst, std::uint64_t first_hi, std::uint64_t first_lo,
                                                std::index_sequence<J...>) noexcept {
    typename word_vector<W>::type c;
    counter_vector<W>(c, first_hi, first_lo, std::make_index_sequence<W / 8>{});
    (fill_one_w<W, J>(dst, c), ...);
}

/// out[i] = in[i] ^ ks[i] for n bytes, W bytes per step, then 16, then single bytes. Loads and
/// stores go through memcpy, so nothing needs alignment; `out` may equal `in`.
template <std::size_t W>
[[gnu::always_inline]] inline void xor_into_w(std::byte* out, const std::byte* in, const std::uint8_t* ks,
                                              std::size_t n) noexcept {
    using vec = typename byte_vector<W>::type;
    std::size_t i = 0;
    for (; i + W <= n; i += W) {
        vec a;
        vec k;
        std::memcpy(&a, in + i, W);
        std::memcpy(&k, ks + i, W);
        a ^= k;
        std::memcpy(out + i, &a, W);
    }
    if constexpr (W > 16) {
        xor_into_w<16>(out + i, in + i, ks + i, n - i);
    } else {
        for (; i < n; ++i) out[i] = in[i] ^ static_cast<std::byte>(ks[i]);
    }
}

/// Vector J of a full batch (see `xor_batch_w`).
template <std::size_t W, std::size_t J>
[[gnu::always_inline]] inline void xor_one_w(std::byte* out, const std::byte* in, const std::uint8_t* ks) noexcept {
    typename byte_vector<W>::type a;
    typename byte_vector<W>::type k;
    std::memcpy(&a, in + J * W, W);
    std::memcpy(&k, ks + J * W, W);
    a ^= k;
    std::memcpy(out + J * W, &a, W);
}

/// `xor_into_w` for exactly one full batch, straight-line.
template <std::size_t W, std::size_t... J>
[[gnu::always_inline]] inline void xor_batch_w(std::byte* out, const std::byte* in, const std::uint8_t* ks,
                                               std::index_sequence<J...>) noexcept {
    (xor_one_w<W, J>(out, in, ks), ...);
}

/// The memory-bound loops of the two-pass engine for one vector width W (bytes), as a policy
/// type: `fill`/`xor_into` for any length, `fill_batch`/`xor_batch` for exactly one full batch of
/// `Batch` blocks.
/// The wider ones are compiled for that ISA only and called only after a CPU check.
#define ATREST_TWO_PASS_KERNELS(NAME, W, TARGET)                                                                      \
    struct NAME {                                                                                                     \
        static constexpr std::size_t width = W;                                                                       \
        TARGET static void fill(std::uint8_t* dst, std::uint64_t hi, std::uint64_t lo, std::size_t blocks) noexcept { \
            fill_counters_w<W>(dst, hi, lo, blocks);                                                                  \
        }                                                                                                             \
        template <std::size_t Batch>                                                                                  \
        TARGET static void fill_batch(std::uint8_t* dst, std::uint64_t hi, std::uint64_t lo) noexcept {               \
            fill_batch_w<W>(dst, hi, lo, std::make_index_sequence<Batch * ctr_block_size / W>{});                     \
        }                                                                                                             \
        TARGET static void xor_into(std::byte* out, const std::byte* in, const std::uint8_t* ks,                      \
                                    std::size_t n) noexcept {                                                         \
            xor_into_w<W>(out, in, ks, n);                                                                            \
        }                                                                                                             \
        template <std::size_t Batch>                                                                                  \
        TARGET static void xor_batch(std::byte* out, const std::byte* in, const std::uint8_t* ks) noexcept {          \
            xor_batch_w<W>(out, in, ks, std::make_index_sequence<Batch * ctr_block_size / W>{});                      \
        }                                                                                                             \
    }

ATREST_TWO_PASS_KERNELS(two_pass_v128, 16, );
#if defined(__x86_64__)
ATREST_TWO_PASS_KERNELS(two_pass_v256, 32, [[gnu::target("avx2")]]);
ATREST_TWO_PASS_KERNELS(two_pass_v512, 64, [[gnu::target("avx512f")]]);
#endif
#undef ATREST_TWO_PASS_KERNELS

/// CTR over `n` bytes at file `offset` with `encrypt(counters, keystream, blocks)` as the block
/// cipher, `Batch` blocks per call. Every batch but the last is full. The vector kernels only step the counter's last byte,
/// so a batch that crosses a multiple of 256 (one in 8) is filled in two runs, the second rebuilt
/// from the carried 128-bit counter; this is where carries at 2^64 and the wrap at 2^128 happen.
/// The last batch is rounded up to `parallel` blocks (in [1, Batch]): bulk loops take whole
/// groups, and a lone block through a one-block path costs about as much as a group. With
/// `Balance`, the last two batches split what is left evenly (for ciphers whose bulk loop is only
/// fast with many groups in flight: 65 blocks as 40 + 32, not 64 + 8).
template <class Kernels, std::size_t Batch = ctr_batch_blocks, bool Balance = false, class Encrypt>
void ctr_two_pass(const ctr_state& s, const Encrypt& encrypt, std::size_t parallel, std::uint64_t offset,
                  const std::byte* in, std::byte* out, std::size_t n) {
    counter128 c = counter_at(s, offset);
    std::size_t skip = static_cast<std::size_t>(offset % ctr_block_size);
    static_assert(Batch % 4 == 0 && Batch <= 256);

    // The counter buffer has 4 spare blocks: a fill rounds up to whole vectors (up to 4 counters).
    alignas(64) std::array<std::uint8_t, (Batch + 4) * ctr_block_size> ctr;
    alignas(64) std::array<std::uint8_t, Batch * ctr_block_size> ks;
    std::size_t pos = 0;
    while (pos < n) {
        const std::size_t left = (skip + (n - pos) + ctr_block_size - 1) / ctr_block_size;
        std::size_t blocks = std::min(Batch, left);
        if (Balance && left > Batch && left < 2 * Batch) {
            blocks = std::min(Batch, ((left + 1) / 2 + parallel - 1) / parallel * parallel);
        }
        const std::size_t count = blocks == Batch ? blocks : std::min(Batch, (blocks + parallel - 1) / parallel * parallel);
        const std::size_t before_carry = 256 - static_cast<std::size_t>(c.lo & 0xff);
        std::uint64_t hi_mem;
        std::uint64_t lo_mem;
        store_be(&hi_mem, c.hi);
        store_be(&lo_mem, c.lo);
        if (count == Batch && before_carry >= Batch) {
            Kernels::template fill_batch<Batch>(ctr.data(), hi_mem, lo_mem);
        } else {
            Kernels::fill(ctr.data(), hi_mem, lo_mem, std::min(count, before_carry));
            if (before_carry < count) {
                const counter128 c2 = counter_add(c, before_carry);
                store_be(&hi_mem, c2.hi);
                store_be(&lo_mem, c2.lo);
                Kernels::fill(ctr.data() + before_carry * ctr_block_size, hi_mem, lo_mem, count - before_carry);
            }
        }
        encrypt(ctr.data(), ks.data(), count);
        const std::size_t take = std::min(blocks * ctr_block_size - skip, n - pos);
        if (take == Batch * ctr_block_size) {
            Kernels::template xor_batch<Batch>(out + pos, in + pos, ks.data());
        } else {
            Kernels::xor_into(out + pos, in + pos, ks.data() + skip, take);
        }
        pos += take;
        skip = 0;
        c = counter_add(c, blocks);
    }
}

/// A kernel (`ctr_kernel_fn`) running the two-pass engine over the stream's Botan block cipher.
template <class Kernels>
void ctr_over_botan(const ctr_state& s, std::uint64_t offset, const std::byte* in, std::byte* out, std::size_t n) {
    const Botan::BlockCipher& cipher = *s.botan;
    ctr_two_pass<Kernels>(
        s, [&cipher](const std::uint8_t* i, std::uint8_t* o, std::size_t blocks) { cipher.encrypt_n(i, o, blocks); },
        s.parallel, offset, in, out, n);
}

}  // namespace atrest::detail
