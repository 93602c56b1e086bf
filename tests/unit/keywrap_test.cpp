// AES-256-GCM key wrap: the 256-bit test cases of the GCM specification (McGrew & Viega, test
// cases 13-16), each also checked against OpenSSL EVP so the vectors themselves are verified;
// sealing checked by OpenSSL decryption; tampering of every byte and field; malformed input.
#include "catch.hpp"
#include "expect_error.hpp"
#include "hex.hpp"

#include <atrest/keywrap.hpp>

#include <openssl/evp.h>

#include <memory>
#include <string>
#include <vector>

using atrest_test::expect_error;
using atrest_test::from_hex;
using atrest_test::to_hex;

namespace {

struct gcm_vector {
    std::string key, iv, plaintext, aad, ciphertext, tag;
};

const std::string k0(64, '0');
const std::string kf = "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308";
const std::string p60 =
    "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5"
    "aa0de657ba637b39";
const std::string c60 =
    "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa8cb08e48590dbb3da7b08b1056828838c5f61e63"
    "93ba7a0abcc9f662";

const std::vector<gcm_vector> vectors = {
    {k0, "000000000000000000000000", "", "", "", "530f8afbc74536b9a963b4f1c4cb738b"},
    {k0, "000000000000000000000000", "00000000000000000000000000000000", "",
     "cea7403d4d606b6e074ec5d3baf39d18", "d0d1c8a799996bf0265b98b5d48ab919"},
    {kf, "cafebabefacedbaddecaf888", p60 + "1aafd255", "", c60 + "898015ad", "b094dac5d93471bdec1a502270e3cc6c"},
    {kf, "cafebabefacedbaddecaf888", p60, "feedfacedeadbeeffeedfacedeadbeefabaddad2", c60,
     "76fc6ece0f4e1768cddf8853bb2d551b"},
};

/// OpenSSL's AES-256-GCM encryption: ciphertext || tag.
std::vector<std::byte> openssl_seal(const std::vector<std::byte>& key, const std::vector<std::byte>& iv,
                                    const std::vector<std::byte>& pt, const std::vector<std::byte>& aad) {
    std::unique_ptr<EVP_CIPHER_CTX, decltype(&EVP_CIPHER_CTX_free)> ctx(EVP_CIPHER_CTX_new(), EVP_CIPHER_CTX_free);
    auto u = [](const std::vector<std::byte>& v) { return reinterpret_cast<const unsigned char*>(v.data()); };
    REQUIRE(EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, nullptr, nullptr) == 1);
    REQUIRE(EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN, static_cast<int>(iv.size()), nullptr) == 1);
    REQUIRE(EVP_EncryptInit_ex(ctx.get(), nullptr, nullptr, u(key), u(iv)) == 1);
    int len = 0;
    if (!aad.empty()) REQUIRE(EVP_EncryptUpdate(ctx.get(), nullptr, &len, u(aad), static_cast<int>(aad.size())) == 1);
    std::vector<std::byte> out(pt.size() + 16);
    auto* o = reinterpret_cast<unsigned char*>(out.data());
    if (!pt.empty()) REQUIRE(EVP_EncryptUpdate(ctx.get(), o, &len, u(pt), static_cast<int>(pt.size())) == 1);
    REQUIRE(EVP_EncryptFinal_ex(ctx.get(), o + pt.size(), &len) == 1);
    REQUIRE(EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, 16, o + pt.size()) == 1);
    return out;
}


}  // namespace

TEST_CASE("AES-256-GCM opens the GCM specification's 256-bit test cases 13-16", "[keywrap][kat]") {
    for (const auto& v : vectors) {
        const auto key = from_hex(v.key), iv = from_hex(v.iv), pt = from_hex(v.plaintext), aad = from_hex(v.aad);
        const auto expected = from_hex(v.ciphertext + v.tag);
        CHECK(to_hex(openssl_seal(key, iv, pt, aad)) == to_hex(expected));  // the vector is right
        auto sealed = iv;
        sealed.insert(sealed.end(), expected.begin(), expected.end());
        const auto opened = atrest::aes256_gcm_wrap::open(key, sealed, aad);
        CHECK(to_hex(opened.bytes()) == to_hex(pt));
    }
}

TEST_CASE("AES-256-GCM seal is nonce || ciphertext || tag with a fresh random nonce, as OpenSSL computes", "[keywrap]") {
    const auto key = from_hex(kf), aad = from_hex("0102030405");
    const auto pt = from_hex(p60);
    const auto a = atrest::aes256_gcm_wrap::seal(key, pt, aad);
    const auto b = atrest::aes256_gcm_wrap::seal(key, pt, aad);
    REQUIRE(a.size() == pt.size() + atrest::aes256_gcm_wrap::overhead);
    CHECK(std::vector<std::byte>(a.begin(), a.begin() + 12) != std::vector<std::byte>(b.begin(), b.begin() + 12));
    const std::vector<std::byte> nonce(a.begin(), a.begin() + 12);
    CHECK(to_hex(openssl_seal(key, nonce, pt, aad)) == to_hex(std::vector<std::byte>(a.begin() + 12, a.end())));
    CHECK(atrest::aes256_gcm_wrap::open(key, a, aad).bytes().size() == pt.size());
}

TEST_CASE("AES-256-GCM: any changed byte of nonce, ciphertext, tag or associated data is wrong_key", "[keywrap]") {
    const auto key = from_hex(kf);
    const auto aad = from_hex("a1a2a3a4a5a6a7a8");
    const auto sealed = atrest::aes256_gcm_wrap::seal(key, from_hex("00112233445566778899"), aad);
    for (std::size_t i = 0; i < sealed.size(); ++i) {
        auto bad = sealed;
        bad[i] ^= std::byte{0x01};
        INFO("byte " << i);
        CHECK(expect_error([&] { (void)atrest::aes256_gcm_wrap::open(key, bad, aad); }).kind() == atrest::errc::wrong_key);
    }
    for (std::size_t i = 0; i < aad.size(); ++i) {
        auto bad = aad;
        bad[i] ^= std::byte{0x80};
        CHECK(expect_error([&] { (void)atrest::aes256_gcm_wrap::open(key, sealed, bad); }).kind() == atrest::errc::wrong_key);
    }
    auto other = key;
    other[31] ^= std::byte{1};
    CHECK(expect_error([&] { (void)atrest::aes256_gcm_wrap::open(other, sealed, aad); }).kind() == atrest::errc::wrong_key);
    CHECK(expect_error([&] { (void)atrest::aes256_gcm_wrap::open(key, sealed, {}); }).kind() == atrest::errc::wrong_key);
}

TEST_CASE("AES-256-GCM: truncated input is corrupt and a bad key size is rejected", "[keywrap]") {
    const auto key = from_hex(kf);
    const auto sealed = atrest::aes256_gcm_wrap::seal(key, from_hex("00"), {});
    for (std::size_t n = 0; n < atrest::aes256_gcm_wrap::overhead; ++n) {
        CHECK(expect_error([&] { (void)atrest::aes256_gcm_wrap::open(key, std::span(sealed).first(n), {}); }).kind() ==
              atrest::errc::corrupt);
    }
    const std::vector<std::byte> short_key(16);
    CHECK(expect_error([&] { (void)atrest::aes256_gcm_wrap::seal(short_key, sealed, {}); }).kind() == atrest::errc::invalid_key_size);
    CHECK(expect_error([&] { (void)atrest::aes256_gcm_wrap::open(short_key, sealed, {}); }).kind() == atrest::errc::invalid_key_size);
}
