#pragma once
/// The CTR engine. TiKV's layout: the 16-byte IV is one 128-bit big-endian counter and the
/// keystream block for byte offset o is E(key, IV + o/16 mod 2^128) — identical to OpenSSL's
/// `aes-*-ctr`, so files can be checked with outside tools. We do not use Botan's CTR mode (it
/// runs at half the block cipher's speed): counters are laid out in a stack batch, encrypted with
/// one bulk `encrypt_n` call and XORed into the data. No allocation, one indirect call per batch.

#include <atrest/cipher/cipher_policy.hpp>
#include <atrest/detail/botan_compat.hpp>
#include <atrest/detail/endian.hpp>
#include <atrest/error.hpp>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <span>
#include <string>

namespace atrest {

namespace detail {

/// out[i] = in[i] ^ ks[i]; word-wise so the compiler emits vector XORs. `out` may equal `in`.
inline void xor_into(std::byte* out, const std::byte* in, const std::uint8_t* ks, std::size_t n) noexcept {
    std::size_t i = 0;
    for (; i + 32 <= n; i += 32) {
        std::uint64_t a[4];
        std::uint64_t k[4];
        std::memcpy(a, in + i, 32);
        std::memcpy(k, ks + i, 32);
        a[0] ^= k[0];
        a[1] ^= k[1];
        a[2] ^= k[2];
        a[3] ^= k[3];
        std::memcpy(out + i, a, 32);
    }
    for (; i < n; ++i) out[i] = in[i] ^ static_cast<std::byte>(ks[i]);
}

[[noreturn]] inline void throw_size_error(std::size_t got, std::size_t want, errc kind, std::string_view what,
                                          std::string_view method_name) {
    throw error(kind, std::string(method_name) + " needs a " + std::to_string(want) + "-byte " + std::string(what) +
                          ", got " + std::to_string(got) + " bytes");
}

inline void check_size(std::size_t got, std::size_t want, errc kind, std::string_view what, std::string_view method_name) {
    if (got != want) throw_size_error(got, want, kind, what, method_name);
}

}  // namespace detail

/// A keyed CTR keystream over one file's (key, IV). `apply` is const and re-entrant: many threads
/// may read one file through one stream.
template <cipher_policy C>
class ctr_stream final {
public:
    using policy = C;
    /// Counter blocks encrypted per bulk call: 1 KiB of stack, L1-resident, long enough for
    /// Botan's 4/8-way AES-NI and VAES paths to run at full width.
    static constexpr std::size_t batch_blocks = 64;

    ctr_stream(std::span<const std::byte> key, std::span<const std::byte> iv)
        : m_cipher(detail::botan_compat::make_block_cipher(std::string(C::block_cipher))) {
        if (key.size() != C::key_size) detail::throw_size_error(key.size(), C::key_size, errc::invalid_key_size, "key", C::name);
        if (iv.size() != C::iv_size) detail::throw_size_error(iv.size(), C::iv_size, errc::invalid_iv_size, "IV", C::name);
        m_cipher->set_key(reinterpret_cast<const std::uint8_t*>(key.data()), key.size());
        m_iv_hi = detail::load_be<std::uint64_t>(iv.data());
        m_iv_lo = detail::load_be<std::uint64_t>(iv.data() + 8);
    }

    /// En/decrypts `data` in place as the bytes at file offset `offset`.
    void apply(std::uint64_t offset, std::span<std::byte> data) const { apply(offset, data, data); }

    /// En/decrypts `in` into `out` (same size; may be the same buffer, not partly overlapping).
    void apply(std::uint64_t offset, std::span<const std::byte> in, std::span<std::byte> out) const {
        if (in.size() != out.size()) {
            throw error(errc::invalid_argument, "ctr_stream::apply: input is " + std::to_string(in.size()) +
                                                    " bytes but output is " + std::to_string(out.size()));
        }
        const std::size_t n = in.size();
        if (n == 0) return;
        const std::uint64_t block = offset / block_size;
        std::size_t skip = static_cast<std::size_t>(offset % block_size);
        std::uint64_t lo = m_iv_lo + block;
        std::uint64_t hi = m_iv_hi + (lo < m_iv_lo ? 1 : 0);  // 128-bit add; wraps at 2^128

        alignas(64) std::array<std::uint8_t, batch_blocks * block_size> ks;
        std::size_t pos = 0;
        while (pos < n) {
            const std::size_t want = skip + (n - pos);
            const std::size_t blocks = std::min(batch_blocks, (want + block_size - 1) / block_size);
            for (std::size_t b = 0; b < blocks; ++b) {
                detail::store_be(ks.data() + b * block_size, hi);
                detail::store_be(ks.data() + b * block_size + 8, lo);
                if (++lo == 0) ++hi;
            }
            m_cipher->encrypt_n(ks.data(), ks.data(), blocks);
            const std::size_t take = std::min(blocks * block_size - skip, n - pos);
            detail::xor_into(out.data() + pos, in.data() + pos, ks.data() + skip, take);
            pos += take;
            skip = 0;
        }
    }

private:
    static constexpr std::size_t block_size = 16;
    std::unique_ptr<Botan::BlockCipher> m_cipher;
    std::uint64_t m_iv_hi = 0;
    std::uint64_t m_iv_lo = 0;
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
        if (in.size() != out.size()) {
            throw error(errc::invalid_argument, "ctr_stream::apply: input is " + std::to_string(in.size()) +
                                                    " bytes but output is " + std::to_string(out.size()));
        }
        if (!in.empty() && in.data() != out.data()) std::memmove(out.data(), in.data(), in.size());
    }
};

}  // namespace atrest
