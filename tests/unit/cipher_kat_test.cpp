// Known-answer tests for the CTR engine, run through every kernel this machine can run (the test
// hook forces each): NIST SP 800-38A F.5.1/F.5.3/F.5.5, GB/T 32907 SM4 (one block, and the
// standard's 1,000,000-fold encryption for the SM4 block kernels), FIPS-197 Appendix A key
// expansion and the GB/T 32907 round keys.
#include "catch.hpp"
#include "hex.hpp"

#include <atrest/cipher.hpp>
#include <atrest/detail/botan_compat.hpp>

#include <algorithm>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

using atrest_test::from_hex;
using atrest_test::to_hex;

namespace {

const char* const nist_iv = "f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff";
const char* const nist_plaintext =
    "6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e51"
    "30c81c46a35ce411e5fbc1191a0a52eff69f2445df4f9b17ad2b417be66c3710";

const char* const gbt_key = "0123456789abcdeffedcba9876543210";

template <class C>
void check_nist(const char* key_hex, const char* ciphertext_hex) {
    const auto key = from_hex(key_hex);
    const auto iv = from_hex(nist_iv);
    const auto expected_plain = from_hex(nist_plaintext);
    const auto kernels = atrest::detail::runnable_ctr_kernels(C::id);
    REQUIRE(kernels.size() >= 1);
    for (auto k : kernels) {
        INFO("kernel " << atrest::to_string(k));
        auto data = from_hex(nist_plaintext);
        atrest::ctr_stream<C> stream(key, iv, k);
        stream.apply(0, data);
        CHECK(to_hex(data) == ciphertext_hex);
        // Every unaligned suffix decrypts on its own: random access from any byte offset.
        for (std::size_t start = 0; start < data.size(); start += 7) {
            std::vector<std::byte> part(data.begin() + static_cast<std::ptrdiff_t>(start), data.end());
            stream.apply(start, part);
            CHECK(std::equal(part.begin(), part.end(), expected_plain.begin() + static_cast<std::ptrdiff_t>(start)));
        }
    }
}

}  // namespace

TEST_CASE("AES-128-CTR matches NIST SP 800-38A F.5.1", "[cipher][kat]") {
    check_nist<atrest::aes128_ctr>("2b7e151628aed2a6abf7158809cf4f3c",
                                   "874d6191b620e3261bef6864990db6ce9806f66b7970fdff8617187bb9fffdff"
                                   "5ae4df3edbd5d35e5b4f09020db03eab1e031dda2fbe03d1792170a0f3009cee");
}

TEST_CASE("AES-192-CTR matches NIST SP 800-38A F.5.3", "[cipher][kat]") {
    check_nist<atrest::aes192_ctr>("8e73b0f7da0e6452c810f32b809079e562f8ead2522c6b7b",
                                   "1abc932417521ca24f2b0459fe7e6e0b090339ec0aa6faefd5ccc2c6f4ce8e94"
                                   "1e36b26bd1ebc670d1bd1d665620abf74f78a7f6d29809585a97daec58c6b050");
}

TEST_CASE("AES-256-CTR matches NIST SP 800-38A F.5.5", "[cipher][kat]") {
    check_nist<atrest::aes256_ctr>("603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4",
                                   "601ec313775789a5b7a7f504bbf3d228f443e3ca4d62b59aca84e990cacaf5c5"
                                   "2b0930daa23de94ce87017ba2d84988ddfc9c58db67aada613c2dd08457941a6");
}

TEST_CASE("SM4 block cipher matches the GB/T 32907 example", "[cipher][kat]") {
    auto cipher = atrest::detail::botan_compat::make_block_cipher("SM4");
    const auto key = from_hex(gbt_key);
    auto block = from_hex(gbt_key);
    cipher->set_key(reinterpret_cast<const std::uint8_t*>(key.data()), key.size());
    cipher->encrypt_n(reinterpret_cast<const std::uint8_t*>(block.data()), reinterpret_cast<std::uint8_t*>(block.data()), 1);
    CHECK(to_hex(block) == "681edf34d206965e86b3e94f536e4246");
}

