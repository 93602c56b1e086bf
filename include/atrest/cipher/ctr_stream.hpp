#pragma once
/// The CTR engine. TiKV's layout: the 16-byte IV is one 128-bit big-endian counter and the
/// keystream block for byte offset o is E(key, IV + o/16 mod 2^128) — identical to OpenSSL's
/// `aes-*-ctr`, so files can be checked with outside tools.
///
/// A stream picks its kernel once, at construction (kernels/ctr_kernel.hpp has the rule): on
/// x86-64 with AES-NI, AES runs in atrest's own fused kernels (kernels/x86_aes.hpp) and SM4 in its
/// AES-NI/AVX2 kernels (kernels/x86_sm4.hpp); elsewhere, or when Botan is required (the CMake
/// option ATREST_CTR_BOTAN_ONLY, the environment variable ATREST_CTR_IMPLEMENTATION=botan or
/// `set_ctr_implementation`), counters are encrypted in batches with Botan's block cipher and
/// XORed into the data (kernels/two_pass.hpp). No allocation per call, one indirect call per call.

#include <atrest/cipher/methods.hpp>
#include <atrest/cipher/kernels/ctr_kernel.hpp>
#include <atrest/cipher/kernels/ctr_state.hpp>
#include <atrest/cipher/kernels/two_pass.hpp>
#include <atrest/detail/botan_compat.hpp>
#include <atrest/detail/endian.hpp>
#include <atrest/error.hpp>

#if ATREST_CTR_X86_KERNELS
#include <atrest/cipher/kernels/x86_aes.hpp>
#include <atrest/cipher/kernels/x86_sm4.hpp>
#endif

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <utility>

namespace atrest {

namespace detail {

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

/// The kernel function for policy C and kernel k (nullptr where this build has no such kernel).
template <class C>
[[nodiscard]] constexpr ctr_kernel_fn ctr_kernel_function(ctr_kernel k) noexcept {
    switch (k) {
        case ctr_kernel::botan_v128: return &ctr_over_botan<two_pass_v128>;
#if defined(__x86_64__)
        case ctr_kernel::botan_v256: return &ctr_over_botan<two_pass_v256>;
        case ctr_kernel::botan_v512: return &ctr_over_botan<two_pass_v512>;
#endif
#if ATREST_CTR_X86_KERNELS
        case ctr_kernel::aes_ni:
        case ctr_kernel::aes_vaes256:
            if constexpr (is_aes_method(C::id)) {
                constexpr int rounds = static_cast<int>(C::key_size / 4 + 6);
                return k == ctr_kernel::aes_ni ? &aes_x86_aesni::ctr<rounds> : &aes_x86_vaes::ctr<rounds>;
            }
            break;
        case ctr_kernel::sm4_aesni_avx2:
            if constexpr (C::id == method::sm4_ctr) return &sm4_ctr<&sm4_x86_aesni_avx2::encrypt_blocks>;
            break;
        case ctr_kernel::sm4_vaes_avx2:
            if constexpr (C::id == method::sm4_ctr) return &sm4_ctr<&sm4_x86_vaes::encrypt_blocks>;
            break;
#endif
        default: break;
    }
    return nullptr;
}

/// What a moved-from stream runs: a typed error instead of a null dereference.
[[noreturn]] inline void ctr_moved_from(const ctr_state&, std::uint64_t, const std::byte*, std::byte*, std::size_t) {
    throw error(errc::invalid_argument, "ctr_stream::apply on a moved-from stream");
}

}  // namespace detail

/// A keyed CTR keystream over one file's (key, IV). `apply` is const and re-entrant: many threads
/// may read one file through one stream. The key schedule lives inside the object (round keys in
/// a member array, or Botan's object for the Botan kernels) and is scrubbed when it is destroyed,
/// at any time, also after `main` returns.
template <cipher_policy C>
class ctr_stream final {
public:
    using policy = C;
    /// Counter blocks per bulk call of the two-pass engine (the Botan kernels and SM4).
    static constexpr std::size_t batch_blocks = detail::ctr_batch_blocks;

