// The CTR engine's parts on their own: the two-pass engine's counter and XOR kernels (16-, 32- and
// 64-byte) against scalar code, the kernel choice for CPUs of every kind in the table, the switch
// that requires Botan, the test hook that forces a kernel, and what a stream does when it is
// moved or outlives main(). Every kernel's output is checked against OpenSSL and the Botan path
// in cipher_differential_test.cpp and against published vectors in cipher_kat_test.cpp.
#include "catch.hpp"
#include "expect_error.hpp"

#include <atrest/cipher.hpp>

#include <algorithm>
#include <array>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <random>
#include <string>
#include <vector>

namespace {

using atrest::ctr_kernel;
using atrest::detail::cpu_description;
using atrest_test::expect_error;

bool runs_here(ctr_kernel k) {
    return atrest::detail::ctr_kernel_runs(k, atrest::method::aes128_ctr, atrest::detail::this_cpu());
}

template <class Kernels>
void check_fill(std::mt19937_64& rng) {
    constexpr std::size_t guard = 64;
    constexpr std::size_t batch = atrest::detail::ctr_batch_blocks;
    for (int i = 0; i < 2000; ++i) {
        const std::uint64_t hi = rng();
        std::uint64_t lo = rng();
        if (i % 3 == 0) lo |= 0xffffffffffffff00u;  // next to the 2^64 carry, which must not happen
        const bool full = i % 4 == 0;
        const std::size_t blocks = full ? batch : 1 + rng() % batch;
        // The run may not pass a multiple of 256 (ctr_two_pass's guarantee); every third case ends
        // exactly on one.
        const std::uint64_t last_byte = (i % 3 == 2) ? 256 - blocks : rng() % (256 - blocks + 1);
        lo = (lo & ~std::uint64_t{0xff}) | last_byte;
        std::vector<std::uint8_t> got(batch * 16 + guard, 0xa5);
        std::uint64_t hi_mem;
        std::uint64_t lo_mem;
        atrest::detail::store_be(&hi_mem, hi);
        atrest::detail::store_be(&lo_mem, lo);
        if (full) {
            Kernels::template fill_batch<batch>(got.data(), hi_mem, lo_mem);
        } else {
            Kernels::fill(got.data(), hi_mem, lo_mem, blocks);
        }
        INFO("case " << i << " blocks " << blocks << " lo " << lo);
        for (std::size_t b = 0; b < blocks; ++b) {
            std::array<std::uint8_t, 16> want;
            atrest::detail::store_be(want.data(), hi);
            atrest::detail::store_be(want.data() + 8, lo + b);
            REQUIRE(std::memcmp(got.data() + b * 16, want.data(), 16) == 0);
        }
        // Only whole vectors are written: never past the batch buffer.
        CHECK(std::all_of(got.end() - guard, got.end(), [](std::uint8_t v) { return v == 0xa5; }));
    }
}

template <class Kernels>
void check_xor(std::mt19937_64& rng) {
    constexpr std::size_t batch_bytes = atrest::detail::ctr_batch_blocks * 16;
    for (std::size_t n = 0; n <= batch_bytes; n += (n < 400 ? 1 : 56)) {
        const bool full = n == batch_bytes;
        const std::size_t shift = rng() % 16;  // misaligned pointers
        std::vector<std::byte> in(n + 16);
        std::vector<std::uint8_t> ks(n + 16);
        for (auto& b : in) b = static_cast<std::byte>(rng());
        for (auto& b : ks) b = static_cast<std::uint8_t>(rng());
        std::vector<std::byte> want(n);
        for (std::size_t i = 0; i < n; ++i) want[i] = in[shift + i] ^ static_cast<std::byte>(ks[i + 1]);
        std::vector<std::byte> out(n + 1, std::byte{0x5a});
        const auto run = [&](std::byte* o, const std::byte* i) {
            if (full) {
                Kernels::template xor_batch<atrest::detail::ctr_batch_blocks>(o, i, ks.data() + 1);
            } else {
                Kernels::xor_into(o, i, ks.data() + 1, n);
            }
        };
        run(out.data(), in.data() + shift);
        INFO("length " << n);
        REQUIRE(std::equal(want.begin(), want.end(), out.begin()));
        CHECK(out[n] == std::byte{0x5a});
        run(in.data() + shift, in.data() + shift);  // in place
        REQUIRE(std::equal(want.begin(), want.end(), in.begin() + static_cast<std::ptrdiff_t>(shift)));
    }
}

/// A whole `ctr_two_pass` with these kernels, any rounding of the last batch, a 32- or 64-block
/// batch and balanced last batches equals the Botan path of `ctr_stream::apply` (checked against OpenSSL by the differential
/// test) for random offsets and lengths and IVs next to every carry.
template <class Kernels>
void check_two_pass(std::mt19937_64& rng) {
    std::array<std::byte, 16> key;
    for (auto& b : key) b = static_cast<std::byte>(rng());
    const auto cipher = atrest::detail::botan_compat::make_block_cipher("AES-128");
    cipher->set_key(reinterpret_cast<const std::uint8_t*>(key.data()), key.size());
    const auto encrypt = [&cipher](const std::uint8_t* i, std::uint8_t* o, std::size_t blocks) {
        cipher->encrypt_n(i, o, blocks);
    };
    for (int i = 0; i < 600; ++i) {
        std::array<std::byte, 16> iv;
        for (auto& b : iv) b = static_cast<std::byte>(rng());
        if (i % 4 == 1) std::fill(iv.begin() + 8, iv.end(), std::byte{0xff});
        if (i % 4 == 2) std::fill(iv.begin(), iv.end(), std::byte{0xff});
        if (i % 4 == 3) iv[15] = std::byte{0xfe};
        const atrest::ctr_stream<atrest::aes128_ctr> stream(key, iv, ctr_kernel::botan_v128);
        const std::uint64_t offset = rng() % 50000;
        std::vector<std::byte> in(rng() % 5000);
        for (auto& b : in) b = static_cast<std::byte>(rng());
        std::vector<std::byte> want(in.size());
        stream.apply(offset, in, want);
        atrest::detail::ctr_state state;
        state.iv_hi = atrest::detail::load_be<std::uint64_t>(iv.data());
        state.iv_lo = atrest::detail::load_be<std::uint64_t>(iv.data() + 8);
        std::vector<std::byte> got(in.size());
        INFO("case " << i << " offset " << offset << " length " << in.size());
        if (i % 3 == 0) {
            const std::size_t parallel = 1 + rng() % 32;  // any group width
            atrest::detail::ctr_two_pass<Kernels, 32>(state, encrypt, parallel, offset, in.data(), got.data(), in.size());
        } else if (i % 3 == 1) {
            const std::size_t parallel = 1 + rng() % 64;
            atrest::detail::ctr_two_pass<Kernels, 64>(state, encrypt, parallel, offset, in.data(), got.data(), in.size());
        } else {  // the last two batches balanced; group widths that divide the batch, as SM4's 8 does 64
            const std::size_t parallel = std::size_t{1} << (rng() % 7);
            atrest::detail::ctr_two_pass<Kernels, 64, true>(state, encrypt, parallel, offset, in.data(), got.data(),
                                                            in.size());
        }
        REQUIRE(got == want);
    }
}

template <class Kernels>
void check_all(ctr_kernel needs) {
    if (!runs_here(needs)) {
        WARN("this CPU lacks the vector width of " << atrest::to_string(needs) << "; its kernels not run");
        return;
    }
    std::mt19937_64 rng(42 + static_cast<int>(needs));
    check_fill<Kernels>(rng);
    check_xor<Kernels>(rng);
    check_two_pass<Kernels>(rng);
}

cpu_description made_up_cpu(atrest::detail::cpu_vendor vendor, unsigned family, unsigned model,
                             std::initializer_list<const char*> features) {
    cpu_description d;
    d.vendor = vendor;
    d.family = family;
    d.model = model;
    for (std::string_view f : features) {
        d.aes |= f == "aes";
        d.sse41 |= f == "sse4.1";
        d.avx2 |= f == "avx2";
        d.vaes |= f == "vaes";
        d.avx512f |= f == "avx512f";
        d.gfni |= f == "gfni";
    }
    return d;
}

/// Restores the process-wide implementation setting and the environment when a test ends.
struct implementation_guard {
    implementation_guard() {
        if (const char* v = std::getenv(atrest::ctr_implementation_env)) saved = v;
    }
    ~implementation_guard() {
        if (saved) {
            ::setenv(atrest::ctr_implementation_env, saved->c_str(), 1);
        } else {
            ::unsetenv(atrest::ctr_implementation_env);
        }
        atrest::detail::ctr_implementation_state().store(0);  // read the environment again
    }
    std::optional<std::string> saved;
};

}  // namespace

