// CTR throughput, ours against two independent implementations in the same process and run:
//   ctr/<m>/<n>          atrest::ctr_stream<C>::apply, in place (what an engine does after pread),
//                        with the kernel the stream picks on this CPU (printed in the context)
//   ctr_botan/<m>/<n>    the same with the kernel ATREST_CTR_IMPLEMENTATION=botan gives (all AES
//                        and SM4 from Botan's block cipher, two-pass)
//   kernel_<k>/<m>/16384 every other kernel this CPU can run for the method, 16 KiB only
//   openssl/<m>/<n>      OpenSSL EVP *-CTR, IV set per call, in place
//   botan_ctr/<m>/<n>    Botan's own CTR mode ("CTR-BE(<cipher>)"), seek per call, in place
//   botan_block/<m>/<n>  Botan's raw block cipher over the buffer (ECB encrypt_n): our ceiling
// for n = 64 B, 4 KiB, 16 KiB, 1 MiB, plus 4 KiB at random offsets in a 1 GiB file address space
// (`rand4096_aligned`: 4 KiB-aligned block reads; `rand4096_unaligned`: any byte offset).
// `ctr/plaintext/<n>` is the out-of-place identity (a memmove): the floor for a copy.
// Names line up so that `--benchmark_filter=/aes128/16384` shows one row of the comparison.
#include <atrest/cipher.hpp>

#include <botan/block_cipher.h>
#include <botan/stream_cipher.h>
#include <botan/version.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <benchmark/benchmark.h>

#include <array>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

