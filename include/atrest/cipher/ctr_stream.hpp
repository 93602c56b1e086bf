#pragma once
/// The CTR engine. TiKV's layout: the 16-byte IV is one 128-bit big-endian counter and the
/// keystream block for byte offset o is E(key, IV + o/16 mod 2^128) — identical to OpenSSL's
/// `aes-*-ctr`, so files can be checked with outside tools. We do not use Botan's CTR mode (it
/// runs at half the block cipher's speed): counters are laid out in a stack batch, encrypted with
/// one bulk `encrypt_n` call and XORed into the data. No allocation, one indirect call per batch.
///
/// Speed: with the block cipher taken as given, the rest is memory traffic (write the counters,
/// read the keystream and the data, write the result), bound by stores per cycle. So counters are
/// made with vector adds (no byte swaps) and both loops run on the widest vectors the CPU has
/// (16, 32 or 64 bytes), chosen once at run time: the binary needs nothing beyond the target's
/// baseline ISA, and uses AVX2 / AVX-512 only where the CPU and OS report them.

#include <atrest/cipher/cipher_policy.hpp>
#include <atrest/detail/botan_compat.hpp>
#include <atrest/detail/endian.hpp>
#include <atrest/error.hpp>

#include <algorithm>
#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <span>
#include <string>
#include <utility>

#if !defined(__GNUC__)
#error "atrest's CTR engine uses the GCC/Clang vector extension; build with GCC or Clang"
#endif

