// Known-answer tests for the CTR engine: NIST SP 800-38A F.5.1/F.5.3/F.5.5 and GB/T 32907 SM4.
#include "catch.hpp"
#include "hex.hpp"

#include <atrest/cipher.hpp>
#include <atrest/detail/botan_compat.hpp>

using atrest_test::from_hex;
using atrest_test::to_hex;

namespace {

const char* const nist_iv = "f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff";
const char* const nist_plaintext =
    "6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e51"
    "30c81c46a35ce411e5fbc1191a0a52eff69f2445df4f9b17ad2b417be66c3710";

template <class C>
void check_nist(const char* key_hex, const char* ciphertext_hex) {
    const auto key = from_hex(key_hex);
    const auto iv = from_hex(nist_iv);
    auto data = from_hex(nist_plaintext);
    atrest::ctr_stream<C> stream(key, iv);
    stream.apply(0, data);
    CHECK(to_hex(data) == ciphertext_hex);
    // Every unaligned suffix decrypts on its own: random access from any byte offset.
    const auto expected_plain = from_hex(nist_plaintext);
    for (std::size_t start = 0; start < data.size(); start += 7) {
        std::vector<std::byte> part(data.begin() + static_cast<std::ptrdiff_t>(start), data.end());
        stream.apply(start, part);
        CHECK(std::equal(part.begin(), part.end(), expected_plain.begin() + static_cast<std::ptrdiff_t>(start)));
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
    const auto key = from_hex("0123456789abcdeffedcba9876543210");
    auto block = from_hex("0123456789abcdeffedcba9876543210");
    cipher->set_key(reinterpret_cast<const std::uint8_t*>(key.data()), key.size());
    cipher->encrypt_n(reinterpret_cast<const std::uint8_t*>(block.data()), reinterpret_cast<std::uint8_t*>(block.data()), 1);
    CHECK(to_hex(block) == "681edf34d206965e86b3e94f536e4246");
}

TEST_CASE("SM4-CTR first block is E(key, IV) XOR plaintext, and the counter then increments", "[cipher][kat]") {
    // With IV = the GB/T example plaintext and an all-zero message, block 0 of the keystream is
    // the published SM4 ciphertext itself.
    const auto key = from_hex("0123456789abcdeffedcba9876543210");
    const auto iv = from_hex("0123456789abcdeffedcba9876543210");
    std::vector<std::byte> data(48, std::byte{0});
    atrest::ctr_stream<atrest::sm4_ctr> stream(key, iv);
    stream.apply(0, data);
    CHECK(to_hex(data.data(), 16) == "681edf34d206965e86b3e94f536e4246");
    // Block 1 uses IV + 1: check it against the block cipher directly.
    auto cipher = atrest::detail::botan_compat::make_block_cipher("SM4");
    cipher->set_key(reinterpret_cast<const std::uint8_t*>(key.data()), key.size());
    auto counter = from_hex("0123456789abcdeffedcba9876543211");
    cipher->encrypt_n(reinterpret_cast<const std::uint8_t*>(counter.data()), reinterpret_cast<std::uint8_t*>(counter.data()), 1);
    CHECK(to_hex(data.data() + 16, 16) == to_hex(counter));
    stream.apply(0, data);
    CHECK(std::all_of(data.begin(), data.end(), [](std::byte b) { return b == std::byte{0}; }));
}

TEST_CASE("plaintext stream is the identity", "[cipher]") {
    std::vector<std::byte> in(100, std::byte{0x5a});
    std::vector<std::byte> out(100);
    atrest::ctr_stream<atrest::plaintext> stream({}, {});
    stream.apply(12345, in, out);
    CHECK(in == out);
    stream.apply(3, out);
    CHECK(in == out);
}