namespace {

constexpr std::uint64_t file_space = std::uint64_t{1} << 30;  // 1 GiB of file offsets
constexpr std::size_t random_len = 4096;
constexpr std::size_t offset_count = 4096;  // power of two: index with a mask

enum class access { sequential, random_aligned, random_unaligned };

/// Deterministic "random" bytes: benchmarks need repeatable inputs, not secrets.
std::vector<std::byte> bytes(std::size_t n, std::uint64_t seed) {
    std::mt19937_64 rng(seed);
    std::vector<std::byte> v(n);
    for (auto& b : v) b = static_cast<std::byte>(rng());
    return v;
}

std::vector<std::uint64_t> offsets(access a) {
    std::mt19937_64 rng(a == access::random_aligned ? 11 : 12);
    std::vector<std::uint64_t> v(offset_count);
    for (auto& o : v) {
        o = a == access::random_aligned ? (rng() % (file_space / random_len)) * random_len
                                        : rng() % (file_space - random_len);
    }
    return v;
}

/// "aes128-ctr" -> "aes128".
std::string short_name(std::string_view method_name) {
    const auto dash = method_name.find("-ctr");
    return std::string(dash == std::string_view::npos ? method_name : method_name.substr(0, dash));
}

std::string case_name(std::string_view impl, std::string_view m, std::size_t n, access a) {
    std::string suffix = std::to_string(n);
    if (a == access::random_aligned) suffix = "rand4096_aligned";
    if (a == access::random_unaligned) suffix = "rand4096_unaligned";
    return std::string(impl) + "/" + short_name(m) + "/" + suffix;
}

/// Runs `one(offset, buffer)` per iteration over sequential (offset 0) or random offsets.
template <class F>
void drive(benchmark::State& state, std::size_t n, access a, F&& one) {
    auto buf = bytes(n, 3);
    const auto offs = a == access::sequential ? std::vector<std::uint64_t>(offset_count, 0) : offsets(a);
    std::size_t i = 0;
    for (auto _ : state) {
        one(offs[i++ & (offset_count - 1)], buf);
        benchmark::DoNotOptimize(buf.data());
        benchmark::ClobberMemory();
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * static_cast<std::int64_t>(n));
}

template <atrest::cipher_policy C>
atrest::ctr_stream<C> make_stream(const std::vector<std::byte>& key, const std::vector<std::byte>& iv,
                                  std::optional<atrest::ctr_kernel> kernel) {
    if constexpr (atrest::block_cipher_policy<C>) {
        if (kernel) return atrest::ctr_stream<C>(key, iv, *kernel);
    }
    return atrest::ctr_stream<C>(key, iv);
}

template <atrest::cipher_policy C>
void bench_ours(benchmark::State& state, std::size_t n, access a, std::optional<atrest::ctr_kernel> kernel) {
    const auto key = bytes(C::key_size, 1);
    const auto iv = bytes(C::iv_size, 2);
    const auto stream = make_stream<C>(key, iv, kernel);
    if constexpr (C::id == atrest::method::plaintext) {
        std::vector<std::byte> out(n);
        drive(state, n, a, [&](std::uint64_t off, std::vector<std::byte>& buf) { stream.apply(off, buf, out); });
        benchmark::DoNotOptimize(out.data());
    } else {
        drive(state, n, a, [&](std::uint64_t off, std::vector<std::byte>& buf) { stream.apply(off, buf); });
    }
}

const EVP_CIPHER* evp_for(atrest::method m) {
    switch (m) {
        case atrest::method::aes128_ctr: return EVP_aes_128_ctr();
        case atrest::method::aes192_ctr: return EVP_aes_192_ctr();
        case atrest::method::aes256_ctr: return EVP_aes_256_ctr();
        case atrest::method::sm4_ctr: return EVP_get_cipherbyname("SM4-CTR");
        default: return nullptr;
    }
}

using evp_ctx = std::unique_ptr<EVP_CIPHER_CTX, decltype(&EVP_CIPHER_CTX_free)>;

/// OpenSSL as a storage engine would drive it: keyed once, IV = file IV + offset/16 per read,
/// offset%16 keystream bytes discarded.
template <atrest::block_cipher_policy C>
void bench_openssl(benchmark::State& state, std::size_t n, access a) {
    const auto key = bytes(C::key_size, 1);
    const auto iv = bytes(C::iv_size, 2);
    evp_ctx ctx(EVP_CIPHER_CTX_new(), EVP_CIPHER_CTX_free);
    if (EVP_EncryptInit_ex(ctx.get(), evp_for(C::id), nullptr, reinterpret_cast<const unsigned char*>(key.data()),
                           nullptr) != 1) {
        state.SkipWithError("EVP_EncryptInit_ex failed");
        return;
    }
    const std::uint64_t iv_hi = atrest::detail::load_be<std::uint64_t>(iv.data());
    const std::uint64_t iv_lo = atrest::detail::load_be<std::uint64_t>(iv.data() + 8);
    drive(state, n, a, [&](std::uint64_t off, std::vector<std::byte>& buf) {
        const std::uint64_t lo = iv_lo + off / 16;
        std::array<unsigned char, 16> counter;
        atrest::detail::store_be(counter.data(), iv_hi + (lo < iv_lo ? 1 : 0));
        atrest::detail::store_be(counter.data() + 8, lo);
        int outl = 0;
        EVP_EncryptInit_ex(ctx.get(), nullptr, nullptr, nullptr, counter.data());
        if (const int skip = static_cast<int>(off % 16); skip != 0) {
            std::array<unsigned char, 16> discard{};
            EVP_EncryptUpdate(ctx.get(), discard.data(), &outl, discard.data(), skip);
        }
        auto* p = reinterpret_cast<unsigned char*>(buf.data());
        EVP_EncryptUpdate(ctx.get(), p, &outl, p, static_cast<int>(buf.size()));
    });
}

template <atrest::block_cipher_policy C>
void bench_botan_ctr(benchmark::State& state, std::size_t n, access a) {
    const auto key = bytes(C::key_size, 1);
    const auto iv = bytes(C::iv_size, 2);
    auto ctr = Botan::StreamCipher::create_or_throw("CTR-BE(" + std::string(C::block_cipher) + ")");
    ctr->set_key(reinterpret_cast<const std::uint8_t*>(key.data()), key.size());
    ctr->set_iv(reinterpret_cast<const std::uint8_t*>(iv.data()), iv.size());
    drive(state, n, a, [&](std::uint64_t off, std::vector<std::byte>& buf) {
        ctr->seek(off);
        ctr->cipher1(reinterpret_cast<std::uint8_t*>(buf.data()), buf.size());
    });
}

template <atrest::block_cipher_policy C>
void bench_botan_block(benchmark::State& state, std::size_t n, access a) {
    const auto key = bytes(C::key_size, 1);
    auto cipher = atrest::detail::botan_compat::make_block_cipher(std::string(C::block_cipher));
    cipher->set_key(reinterpret_cast<const std::uint8_t*>(key.data()), key.size());
    drive(state, n, a, [&](std::uint64_t, std::vector<std::byte>& buf) {
        auto* p = reinterpret_cast<std::uint8_t*>(buf.data());
        cipher->encrypt_n(p, p, buf.size() / 16);
    });
}

template <class F>
void add(const std::string& name, F f, std::size_t n, access a) {
    benchmark::RegisterBenchmark(name.c_str(), [f, n, a](benchmark::State& s) { f(s, n, a); });
}

template <atrest::cipher_policy C>
void add_ours(const std::string& name, std::size_t n, access a, std::optional<atrest::ctr_kernel> kernel) {
    benchmark::RegisterBenchmark(name.c_str(), [n, a, kernel](benchmark::State& s) { bench_ours<C>(s, n, a, kernel); });
}

/// The kernel a default stream of C gets here, and the one the Botan-only setting gives.
template <atrest::block_cipher_policy C>
atrest::ctr_kernel chosen_kernel(atrest::ctr_implementation impl) {
    return atrest::detail::choose_ctr_kernel(C::id, atrest::detail::this_cpu(), impl,
                                             atrest::detail::botan_compat::botan_major);
}

/// Registers one method's cases grouped by size, so implementations sit on adjacent lines.
template <atrest::cipher_policy C>
void register_method() {
    constexpr std::array<std::size_t, 4> sizes = {64, 4096, 16384, 1 << 20};
    constexpr std::array<access, 2> randoms = {access::random_aligned, access::random_unaligned};
    auto one_case = [](std::size_t n, access a) {
        add_ours<C>(case_name("ctr", C::name, n, a), n, a, std::nullopt);
        if constexpr (atrest::block_cipher_policy<C>) {
            const auto botan = chosen_kernel<C>(atrest::ctr_implementation::botan);
            if (botan != chosen_kernel<C>(atrest::ctr_implementation::automatic)) {
                add_ours<C>(case_name("ctr_botan", C::name, n, a), n, a, botan);
            }
            if (evp_for(C::id) != nullptr) add(case_name("openssl", C::name, n, a), bench_openssl<C>, n, a);
            add(case_name("botan_ctr", C::name, n, a), bench_botan_ctr<C>, n, a);
            if (a == access::sequential) add(case_name("botan_block", C::name, n, a), bench_botan_block<C>, n, a);
        }
    };
    for (std::size_t n : sizes) one_case(n, access::sequential);
    if constexpr (atrest::block_cipher_policy<C>) {
        for (access a : randoms) one_case(random_len, a);
        for (auto k : atrest::all_ctr_kernels) {
            if (k == chosen_kernel<C>(atrest::ctr_implementation::automatic) ||
                k == chosen_kernel<C>(atrest::ctr_implementation::botan) ||
                !atrest::detail::ctr_kernel_runs(k, C::id, atrest::detail::this_cpu())) {
                continue;
            }
            add_ours<C>(case_name("kernel_" + std::string(atrest::to_string(k)), C::name, 16384, access::sequential),
                        16384, access::sequential, k);
        }
    }
}

/// The CPU and the kernel each method runs, in the benchmark's context block.
void describe_cpu() {
    const auto& cpu = atrest::detail::this_cpu();
    char family_model[64];
    std::snprintf(family_model, sizeof family_model, "family 0x%x model 0x%x (%s)", cpu.family, cpu.model,
                  cpu.microarchitecture().empty() ? "not in atrest's table" : std::string(cpu.microarchitecture()).c_str());
    benchmark::AddCustomContext("cpu_brand", cpu.brand.data());
    benchmark::AddCustomContext("cpu_family_model", family_model);
    std::string features;
    for (auto [name, has] : {std::pair{"aes", cpu.aes}, {"sse4.1", cpu.sse41}, {"avx2", cpu.avx2}, {"vaes", cpu.vaes},
                             {"avx512f", cpu.avx512f}, {"gfni", cpu.gfni}}) {
        if (has) features += std::string(features.empty() ? "" : " ") + name;
    }
    benchmark::AddCustomContext("cpu_features", features.empty() ? "none of aes sse4.1 avx2 vaes avx512f gfni" : features);
    benchmark::AddCustomContext("ctr_implementation",
                                atrest::current_ctr_implementation() == atrest::ctr_implementation::botan ? "botan" : "auto");
    const auto kernel = [](auto policy) {
        using C = decltype(policy);
        return std::string(atrest::to_string(atrest::ctr_stream<C>(bytes(C::key_size, 1), bytes(16, 2)).kernel()));
    };
    benchmark::AddCustomContext("kernel_aes128", kernel(atrest::aes128_ctr{}));
    benchmark::AddCustomContext("kernel_aes192", kernel(atrest::aes192_ctr{}));
    benchmark::AddCustomContext("kernel_aes256", kernel(atrest::aes256_ctr{}));
    benchmark::AddCustomContext("kernel_sm4", kernel(atrest::sm4_ctr{}));
}

}  // namespace

int main(int argc, char** argv) {
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
    benchmark::AddCustomContext("botan", Botan::version_string());
    benchmark::AddCustomContext("openssl", OpenSSL_version(OPENSSL_VERSION));
    if (evp_for(atrest::method::sm4_ctr) == nullptr) benchmark::AddCustomContext("openssl_sm4", "missing");
    describe_cpu();
    register_method<atrest::plaintext>();
    register_method<atrest::aes128_ctr>();
    register_method<atrest::aes192_ctr>();
    register_method<atrest::aes256_ctr>();
    register_method<atrest::sm4_ctr>();
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