namespace atrest {

namespace detail {

inline constexpr std::size_t ctr_block_size = 16;

/// Counter blocks per bulk `encrypt_n`: 512 bytes of counters and 512 of keystream on the stack.
/// Long enough for Botan's 4/8-way AES-NI and 16/32-way VAES/GFNI loops, short enough that the XOR
/// of one batch overlaps the cipher of the next in the CPU's out-of-order window (measured: 32
/// beats 16, 64 and 128 by 2-7%, docs/performance.md). A multiple of 4: the widest kernel makes
/// four counters per store.
inline constexpr std::size_t ctr_batch_blocks = 32;
static_assert(ctr_batch_blocks % 4 == 0 && ctr_batch_blocks <= 256);

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

template <std::size_t W, std::size_t... I>
[[gnu::always_inline]] inline void fill_counters_impl(std::uint8_t* dst, std::uint64_t first_hi, std::uint64_t first_lo,
                                                      std::size_t blocks, std::index_sequence<I...>) noexcept {
    using vec = typename word_vector<W>::type;
    constexpr std::uint64_t per = W / ctr_block_size;
    vec c = {(I % 2 == 0 ? first_hi : first_lo + (std::uint64_t{I / 2} << last_byte_shift))...};
    const vec step = {(I % 2 == 0 ? std::uint64_t{0} : per << last_byte_shift)...};
    for (std::size_t b = 0; b < blocks; b += per) {
        std::memcpy(dst + b * ctr_block_size, &c, W);
        c += step;
    }
}

/// Writes counter blocks `first`, `first`+1, … (at least `blocks`, rounded up to W/16) to `dst`;
/// `first_hi`/`first_lo` are the counter's two 8-byte halves as they lie in memory (big-endian).
/// The caller guarantees the last byte of `first` plus `blocks`-1 does not pass 255, so only that
/// byte differs between the blocks: one vector add makes W/16 counters, with no byte swaps, and
/// no carry can leave the byte (it is the top of its 64-bit lane, where a carry falls off).
template <std::size_t W>
[[gnu::always_inline]] inline void fill_counters_w(std::uint8_t* dst, std::uint64_t first_hi, std::uint64_t first_lo,
                                                   std::size_t blocks) noexcept {
    fill_counters_impl<W>(dst, first_hi, first_lo, blocks, std::make_index_sequence<W / 8>{});
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

/// The two memory-bound loops of CTR for one vector width. The wider ones are compiled for that
/// ISA only (function-level target attributes) and are called only after a CPU check.
struct ctr_kernels_v128 {
    static void fill(std::uint8_t* dst, std::uint64_t hi, std::uint64_t lo, std::size_t blocks) noexcept {
        fill_counters_w<16>(dst, hi, lo, blocks);
    }
    static void xor_into(std::byte* out, const std::byte* in, const std::uint8_t* ks, std::size_t n) noexcept {
        xor_into_w<16>(out, in, ks, n);
    }
};

#if defined(__x86_64__)
struct ctr_kernels_v256 {
    [[gnu::target("avx2")]] static void fill(std::uint8_t* dst, std::uint64_t hi, std::uint64_t lo, std::size_t blocks) noexcept {
        fill_counters_w<32>(dst, hi, lo, blocks);
    }
    [[gnu::target("avx2")]] static void xor_into(std::byte* out, const std::byte* in, const std::uint8_t* ks,
                                                 std::size_t n) noexcept {
        xor_into_w<32>(out, in, ks, n);
    }
};

struct ctr_kernels_v512 {
    [[gnu::target("avx512f")]] static void fill(std::uint8_t* dst, std::uint64_t hi, std::uint64_t lo,
                                                std::size_t blocks) noexcept {
        fill_counters_w<64>(dst, hi, lo, blocks);
    }
    [[gnu::target("avx512f")]] static void xor_into(std::byte* out, const std::byte* in,
                                                             const std::uint8_t* ks, std::size_t n) noexcept {
        xor_into_w<64>(out, in, ks, n);
    }
};
#endif

/// Vector widths the CTR loops may use on this machine.
enum class ctr_simd : std::uint8_t { v128, v256, v512 };

/// Probes the CPU once (libgcc's check includes the OS having enabled the wide register state).
[[nodiscard]] inline ctr_simd ctr_simd_level() noexcept {
#if defined(__x86_64__)
    static const ctr_simd level = [] {
        __builtin_cpu_init();
        if (__builtin_cpu_supports("avx512f")) return ctr_simd::v512;
        if (__builtin_cpu_supports("avx2")) return ctr_simd::v256;
        return ctr_simd::v128;
    }();
    return level;
#else
    return ctr_simd::v128;  // 16-byte vectors are already the native width of NEON and friends
#endif
}

/// What `ctr_crypt` needs from a stream: the keyed cipher, the IV as two big-endian halves, and
/// how many blocks the cipher's bulk path handles at once (in [1, ctr_batch_blocks]).
struct ctr_context {
    const Botan::BlockCipher& cipher;
    std::uint64_t iv_hi;
    std::uint64_t iv_lo;
    std::size_t parallel;
};

/// CTR over `n` bytes at file `offset`: keystream block i is E(iv + offset/16 + i mod 2^128).
/// Every batch but the last is full. The vector kernels only step the counter's last byte, so a
/// batch that crosses a multiple of 256 (one in 8) is filled in two runs, the second rebuilt from
/// the carried 128-bit (hi, lo); this is where carries at 2^64 and the wrap at 2^128 happen. The
/// last batch is rounded up to the cipher's parallel width: Botan's wide loops take whole groups,
/// and a lone block through the one-block path costs about as much as a group.
template <class Kernels>
void ctr_crypt(const ctr_context& ctx, std::uint64_t offset, const std::byte* in, std::byte* out, std::size_t n) {
    std::uint64_t lo = ctx.iv_lo + offset / ctr_block_size;
    std::uint64_t hi = ctx.iv_hi + (lo < ctx.iv_lo ? 1 : 0);  // 128-bit add; wraps at 2^128
    std::size_t skip = static_cast<std::size_t>(offset % ctr_block_size);

    // The counter buffer has 4 spare blocks: a fill rounds up to whole vectors (up to 4 counters).
    alignas(64) std::array<std::uint8_t, (ctr_batch_blocks + 4) * ctr_block_size> ctr;
    alignas(64) std::array<std::uint8_t, ctr_batch_blocks * ctr_block_size> ks;
    const auto fill = [&ctr](std::size_t at, std::uint64_t h, std::uint64_t l, std::size_t count) {
        std::uint64_t first_hi;
        std::uint64_t first_lo;
        store_be(&first_hi, h);
        store_be(&first_lo, l);
        Kernels::fill(ctr.data() + at * ctr_block_size, first_hi, first_lo, count);
    };
    std::size_t pos = 0;
    while (pos < n) {
        const std::size_t blocks = std::min(ctr_batch_blocks, (skip + (n - pos) + ctr_block_size - 1) / ctr_block_size);
        const std::size_t count =
            blocks == ctr_batch_blocks ? blocks
                                       : std::min(ctr_batch_blocks, (blocks + ctx.parallel - 1) / ctx.parallel * ctx.parallel);
        const std::size_t before_carry = 256 - static_cast<std::size_t>(lo & 0xff);
        fill(0, hi, lo, std::min(count, before_carry));
        if (before_carry < count) {
            const std::uint64_t lo2 = lo + before_carry;
            fill(before_carry, hi + (lo2 < lo ? 1 : 0), lo2, count - before_carry);
        }
        ctx.cipher.encrypt_n(ctr.data(), ks.data(), count);
        const std::size_t take = std::min(blocks * ctr_block_size - skip, n - pos);
        Kernels::xor_into(out + pos, in + pos, ks.data() + skip, take);
        pos += take;
        skip = 0;
        lo += blocks;
        if (lo < blocks) ++hi;
    }
}

/// `ctr_crypt` with the widest kernels this CPU supports.
inline void ctr_crypt_dispatch(const ctr_context& ctx, std::uint64_t offset, const std::byte* in, std::byte* out,
                               std::size_t n) {
#if defined(__x86_64__)
    switch (ctr_simd_level()) {
        case ctr_simd::v512: return ctr_crypt<ctr_kernels_v512>(ctx, offset, in, out, n);
        case ctr_simd::v256: return ctr_crypt<ctr_kernels_v256>(ctx, offset, in, out, n);
        case ctr_simd::v128: break;
    }
#endif
    ctr_crypt<ctr_kernels_v128>(ctx, offset, in, out, n);
}

[[noreturn]] inline void throw_size_error(std::size_t got, std::size_t want, errc kind, std::string_view what,
                                          std::string_view method_name) {
    throw error(kind, std::string(method_name) + " needs a " + std::to_string(want) + "-byte " + std::string(what) +
                          ", got " + std::to_string(got) + " bytes");
}

inline void check_size(std::size_t got, std::size_t want, errc kind, std::string_view what, std::string_view method_name) {
    if (got != want) throw_size_error(got, want, kind, what, method_name);
}

[[noreturn]] inline void throw_length_mismatch(std::size_t in, std::size_t out) {
    throw error(errc::invalid_argument, "ctr_stream::apply: input is " + std::to_string(in) +
                                            " bytes but output is " + std::to_string(out));
}

}  // namespace detail

/// A keyed CTR keystream over one file's (key, IV). `apply` is const and re-entrant: many threads
/// may read one file through one stream.
template <cipher_policy C>
class ctr_stream final {
public:
    using policy = C;
    /// Counter blocks encrypted per bulk call.
    static constexpr std::size_t batch_blocks = detail::ctr_batch_blocks;