TEST_CASE("two-pass counter and XOR kernels equal scalar code at 16-byte width", "[cipher][kernels]") {
    check_all<atrest::detail::two_pass_v128>(ctr_kernel::botan_v128);
}

#if defined(__x86_64__)
TEST_CASE("two-pass counter and XOR kernels equal scalar code at 32-byte width (AVX2)", "[cipher][kernels]") {
    check_all<atrest::detail::two_pass_v256>(ctr_kernel::botan_v256);
}

TEST_CASE("two-pass counter and XOR kernels equal scalar code at 64-byte width (AVX-512)", "[cipher][kernels]") {
    check_all<atrest::detail::two_pass_v512>(ctr_kernel::botan_v512);
}
#endif

TEST_CASE("the kernel choice follows the CPU table", "[cipher][kernels]") {
    using atrest::method;
    using atrest::detail::choose_ctr_kernel;
    using atrest::detail::cpu_vendor;
    const auto automatic = atrest::ctr_implementation::automatic;
    const auto botan = atrest::ctr_implementation::botan;
    const auto zen3 = made_up_cpu(cpu_vendor::amd, 0x19, 0x01, {"aes", "sse4.1", "avx2", "vaes"});
    const auto zen5 = made_up_cpu(cpu_vendor::amd, 0x1a, 0x02, {"aes", "sse4.1", "avx2", "vaes", "avx512f", "gfni"});
    const auto sapphire = made_up_cpu(cpu_vendor::intel, 6, 0x8f, {"aes", "sse4.1", "avx2", "vaes", "avx512f", "gfni"});
    const auto skylake = made_up_cpu(cpu_vendor::intel, 6, 0x55, {"aes", "sse4.1", "avx2", "avx512f"});
    const auto westmere = made_up_cpu(cpu_vendor::intel, 6, 0x2c, {"aes", "sse4.1"});
    const auto zen1 = made_up_cpu(cpu_vendor::amd, 0x17, 0x01, {"aes", "sse4.1", "avx2"});
    const auto zen2 = made_up_cpu(cpu_vendor::amd, 0x17, 0x31, {"aes", "sse4.1", "avx2"});
    const auto bare = made_up_cpu(cpu_vendor::other, 0, 0, {});
    CHECK(zen3.microarchitecture() == "Zen 3");
    CHECK(zen5.microarchitecture() == "Zen 5");
    CHECK(sapphire.microarchitecture() == "Sapphire Rapids");
    CHECK(zen1.microarchitecture() == "Zen / Zen+");
    CHECK(zen2.microarchitecture() == "Zen 2");
    CHECK(made_up_cpu(cpu_vendor::amd, 0x19, 0x11, {}).microarchitecture() == "Zen 4");
    CHECK(bare.microarchitecture().empty());

#if ATREST_CTR_X86_KERNELS
    for (method m : {method::aes128_ctr, method::aes192_ctr, method::aes256_ctr}) {
        CHECK(choose_ctr_kernel(m, zen3, automatic, 2) == ctr_kernel::aes_vaes256);
        CHECK(choose_ctr_kernel(m, zen5, automatic, 3) == ctr_kernel::aes_vaes256);
        CHECK(choose_ctr_kernel(m, sapphire, automatic, 2) == ctr_kernel::aes_vaes256);
        CHECK(choose_ctr_kernel(m, skylake, automatic, 2) == ctr_kernel::aes_ni);
        CHECK(choose_ctr_kernel(m, westmere, automatic, 2) == ctr_kernel::aes_ni);
        CHECK(choose_ctr_kernel(m, zen1, automatic, 2) == ctr_kernel::aes_ni);
        CHECK(choose_ctr_kernel(m, zen2, automatic, 2) == ctr_kernel::aes_ni);
    }
    CHECK(choose_ctr_kernel(method::sm4_ctr, zen1, automatic, 2) == ctr_kernel::sm4_aesni_avx2);
    CHECK(choose_ctr_kernel(method::sm4_ctr, zen3, automatic, 2) == ctr_kernel::sm4_vaes_avx2);
    CHECK(choose_ctr_kernel(method::sm4_ctr, zen3, automatic, 3) == ctr_kernel::sm4_vaes_avx2);  // no GFNI
    CHECK(choose_ctr_kernel(method::sm4_ctr, sapphire, automatic, 2) == ctr_kernel::sm4_vaes_avx2);
    CHECK(choose_ctr_kernel(method::sm4_ctr, skylake, automatic, 2) == ctr_kernel::sm4_aesni_avx2);
    CHECK(choose_ctr_kernel(method::sm4_ctr, westmere, automatic, 2) == ctr_kernel::botan_v128);  // no AVX2
#elif !defined(__x86_64__)
    // Off x86-64 every method runs over Botan with 16-byte passes, whatever a made-up x86 CPU says.
    for (const auto& cpu : {zen3, zen5, sapphire, skylake, westmere}) {
        for (method m : {method::aes128_ctr, method::sm4_ctr}) {
            for (auto impl : {automatic, botan}) CHECK(choose_ctr_kernel(m, cpu, impl, 3) == ctr_kernel::botan_v128);
        }
    }
#endif
#if defined(__x86_64__)
    // Botan 3 has its own GFNI SM4, faster than the AES-NI method.
    CHECK(choose_ctr_kernel(method::sm4_ctr, zen5, automatic, 3) == ctr_kernel::botan_v512);
    CHECK(choose_ctr_kernel(method::sm4_ctr, sapphire, automatic, 3) == ctr_kernel::botan_v256);
    // Required Botan: the two-pass width per CPU (512-bit passes only on AMD Zen 4/5).
    for (method m : {method::aes128_ctr, method::aes256_ctr, method::sm4_ctr}) {
        CHECK(choose_ctr_kernel(m, zen3, botan, 2) == ctr_kernel::botan_v256);
        CHECK(choose_ctr_kernel(m, zen5, botan, 3) == ctr_kernel::botan_v512);
        CHECK(choose_ctr_kernel(m, sapphire, botan, 3) == ctr_kernel::botan_v256);
        CHECK(choose_ctr_kernel(m, skylake, botan, 2) == ctr_kernel::botan_v256);
        CHECK(choose_ctr_kernel(m, westmere, botan, 2) == ctr_kernel::botan_v128);
        CHECK(choose_ctr_kernel(m, zen1, botan, 2) == ctr_kernel::botan_v128);  // 256-bit operations split in two
        CHECK(choose_ctr_kernel(m, zen2, botan, 2) == ctr_kernel::botan_v256);
    }
#endif
    for (method m : {method::aes128_ctr, method::sm4_ctr}) {
        CHECK(choose_ctr_kernel(m, bare, automatic, 2) == ctr_kernel::botan_v128);
        CHECK(choose_ctr_kernel(m, bare, automatic, 3) == ctr_kernel::botan_v128);
    }
    // Whatever this machine is, the chosen kernel runs here.
    for (method m : {method::aes128_ctr, method::aes192_ctr, method::aes256_ctr, method::sm4_ctr}) {
        for (auto impl : {automatic, botan}) {
            CHECK(atrest::detail::ctr_kernel_runs(
                choose_ctr_kernel(m, atrest::detail::this_cpu(), impl, atrest::detail::botan_compat::botan_major), m,
                atrest::detail::this_cpu()));
        }
    }
}

