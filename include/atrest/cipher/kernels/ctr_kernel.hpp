#pragma once
/// Which code runs a `ctr_stream`: the kernels, the switch that restricts streams to Botan's block
/// ciphers, and the rule that picks a kernel for a method on this CPU.
///
/// The rule uses CPUID (features, vendor, family/model), not a timing calibration: it costs
/// nothing at start-up, gives the same choice on every run of a binary on a machine (a
/// calibration on a shared or throttled host would not), and can be tested for every CPU in the
/// table by passing a made-up description. What it encodes, from measurements on Zen 1, Zen 3,
/// Zen 5 and Sapphire Rapids (docs/performance.md):
///   - AES: the fused kernels (x86_aes.hpp) whenever the CPU has AES-NI — VAES-256 where present,
///     else 128-bit AES-NI; a fused pass beats counters + Botan's `encrypt_n` + XOR by avoiding two
///     extra passes over memory.
///   - SM4: our AES-NI/affine kernels (x86_sm4.hpp) on AVX2 CPUs, VAES-256 where present — except
///     with Botan 3 on a GFNI CPU, where Botan's own GFNI SM4 is faster than the AES-NI method.
///   - Everything else, and every method when Botan is required: the two-pass engine over Botan
///     (two_pass.hpp), its counter/XOR passes 64 bytes wide only on AMD Zen 4/5 (AVX-512 at full
///     clock; measured best on Zen 5), 32 bytes (AVX2) elsewhere — on Intel parts the 512-bit
///     passes between 128/256-bit AES batches cost more than they gain — and 16 bytes otherwise,
///     and on Zen/Zen+, which split every 256-bit operation in two (measured 2–3% faster there).
///
/// Requiring Botan: build with the CMake option ATREST_CTR_BOTAN_ONLY=ON (the x86 kernels are not
/// compiled at all), or at run time set the environment variable ATREST_CTR_IMPLEMENTATION=botan
/// or call `set_ctr_implementation(ctr_implementation::botan)` before the streams are made.

#include <atrest/cipher/kernels/cpu.hpp>
#include <atrest/cipher/methods.hpp>
#include <atrest/error.hpp>

#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#if defined(__x86_64__) && !(defined(ATREST_CTR_BOTAN_ONLY) && ATREST_CTR_BOTAN_ONLY)
#define ATREST_CTR_X86_KERNELS 1
#else
#define ATREST_CTR_X86_KERNELS 0
#endif