TEST_CASE("SM4-CTR first block is E(key, IV) XOR plaintext, and the counter then increments", "[cipher][kat]") {
    // With IV = the GB/T example plaintext and an all-zero message, block 0 of the keystream is
    // the published SM4 ciphertext itself.
    const auto key = from_hex(gbt_key);
    const auto iv = from_hex(gbt_key);
    auto cipher = atrest::detail::botan_compat::make_block_cipher("SM4");
    cipher->set_key(reinterpret_cast<const std::uint8_t*>(key.data()), key.size());
    auto counter = from_hex("0123456789abcdeffedcba9876543211");
    cipher->encrypt_n(reinterpret_cast<const std::uint8_t*>(counter.data()), reinterpret_cast<std::uint8_t*>(counter.data()), 1);
    for (auto k : atrest::detail::runnable_ctr_kernels(atrest::method::sm4_ctr)) {
        INFO("kernel " << atrest::to_string(k));
        std::vector<std::byte> data(48, std::byte{0});
        atrest::ctr_stream<atrest::sm4_ctr> stream(key, iv, k);
        stream.apply(0, data);
        CHECK(to_hex(data.data(), 16) == "681edf34d206965e86b3e94f536e4246");
        CHECK(to_hex(data.data() + 16, 16) == to_hex(counter));  // block 1 uses IV + 1
        stream.apply(0, data);
        CHECK(std::all_of(data.begin(), data.end(), [](std::byte b) { return b == std::byte{0}; }));
    }
}

#if ATREST_CTR_X86_KERNELS
TEST_CASE("AES key expansion matches FIPS-197 Appendix A", "[cipher][kat]") {
    if (!atrest::detail::this_cpu().aes) {
        WARN("this CPU has no AES-NI; atrest's AES key expansion not run");
        return;
    }
    const auto last_round_key = [](const char* key_hex) {
        const auto key = from_hex(key_hex);
        std::uint8_t rk[atrest::detail::ctr_round_key_bytes] = {};
        atrest::detail::aes_expand_key(key.data(), key.size() / 4, rk);
        return to_hex(rk + 16 * (key.size() / 4 + 6), 16);
    };
    CHECK(last_round_key("2b7e151628aed2a6abf7158809cf4f3c") == "d014f9a8c9ee2589e13f0cc8b6630ca6");
    CHECK(last_round_key("8e73b0f7da0e6452c810f32b809079e562f8ead2522c6b7b") == "e98ba06f448c773c8ecc720401002202");
    CHECK(last_round_key("603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4") ==
          "fe4890d1e6188d0b046df344706c631e");
}

TEST_CASE("SM4 round keys and the 1,000,000-fold encryption match GB/T 32907", "[cipher][kat]") {
    const auto& cpu = atrest::detail::this_cpu();
    if (!(cpu.aes && cpu.avx2)) {
        WARN("this CPU lacks AES-NI or AVX2; atrest's SM4 kernels not run");
        return;
    }
    const auto key = from_hex(gbt_key);
    std::uint32_t standard[32];
    atrest::detail::sm4_round_keys(key.data(), standard);
    CHECK(standard[0] == 0xf12186f9);  // the standard lists rk0 and rk31
    CHECK(standard[31] == 0x9124a012);
    std::uint8_t rk[atrest::detail::ctr_round_key_bytes] = {};
    atrest::detail::sm4_expand_key(key.data(), rk);

    using blocks_fn = void (*)(const std::uint8_t*, const std::uint8_t*, std::uint8_t*, std::size_t);
    std::vector<std::pair<const char*, blocks_fn>> kernels = {{"sm4-aesni-avx2", &atrest::detail::sm4_x86_aesni_avx2::encrypt_blocks}};
    if (cpu.vaes) kernels.emplace_back("sm4-vaes-avx2", &atrest::detail::sm4_x86_vaes::encrypt_blocks);
    for (const auto& [name, encrypt] : kernels) {
        INFO("kernel " << name);
        // Eight lanes: the same block in lane 0, its neighbours differ, so a lane mix-up shows.
        std::vector<std::uint8_t> blocks(8 * 16);
        for (std::size_t b = 0; b < 8; ++b) {
            std::memcpy(blocks.data() + 16 * b, key.data(), 16);
            blocks[16 * b + 15] = static_cast<std::uint8_t>(blocks[16 * b + 15] + b);
        }
        encrypt(rk, blocks.data(), blocks.data(), 8);
        CHECK(to_hex(blocks.data(), 16) == "681edf34d206965e86b3e94f536e4246");
        for (int i = 1; i < 1000000; ++i) encrypt(rk, blocks.data(), blocks.data(), 8);
        CHECK(to_hex(blocks.data(), 16) == "595298c7c6fd271f0402f804c33d3f66");
    }
}
#endif