TEST_CASE("Botan can be required at run time, by function or by environment variable", "[cipher][kernels]") {
    implementation_guard guard;
    const std::vector<std::byte> key(16, std::byte{1});
    const std::vector<std::byte> iv(16, std::byte{2});
    const auto botan_kernel = atrest::detail::botan_kernel_for(atrest::detail::this_cpu());

    atrest::set_ctr_implementation(atrest::ctr_implementation::botan);
    const atrest::ctr_stream<atrest::aes128_ctr> required(key, iv);
    CHECK(required.kernel() == botan_kernel);
    CHECK(atrest::ctr_stream<atrest::sm4_ctr>(key, iv).kernel() == botan_kernel);

    atrest::set_ctr_implementation(atrest::ctr_implementation::automatic);
    const atrest::ctr_stream<atrest::aes128_ctr> automatic(key, iv);
    CHECK(automatic.kernel() ==
          atrest::detail::choose_ctr_kernel(atrest::method::aes128_ctr, atrest::detail::this_cpu(),
                                            atrest::ctr_implementation::automatic, atrest::detail::botan_compat::botan_major));
    CHECK(required.kernel() == botan_kernel);  // a stream keeps the kernel it was made with

    ::setenv(atrest::ctr_implementation_env, "botan", 1);
    atrest::detail::ctr_implementation_state().store(0);
    CHECK(atrest::current_ctr_implementation() == atrest::ctr_implementation::botan);
    CHECK(atrest::ctr_stream<atrest::aes256_ctr>(std::vector<std::byte>(32), iv).kernel() == botan_kernel);

    ::setenv(atrest::ctr_implementation_env, "auto", 1);
    atrest::detail::ctr_implementation_state().store(0);
    CHECK(atrest::current_ctr_implementation() == atrest::ctr_implementation::automatic);

    ::setenv(atrest::ctr_implementation_env, "openssl", 1);
    atrest::detail::ctr_implementation_state().store(0);
    const auto e = expect_error([&] { atrest::ctr_stream<atrest::aes128_ctr> s(key, iv); });
    CHECK(e.code() == atrest::errc::config);
    CHECK(std::string(e.what()).find("ATREST_CTR_IMPLEMENTATION=\"openssl\"") != std::string::npos);
    CHECK(std::string(e.what()).find("\"botan\"") != std::string::npos);
    // The function overrides a bad environment.
    atrest::set_ctr_implementation(atrest::ctr_implementation::botan);
    CHECK(atrest::ctr_stream<atrest::aes128_ctr>(key, iv).kernel() == botan_kernel);
}

