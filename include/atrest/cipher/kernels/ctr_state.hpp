#pragma once
/// What every CTR kernel gets from a `ctr_stream`: the keyed state and the IV, and the one
/// signature all kernels share, so the stream calls the kernel it picked through one pointer.

#include <botan/block_cipher.h>

#include <cstddef>
#include <cstdint>

namespace atrest::detail {

inline constexpr std::size_t ctr_block_size = 16;

/// Room for the longest key schedule a kernel keeps: AES-256's 15 round keys of 16 bytes (SM4's
/// 32 round keys of 4 bytes fit in the first 128).
inline constexpr std::size_t ctr_round_key_bytes = 15 * 16;

/// The per-stream state. `round_keys` is a plain array inside the stream object (no heap, no
/// static), scrubbed by the stream's destructor; `botan` is set only for the kernels that run
/// over Botan's block cipher and points at the object the stream owns.
struct ctr_state {
    alignas(16) std::uint8_t round_keys[ctr_round_key_bytes] = {};
    std::uint64_t iv_hi = 0;  ///< the IV's first 8 bytes as a big-endian number
    std::uint64_t iv_lo = 0;  ///< the IV's last 8 bytes as a big-endian number
    const Botan::BlockCipher* botan = nullptr;
    std::size_t parallel = 1;  ///< blocks Botan's bulk path takes at once (the Botan kernels only)
};

/// A CTR kernel: en/decrypts `n` bytes at file `offset`, keystream block i = E(IV + offset/16 + i
/// mod 2^128). `in` and `out` are the same buffer or do not overlap.
using ctr_kernel_fn = void (*)(const ctr_state& state, std::uint64_t offset, const std::byte* in, std::byte* out,
                               std::size_t n);

/// The 128-bit counter of the block holding byte `offset`: IV + offset/16 with the carry from the
/// low into the high half, wrapping at 2^128.
struct counter128 {
    std::uint64_t hi;
    std::uint64_t lo;
};

[[nodiscard]] inline counter128 counter_at(const ctr_state& s, std::uint64_t offset) noexcept {
    const std::uint64_t lo = s.iv_lo + offset / ctr_block_size;
    return {s.iv_hi + (lo < s.iv_lo ? 1 : 0), lo};
}

/// `c` + `k` mod 2^128.
[[nodiscard]] inline counter128 counter_add(counter128 c, std::uint64_t k) noexcept {
    const std::uint64_t lo = c.lo + k;
    return {c.hi + (lo < c.lo ? 1 : 0), lo};
}

}  // namespace atrest::detail