    /// Keys a stream with the kernel this CPU runs best (kernels/ctr_kernel.hpp).
    ctr_stream(std::span<const std::byte> key, std::span<const std::byte> iv)
        : ctr_stream(key, iv, detail::choose_ctr_kernel(C::id, detail::this_cpu(), current_ctr_implementation(),
                                                        detail::botan_compat::botan_major)) {}

    /// Keys a stream that runs kernel `k` (for tests and benchmarks); `errc::unsupported` when this
    /// build or CPU cannot run `k` for C.
    ctr_stream(std::span<const std::byte> key, std::span<const std::byte> iv, ctr_kernel k) : m_kernel(k) {
        if (key.size() != C::key_size) detail::throw_size_error(key.size(), C::key_size, errc::invalid_key_size, "key", C::name);
        if (iv.size() != C::iv_size) detail::throw_size_error(iv.size(), C::iv_size, errc::invalid_iv_size, "IV", C::name);
        m_run = detail::ctr_kernel_function<C>(k);
        if (m_run == nullptr || !detail::ctr_kernel_runs(k, C::id, detail::this_cpu())) {
            throw error(errc::unsupported, "CTR kernel " + std::string(to_string(k)) + " cannot run " +
                                               std::string(C::name) + " in this build on this CPU");
        }
        m_state.iv_hi = detail::load_be<std::uint64_t>(iv.data());
        m_state.iv_lo = detail::load_be<std::uint64_t>(iv.data() + 8);
        if (detail::is_botan_kernel(k)) {
            m_cipher = detail::botan_compat::make_block_cipher(std::string(C::block_cipher));
            m_cipher->set_key(reinterpret_cast<const std::uint8_t*>(key.data()), key.size());
            m_state.botan = &*m_cipher;
            m_state.parallel = std::clamp<std::size_t>(m_cipher->parallelism(), 1, detail::ctr_batch_blocks);
            return;
        }
#if ATREST_CTR_X86_KERNELS
        if constexpr (detail::is_aes_method(C::id)) {
            detail::aes_expand_key(key.data(), C::key_size / 4, m_state.round_keys);
        } else if constexpr (C::id == method::sm4_ctr) {
            detail::sm4_expand_key(key.data(), m_state.round_keys);
        }
#endif
    }

    ctr_stream(ctr_stream&& other) noexcept
        : m_state(other.m_state), m_cipher(std::move(other.m_cipher)), m_kernel(other.m_kernel), m_run(other.m_run) {
        other.forget();
    }

    ctr_stream& operator=(ctr_stream&& other) noexcept {
        if (this != &other) {
            scrub();
            m_state = other.m_state;
            m_cipher = std::move(other.m_cipher);
            m_kernel = other.m_kernel;
            m_run = other.m_run;
            other.forget();
        }
        return *this;
    }

    ctr_stream(const ctr_stream&) = delete;
    ctr_stream& operator=(const ctr_stream&) = delete;

    ~ctr_stream() { scrub(); }

    /// En/decrypts `data` in place as the bytes at file offset `offset`.
    void apply(std::uint64_t offset, std::span<std::byte> data) const { apply(offset, data, data); }

    /// En/decrypts `in` into `out` (same size; may be the same buffer, not partly overlapping).
    void apply(std::uint64_t offset, std::span<const std::byte> in, std::span<std::byte> out) const {
        if (in.size() != out.size()) detail::throw_length_mismatch(in.size(), out.size());
        if (in.empty()) return;
        m_run(m_state, offset, in.data(), out.data(), in.size());
    }

    /// The kernel this stream runs.
    [[nodiscard]] ctr_kernel kernel() const noexcept { return m_kernel; }

private:
    void scrub() noexcept { detail::botan_compat::secure_scrub(&m_state, sizeof m_state); }

    void forget() noexcept {
        scrub();
        m_run = &detail::ctr_moved_from;
    }

    detail::ctr_state m_state;
    decltype(detail::botan_compat::make_block_cipher(std::string())) m_cipher;  // the Botan kernels only
    ctr_kernel m_kernel;
    detail::ctr_kernel_fn m_run = nullptr;
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
