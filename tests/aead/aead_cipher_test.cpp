// The AEAD policies under aead_cipher: published known answers (GCM specification test cases,
// RFC 8439), every length from 0 to 300 bytes and some long ones against OpenSSL EVP both ways
// (the lengths cross Botan's in-place bulk / buffered tail split at every offset), a changed
// byte anywhere is refused with the text zeroed; HKDF-SHA-256 against RFC 5869.
#include "aead_support.hpp"
#include "catch.hpp"
#include "expect_error.hpp"
#include "hex.hpp"

#include <atrest/aead/hkdf.hpp>

#include <string>

using atrest_test::from_hex;
using atrest_test::to_hex;

namespace {

struct vector {
    std::string key, nonce, aad, plain, cipher, tag;
};

template <class A>
void check_vector(const vector& v) {
    const auto key = from_hex(v.key), nonce = from_hex(v.nonce), aad = from_hex(v.aad);
    auto data = from_hex(v.plain);
    std::vector<std::byte> tag(16);
    atrest::aead_cipher<A> c(key);
    c.seal(nonce, aad, data, tag);
    CHECK(to_hex(data) == v.cipher);
    CHECK(to_hex(tag) == v.tag);
    REQUIRE(c.open(nonce, aad, data, tag));
    CHECK(to_hex(data) == v.plain);
}

template <class A>
void differential() {
    const auto oss = atrest_test::openssl_for<A>();
    const auto key = atrest_test::test_bytes(A::key_size, 7);
    atrest::aead_cipher<A> c(key);
    std::vector<std::size_t> sizes;
    for (std::size_t n = 0; n <= 300; ++n) sizes.push_back(n);
    for (std::size_t n : {4095u, 4096u, 4097u, 65536u, 65537u, 1000003u}) sizes.push_back(n);
    for (std::size_t n : sizes) {
        INFO(A::name << ", " << n << " bytes");
        const auto plain = atrest_test::test_bytes(n, static_cast<std::uint32_t>(n));
        const auto nonce = atrest_test::test_bytes(12, static_cast<std::uint32_t>(n + 1));
        const auto aad = atrest_test::test_bytes(n % 23, static_cast<std::uint32_t>(n + 2));
        auto data = plain;
        std::vector<std::byte> tag(16);
        c.seal(nonce, aad, data, tag);
        auto sealed = data;
        sealed.insert(sealed.end(), tag.begin(), tag.end());
        REQUIRE(sealed == oss.seal(key, nonce, aad, plain));        // OpenSSL computes the same
        REQUIRE(oss.open(key, nonce, aad, sealed).value() == plain);  // and opens ours
        REQUIRE(c.open(nonce, aad, data, tag));
        REQUIRE(data == plain);
        // A changed byte of the ciphertext, the tag, the nonce or the associated data is refused.
        auto bad = sealed;
        bad[(n * 7919) % bad.size()] ^= std::byte{0x01};
        std::vector<std::byte> body(bad.begin(), bad.end() - 16), bad_tag(bad.end() - 16, bad.end());
        REQUIRE_FALSE(c.open(nonce, aad, body, bad_tag));
        REQUIRE(std::all_of(body.begin(), body.end(), [](std::byte b) { return b == std::byte{0}; }));
        auto other_nonce = nonce;
        other_nonce[n % 12] ^= std::byte{0x80};
        body.assign(sealed.begin(), sealed.end() - 16);
        REQUIRE_FALSE(c.open(other_nonce, aad, body, tag));
        auto other_aad = aad;
        other_aad.push_back(std::byte{0});
        body.assign(sealed.begin(), sealed.end() - 16);
        REQUIRE_FALSE(c.open(nonce, other_aad, body, tag));
    }
}

}  // namespace

TEST_CASE("published known answers for aes256-gcm, aes128-gcm and chacha20-poly1305") {
    const std::string p60 =
        "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5"
        "aa0de657ba637b39";
    // McGrew & Viega, "The Galois/Counter Mode of Operation", test cases 16 (AES-256) and 4 (AES-128).
    check_vector<atrest::aes256_gcm>(
        {"feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308", "cafebabefacedbaddecaf888",
         "feedfacedeadbeeffeedfacedeadbeefabaddad2", p60,
         "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa8cb08e48590dbb3da7b08b1056828838c5f61e63"
         "93ba7a0abcc9f662",
         "76fc6ece0f4e1768cddf8853bb2d551b"});
    check_vector<atrest::aes128_gcm>(
        {"feffe9928665731c6d6a8f9467308308", "cafebabefacedbaddecaf888", "feedfacedeadbeeffeedfacedeadbeefabaddad2", p60,
         "42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e21d514b25466931c7d8f6a5aac84aa051ba30b396a"
         "0aac973d58e091",
         "5bc94fbc3221a5db94fae95ae7121a47"});
    // RFC 8439, section 2.8.2.
    const std::string sunscreen =
        "Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it.";
    check_vector<atrest::chacha20_poly1305>(
        {"808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f", "070000004041424344454647",
         "50515253c0c1c2c3c4c5c6c7", to_hex(sunscreen.data(), sunscreen.size()),
         "d31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d63dbea45e8ca9671282fafb69da92728b1a71de0a9e06"
         "0b2905d6a5b67ecd3b3692ddbd7f2d778b8c9803aee328091b58fab324e4fad675945585808b4831d7bc3ff4def08e4b7a9de576d2658"
         "6cec64b6116",
         "1ae10b594f09e26a7e902ecbd0600691"});
}

TEST_CASE("aes256-gcm agrees with OpenSSL at every length and refuses any change") {
    differential<atrest::aes256_gcm>();
}
TEST_CASE("aes128-gcm agrees with OpenSSL at every length and refuses any change") {
    differential<atrest::aes128_gcm>();
}
TEST_CASE("chacha20-poly1305 agrees with OpenSSL at every length and refuses any change") {
    differential<atrest::chacha20_poly1305>();
}

TEST_CASE("a key of the wrong size is errc::invalid_key_size naming the cipher") {
    const auto key = atrest_test::test_bytes(16);
    atrest_test::require_error([&] { atrest::aead_cipher<atrest::aes256_gcm> c(key); },
                               atrest::errc::invalid_key_size, {"aes256-gcm", "32-byte", "16 bytes"});
    atrest_test::require_error([&] { atrest::aead_cipher<atrest::chacha20_poly1305> c({}); },
                               atrest::errc::invalid_key_size, {"chacha20-poly1305"});
}

TEST_CASE("HKDF-SHA-256 gives RFC 5869's test cases 1 and 3") {
    std::vector<std::byte> ikm22(22, std::byte{0x0b});
    const auto okm1 = atrest::detail::hkdf_sha256(ikm22, from_hex("000102030405060708090a0b0c"),
                                                  from_hex("f0f1f2f3f4f5f6f7f8f9"), 42);
    CHECK(to_hex(okm1.data(), okm1.size()) ==
          "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865");
    const auto okm3 = atrest::detail::hkdf_sha256(ikm22, {}, {}, 42);
    CHECK(to_hex(okm3.data(), okm3.size()) ==
          "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8");
    atrest_test::require_error([&] { (void)atrest::detail::hkdf_sha256(ikm22, {}, {}, 255 * 32 + 1); },
                               atrest::errc::invalid_argument, {"HKDF"});
}