TEST_CASE("a forced kernel that cannot run here or cannot run the method is refused", "[cipher][kernels]") {
    const std::vector<std::byte> key(16);
    const std::vector<std::byte> iv(16);
    for (ctr_kernel k : atrest::all_ctr_kernels) {
        const bool aes_ok = atrest::detail::ctr_kernel_runs(k, atrest::method::aes128_ctr, atrest::detail::this_cpu());
        const bool sm4_ok = atrest::detail::ctr_kernel_runs(k, atrest::method::sm4_ctr, atrest::detail::this_cpu());
        INFO(atrest::to_string(k));
        if (aes_ok) {
            CHECK(atrest::ctr_stream<atrest::aes128_ctr>(key, iv, k).kernel() == k);
        } else {
            const auto e = expect_error([&] { atrest::ctr_stream<atrest::aes128_ctr> s(key, iv, k); });
            CHECK(e.code() == atrest::errc::unsupported);
            CHECK(std::string(e.what()).find(std::string(atrest::to_string(k))) != std::string::npos);
        }
        if (!sm4_ok) {
            CHECK(expect_error([&] { atrest::ctr_stream<atrest::sm4_ctr> s(key, iv, k); }).code() ==
                  atrest::errc::unsupported);
        }
    }
    // The AES kernels never run SM4 and the reverse.
    CHECK_FALSE(atrest::detail::ctr_kernel_runs(ctr_kernel::aes_vaes256, atrest::method::sm4_ctr, atrest::detail::this_cpu()));
    CHECK_FALSE(atrest::detail::ctr_kernel_runs(ctr_kernel::sm4_vaes_avx2, atrest::method::aes256_ctr, atrest::detail::this_cpu()));
}