    ctr_stream(std::span<const std::byte> key, std::span<const std::byte> iv)
        : m_cipher(detail::botan_compat::make_block_cipher(std::string(C::block_cipher))) {
        if (key.size() != C::key_size) detail::throw_size_error(key.size(), C::key_size, errc::invalid_key_size, "key", C::name);
        if (iv.size() != C::iv_size) detail::throw_size_error(iv.size(), C::iv_size, errc::invalid_iv_size, "IV", C::name);
        m_cipher->set_key(reinterpret_cast<const std::uint8_t*>(key.data()), key.size());
        m_iv_hi = detail::load_be<std::uint64_t>(iv.data());
        m_iv_lo = detail::load_be<std::uint64_t>(iv.data() + 8);
        m_parallel = std::clamp<std::size_t>(m_cipher->parallelism(), 1, detail::ctr_batch_blocks);
    }

    /// En/decrypts `data` in place as the bytes at file offset `offset`.
    void apply(std::uint64_t offset, std::span<std::byte> data) const { apply(offset, data, data); }

    /// En/decrypts `in` into `out` (same size; may be the same buffer, not partly overlapping).
    void apply(std::uint64_t offset, std::span<const std::byte> in, std::span<std::byte> out) const {
        if (in.size() != out.size()) detail::throw_length_mismatch(in.size(), out.size());
        if (in.empty()) return;
        detail::ctr_crypt_dispatch({*m_cipher, m_iv_hi, m_iv_lo, m_parallel}, offset, in.data(), out.data(), in.size());
    }

private:
    detail::botan_compat::owned<Botan::BlockCipher> m_cipher;
    std::uint64_t m_iv_hi = 0;
    std::uint64_t m_iv_lo = 0;
    std::size_t m_parallel = 1;
};

/// Plaintext "stream": the identity, so generic code needs no special case.
template <>
class ctr_stream<plaintext> final {
public:
    using policy = plaintext;

    ctr_stream(std::span<const std::byte> key, std::span<const std::byte> iv) {
        detail::check_size(key.size(), 0, errc::invalid_key_size, "key", plaintext::name);
        detail::check_size(iv.size(), 0, errc::invalid_iv_size, "IV", plaintext::name);
    }
    ctr_stream() = default;

    void apply(std::uint64_t, std::span<std::byte>) const noexcept {}

    void apply(std::uint64_t, std::span<const std::byte> in, std::span<std::byte> out) const {
        if (in.size() != out.size()) detail::throw_length_mismatch(in.size(), out.size());
        if (!in.empty() && in.data() != out.data()) std::memmove(out.data(), in.data(), in.size());
    }
};

}  // namespace atrest
