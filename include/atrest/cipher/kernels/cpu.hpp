#pragma once
/// What the CPU is, for the CTR kernel choice and for benchmark reports: vendor, family and model
/// (as CPUID reports them), the microarchitecture those name, the brand string, and the
/// instruction-set features the kernels need (with the OS's consent to use the wide registers).
/// Probed once per process; trivially destructible, so it is safe to use from static destructors.

#include <array>
#include <cstdint>
#include <cstring>
#include <string_view>

#if defined(__x86_64__)
#include <cpuid.h>
#endif

namespace atrest::detail {

enum class cpu_vendor : std::uint8_t { other, intel, amd };

struct cpu_description {
    cpu_vendor vendor = cpu_vendor::other;
    unsigned family = 0;  ///< display family (base + extended), e.g. 0x19 for AMD Zen 3/4
    unsigned model = 0;   ///< display model (base + extended << 4)
    std::array<char, 49> brand{};  ///< CPUID brand string, NUL-terminated ("" where there is none)
    // Features, each true only if the CPU has it and the OS saves the registers it uses.
    bool aes = false;
    bool sse41 = false;
    bool avx2 = false;
    bool vaes = false;
    bool avx512f = false;
    bool gfni = false;

    /// The microarchitecture family/model names, or "" where this table does not know it. Only
    /// used for reports and for the vector-width rule in `ctr_kernel.hpp`.
    [[nodiscard]] std::string_view microarchitecture() const noexcept {
        if (vendor == cpu_vendor::amd) {
            if (family == 0x17) return model >= 0x30 ? "Zen 2" : "Zen / Zen+";
            if (family == 0x19) {
                if (model <= 0x0f || (model >= 0x20 && model <= 0x5f)) return "Zen 3";
                return "Zen 4";
            }
            if (family == 0x1a) return "Zen 5";
        }
        if (vendor == cpu_vendor::intel && family == 6) {
            switch (model) {
                case 0x55: return "Skylake-SP / Cascade Lake / Cooper Lake";
                case 0x6a:
                case 0x6c: return "Ice Lake-SP";
                case 0x8f: return "Sapphire Rapids";
                case 0xcf: return "Emerald Rapids";
                case 0xad:
                case 0xae: return "Granite Rapids";
                case 0xaf: return "Sierra Forest";
                case 0x97:
                case 0x9a: return "Alder Lake";
                case 0xb7:
                case 0xba:
                case 0xbf: return "Raptor Lake";
                default: break;
            }
        }
        return "";
    }
};

#if defined(__x86_64__)
[[nodiscard]] inline cpu_description probe_cpu() noexcept {
    cpu_description d;
    unsigned a = 0, b = 0, c = 0, e = 0;
    if (__get_cpuid(0, &a, &b, &c, &e) != 0) {
        char vendor[12];
        std::memcpy(vendor, &b, 4);
        std::memcpy(vendor + 4, &e, 4);
        std::memcpy(vendor + 8, &c, 4);
        if (std::memcmp(vendor, "GenuineIntel", 12) == 0) d.vendor = cpu_vendor::intel;
        if (std::memcmp(vendor, "AuthenticAMD", 12) == 0) d.vendor = cpu_vendor::amd;
    }
    if (__get_cpuid(1, &a, &b, &c, &e) != 0) {
        const unsigned base_family = (a >> 8) & 0xf;
        const unsigned base_model = (a >> 4) & 0xf;
        d.family = base_family == 0xf ? base_family + ((a >> 20) & 0xff) : base_family;
        d.model = (base_family == 0x6 || base_family == 0xf) ? base_model + (((a >> 16) & 0xf) << 4) : base_model;
    }
    if (__get_cpuid(0x80000000, &a, &b, &c, &e) != 0 && a >= 0x80000004) {
        for (unsigned leaf = 0; leaf < 3; ++leaf) {
            unsigned r[4] = {};
            __get_cpuid(0x80000002 + leaf, &r[0], &r[1], &r[2], &r[3]);
            std::memcpy(d.brand.data() + leaf * 16, r, 16);
        }
    }
    // libgcc's checks include XGETBV: AVX2/AVX-512 count only when the OS saves those registers.
    __builtin_cpu_init();
    d.aes = __builtin_cpu_supports("aes") != 0;
    d.sse41 = __builtin_cpu_supports("sse4.1") != 0;
    d.avx2 = __builtin_cpu_supports("avx2") != 0;
    d.avx512f = __builtin_cpu_supports("avx512f") != 0;
#if defined(__clang__) && __clang_major__ < 16
    // Clang before 16 knows no "vaes"/"gfni" for __builtin_cpu_supports: CPUID leaf 7 ECX bits 9
    // and 8, VAES counted only with AVX2 (whose check covers the OS saving the YMM registers).
    unsigned l7a = 0, l7b = 0, l7c = 0, l7d = 0;
    const bool leaf7 = __get_cpuid_count(7, 0, &l7a, &l7b, &l7c, &l7d) != 0;
    d.vaes = leaf7 && d.avx2 && ((l7c >> 9) & 1u) != 0;
    d.gfni = leaf7 && ((l7c >> 8) & 1u) != 0;
#else
    d.vaes = __builtin_cpu_supports("vaes") != 0;
    d.gfni = __builtin_cpu_supports("gfni") != 0;
#endif
    return d;
}
#else
[[nodiscard]] inline cpu_description probe_cpu() noexcept { return {}; }
#endif

/// This machine, probed on first use.
[[nodiscard]] inline const cpu_description& this_cpu() noexcept {
    static const cpu_description d = probe_cpu();
    return d;
}

}  // namespace atrest::detail