TEST_CASE("a moved stream keeps working and the moved-from one refuses to run", "[cipher][kernels]") {
    const std::vector<std::byte> key(32, std::byte{7});
    const std::vector<std::byte> iv(16, std::byte{9});
    for (ctr_kernel k : atrest::detail::runnable_ctr_kernels(atrest::method::aes256_ctr)) {
        INFO(atrest::to_string(k));
        atrest::ctr_stream<atrest::aes256_ctr> a(key, iv, k);
        std::vector<std::byte> want(100, std::byte{0}), got(100, std::byte{0});
        a.apply(5, want);
        atrest::ctr_stream<atrest::aes256_ctr> b(std::move(a));
        b.apply(5, got);
        CHECK(got == want);
        CHECK(expect_error([&] { a.apply(0, got); }).code() == atrest::errc::invalid_argument);  // NOLINT: use after move is the test
        atrest::ctr_stream<atrest::aes256_ctr> c(std::vector<std::byte>(32), iv, k);
        c = std::move(b);
        std::fill(got.begin(), got.end(), std::byte{0});
        c.apply(5, got);
        CHECK(got == want);
        CHECK(c.kernel() == k);
    }
}

TEST_CASE("streams of every kernel held by statics are destroyed safely after main returns", "[cipher][kernels]") {
    // Destroyed after main(): our kernels' round keys are a plain member array, scrubbed in place;
    // the Botan kernels' streams hold Botan's object through botan_compat::owned, which parks it
    // once exit has begun (Botan's locked-memory pool may already be gone). Under ASan a use after
    // free or a bad scrub there fails the run; without the exit guard Botan 2 crashes here.
    static std::vector<atrest::ctr_stream<atrest::sm4_ctr>> sm4_streams;
    static std::vector<atrest::ctr_stream<atrest::aes256_ctr>> aes_streams;
    std::vector<std::vector<std::byte>> outs;
    std::vector<std::vector<std::byte>> aes_outs;
    for (ctr_kernel k : atrest::detail::runnable_ctr_kernels(atrest::method::sm4_ctr)) {
        sm4_streams.emplace_back(std::vector<std::byte>(16, std::byte{1}), std::vector<std::byte>(16), k);
        outs.emplace_back(64, std::byte{0});
        sm4_streams.back().apply(0, outs.back());
    }
    for (ctr_kernel k : atrest::detail::runnable_ctr_kernels(atrest::method::aes256_ctr)) {
        aes_streams.emplace_back(std::vector<std::byte>(32, std::byte{1}), std::vector<std::byte>(16), k);
        aes_outs.emplace_back(64, std::byte{0});
        aes_streams.back().apply(0, aes_outs.back());
    }
    REQUIRE_FALSE(sm4_streams.empty());  // the Botan path runs everywhere
    REQUIRE_FALSE(aes_streams.empty());
    for (const auto& o : outs) CHECK(o == outs.front());
    for (const auto& o : aes_outs) CHECK(o == aes_outs.front());
}