namespace atrest {

/// The code a `ctr_stream` runs (`ctr_stream::kernel()` says which one a stream got).
enum class ctr_kernel : std::uint8_t {
    botan_v128,      ///< Botan's block cipher, counters and XOR 16 bytes at a time
    botan_v256,      ///< Botan's block cipher, counters and XOR 32 bytes at a time (AVX2)
    botan_v512,      ///< Botan's block cipher, counters and XOR 64 bytes at a time (AVX-512F)
    aes_ni,          ///< fused AES-CTR, 128-bit AES-NI (x86-64)
    aes_vaes256,     ///< fused AES-CTR, 256-bit VAES (x86-64)
    sm4_aesni_avx2,  ///< SM4 S-box by AESENCLAST, AVX2 with 128-bit AESENCLAST (x86-64)
    sm4_vaes_avx2,   ///< SM4 S-box by AESENCLAST, AVX2 with 256-bit VAES AESENCLAST (x86-64)
};

inline constexpr ctr_kernel all_ctr_kernels[] = {ctr_kernel::botan_v128,     ctr_kernel::botan_v256,
                                                 ctr_kernel::botan_v512,     ctr_kernel::aes_ni,
                                                 ctr_kernel::aes_vaes256,    ctr_kernel::sm4_aesni_avx2,
                                                 ctr_kernel::sm4_vaes_avx2};

[[nodiscard]] constexpr std::string_view to_string(ctr_kernel k) noexcept {
    switch (k) {
        case ctr_kernel::botan_v128: return "botan-v128";
        case ctr_kernel::botan_v256: return "botan-v256";
        case ctr_kernel::botan_v512: return "botan-v512";
        case ctr_kernel::aes_ni: return "aes-ni";
        case ctr_kernel::aes_vaes256: return "aes-vaes256";
        case ctr_kernel::sm4_aesni_avx2: return "sm4-aesni-avx2";
        case ctr_kernel::sm4_vaes_avx2: return "sm4-vaes-avx2";
    }
    return "unknown";
}

/// Whether streams may use atrest's own AES/SM4 code (`automatic`) or must get all AES and SM4
/// from Botan (`botan`).
enum class ctr_implementation : std::uint8_t { automatic, botan };

/// The environment variable read once, at the first stream, unless `set_ctr_implementation` ran.
inline constexpr const char* ctr_implementation_env = "ATREST_CTR_IMPLEMENTATION";

namespace detail {

/// 0: not decided yet; 1 + ctr_implementation; 3: the environment variable has a bad value.
[[nodiscard]] inline std::atomic<std::uint8_t>& ctr_implementation_state() noexcept {
    static std::atomic<std::uint8_t> state{0};  // trivially destructible: safe after main()
    return state;
}

inline constexpr std::uint8_t ctr_implementation_bad_env = 3;

[[nodiscard]] inline std::uint8_t ctr_implementation_from_env() noexcept {
    const char* v = std::getenv(ctr_implementation_env);
    if (v == nullptr || std::string_view(v).empty() || std::string_view(v) == "auto") {
        return 1 + static_cast<std::uint8_t>(ctr_implementation::automatic);
    }
    if (std::string_view(v) == "botan") return 1 + static_cast<std::uint8_t>(ctr_implementation::botan);
    return ctr_implementation_bad_env;
}

}  // namespace detail

/// Process-wide: streams constructed after the call use `impl`; existing streams keep their kernel.
inline void set_ctr_implementation(ctr_implementation impl) noexcept {
    detail::ctr_implementation_state().store(1 + static_cast<std::uint8_t>(impl), std::memory_order_relaxed);
}

/// The current setting: what `set_ctr_implementation` set, else the environment variable
/// ("auto" or "botan"; unset or empty is "auto"). A bad value is `errc::config`.
[[nodiscard]] inline ctr_implementation current_ctr_implementation() {
    auto& state = detail::ctr_implementation_state();
    std::uint8_t v = state.load(std::memory_order_relaxed);
    if (v == 0) {
        std::uint8_t expected = 0;
        state.compare_exchange_strong(expected, detail::ctr_implementation_from_env(), std::memory_order_relaxed);
        v = state.load(std::memory_order_relaxed);
    }
    if (v == detail::ctr_implementation_bad_env) {
        const char* bad = std::getenv(ctr_implementation_env);
        throw error(errc::config, std::string(ctr_implementation_env) + "=\"" + (bad != nullptr ? bad : "") +
                                      "\" is not a CTR implementation; accepted: \"auto\", \"botan\"");
    }
    return static_cast<ctr_implementation>(v - 1);
}

namespace detail {

/// True for kernels that run over Botan's block cipher.
[[nodiscard]] constexpr bool is_botan_kernel(ctr_kernel k) noexcept {
    return k == ctr_kernel::botan_v128 || k == ctr_kernel::botan_v256 || k == ctr_kernel::botan_v512;
}

[[nodiscard]] constexpr bool is_aes_method(method m) noexcept {
    return m == method::aes128_ctr || m == method::aes192_ctr || m == method::aes256_ctr;
}

inline constexpr bool x86_64_build =
#if defined(__x86_64__)
    true;
#else
    false;
#endif

/// Whether this build can run kernel `k` for method `m` on `cpu`.
[[nodiscard]] constexpr bool ctr_kernel_runs(ctr_kernel k, method m, const cpu_description& cpu) noexcept {
    const bool aes = ATREST_CTR_X86_KERNELS && is_aes_method(m) && cpu.aes;
    const bool sm4 = ATREST_CTR_X86_KERNELS && m == method::sm4_ctr && cpu.aes && cpu.avx2;
    switch (k) {
        case ctr_kernel::botan_v128: return true;
        case ctr_kernel::botan_v256: return x86_64_build && cpu.avx2;
        case ctr_kernel::botan_v512: return x86_64_build && cpu.avx512f;
        case ctr_kernel::aes_ni: return aes && cpu.sse41;
        case ctr_kernel::aes_vaes256: return aes && cpu.avx2 && cpu.vaes;
        case ctr_kernel::sm4_aesni_avx2: return sm4;
        case ctr_kernel::sm4_vaes_avx2: return sm4 && cpu.vaes;
    }
    return false;
}

/// The kernels this build can run for method `m` on this machine (tests and benchmarks force each).
[[nodiscard]] inline std::vector<ctr_kernel> runnable_ctr_kernels(method m) {
    std::vector<ctr_kernel> out;
    for (ctr_kernel k : all_ctr_kernels) {
        if (ctr_kernel_runs(k, m, this_cpu())) out.push_back(k);
    }
    return out;
}

/// Whether `cpu` runs each 256-bit instruction as two 128-bit halves: AMD Zen and Zen+ (family
/// 0x17 below model 0x30; Zen 2 has full-width units).
[[nodiscard]] constexpr bool splits_256_bit_ops(const cpu_description& cpu) noexcept {
    return cpu.vendor == cpu_vendor::amd && cpu.family == 0x17 && cpu.model < 0x30;
}

/// The two-pass width over Botan for `cpu` (see the file comment for why).
[[nodiscard]] constexpr ctr_kernel botan_kernel_for(const cpu_description& cpu) noexcept {
    if (x86_64_build && cpu.avx512f && cpu.vendor == cpu_vendor::amd && cpu.family >= 0x19) return ctr_kernel::botan_v512;
    if (x86_64_build && cpu.avx2 && !splits_256_bit_ops(cpu)) return ctr_kernel::botan_v256;
    return ctr_kernel::botan_v128;
}

/// The kernel for method `m` (not plaintext) on `cpu` under `impl`, with a Botan of major version
/// `botan_major`.
[[nodiscard]] constexpr ctr_kernel choose_ctr_kernel(method m, const cpu_description& cpu, ctr_implementation impl,
                                                     int botan_major) noexcept {
    if (impl == ctr_implementation::automatic) {
        const ctr_kernel own[] = {ctr_kernel::aes_vaes256, ctr_kernel::aes_ni, ctr_kernel::sm4_vaes_avx2,
                                  ctr_kernel::sm4_aesni_avx2};
        const bool botan_sm4_is_faster = m == method::sm4_ctr && botan_major >= 3 && cpu.gfni && cpu.avx2;
        for (ctr_kernel k : own) {
            if (!botan_sm4_is_faster && ctr_kernel_runs(k, m, cpu)) return k;
        }
    }
    return botan_kernel_for(cpu);
}

}  // namespace detail

}  // namespace atrest
