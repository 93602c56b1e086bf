// Differential test: our CTR engine against OpenSSL EVP (an independent implementation) on
// thousands of random (key, IV, offset, length) cases, including counters about to carry across
// 2^64 and wrap at 2^128. OpenSSL is linked by tests only.
#include "catch.hpp"

#include <atrest/cipher.hpp>

#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <memory>
#include <random>
#include <vector>

namespace {

const EVP_CIPHER* evp_for(atrest::method m) {
    switch (m) {
        case atrest::method::aes128_ctr: return EVP_aes_128_ctr();
        case atrest::method::aes192_ctr: return EVP_aes_192_ctr();
        case atrest::method::aes256_ctr: return EVP_aes_256_ctr();
        case atrest::method::sm4_ctr: return EVP_get_cipherbyname("SM4-CTR");
        default: return nullptr;
    }
}

/// OpenSSL's view of bytes [offset, offset+len): start the counter at IV + offset/16 (128-bit add)
/// and discard offset%16 keystream bytes.
std::vector<std::byte> openssl_ctr(atrest::method m, const std::vector<std::byte>& key, const std::vector<std::byte>& iv,
                                   std::uint64_t offset, const std::vector<std::byte>& in) {
    std::array<unsigned char, 16> counter;
    std::memcpy(counter.data(), iv.data(), 16);
    std::uint64_t add = offset / 16;
    for (int i = 15; i >= 0 && add != 0; --i) {
        const unsigned sum = counter[static_cast<std::size_t>(i)] + static_cast<unsigned>(add & 0xff);
        counter[static_cast<std::size_t>(i)] = static_cast<unsigned char>(sum);
        add = (add >> 8) + (sum >> 8);
    }
    std::unique_ptr<EVP_CIPHER_CTX, decltype(&EVP_CIPHER_CTX_free)> ctx(EVP_CIPHER_CTX_new(), EVP_CIPHER_CTX_free);
    REQUIRE(EVP_EncryptInit_ex(ctx.get(), evp_for(m), nullptr, reinterpret_cast<const unsigned char*>(key.data()),
                               counter.data()) == 1);
    const std::size_t skip = offset % 16;
    std::vector<unsigned char> buf(skip + in.size(), 0);
    if (!in.empty()) std::memcpy(buf.data() + skip, in.data(), in.size());
    int outl = 0;
    REQUIRE(EVP_EncryptUpdate(ctx.get(), buf.data(), &outl, buf.data(), static_cast<int>(buf.size())) == 1);
    std::vector<std::byte> out(in.size());
    if (!in.empty()) std::memcpy(out.data(), buf.data() + skip, in.size());
    return out;
}

template <class C>
void differential(std::mt19937_64& rng, int cases) {
    if (evp_for(C::id) == nullptr) {
        WARN("OpenSSL has no " << C::name << "; differential check skipped");
        return;
    }
    auto random_bytes = [&](std::size_t n) {
        std::vector<std::byte> v(n);
        for (auto& b : v) b = static_cast<std::byte>(rng());
        return v;
    };
    for (int i = 0; i < cases; ++i) {
        const auto key = random_bytes(C::key_size);
        auto iv = random_bytes(16);
        switch (i % 4) {
            case 0: break;                                            // random IV
            case 1: std::memset(iv.data() + 8, 0xff, 8); break;       // low half about to carry into the high half
            case 2: std::memset(iv.data(), 0xff, 16); break;          // counter about to wrap at 2^128
            case 3: std::memset(iv.data() + 8, 0xff, 7); break;       // carry a few blocks in
        }
        const std::uint64_t offset = (i % 3 == 0) ? rng() % 100000 : rng() % 5000;
        const std::size_t len = (i % 5 == 0) ? rng() % 20000 : rng() % 300;
        const auto plain = random_bytes(len);
        atrest::ctr_stream<C> stream(key, iv);
        std::vector<std::byte> ours(len);
        stream.apply(offset, plain, ours);
        const auto theirs = openssl_ctr(C::id, key, iv, offset, plain);
        INFO(C::name << " case " << i << " offset " << offset << " length " << len);
        REQUIRE(ours == theirs);
    }
}

}  // namespace

TEST_CASE("CTR engine equals OpenSSL EVP on random keys, IVs, offsets and lengths", "[cipher][differential]") {
    std::mt19937_64 rng(20261122);
    differential<atrest::aes128_ctr>(rng, 1500);
    differential<atrest::aes192_ctr>(rng, 1000);
    differential<atrest::aes256_ctr>(rng, 1500);
    differential<atrest::sm4_ctr>(rng, 500);
}

TEST_CASE("random access equals sequential, in place equals out of place", "[cipher]") {
    std::mt19937_64 rng(7);
    std::vector<std::byte> key(32), iv(16), plain(64 * 1024 + 13);
    for (auto* v : {&key, &iv, &plain})
        for (auto& b : *v) b = static_cast<std::byte>(rng());
    atrest::ctr_stream<atrest::aes256_ctr> stream(key, iv);
    std::vector<std::byte> whole(plain.size());
    stream.apply(0, plain, whole);
    for (int i = 0; i < 500; ++i) {
        const std::size_t start = rng() % plain.size();
        const std::size_t len = rng() % (plain.size() - start + 1);
        std::vector<std::byte> piece(plain.begin() + static_cast<std::ptrdiff_t>(start),
                                     plain.begin() + static_cast<std::ptrdiff_t>(start + len));
        stream.apply(start, piece);  // in place
        REQUIRE(std::equal(piece.begin(), piece.end(), whole.begin() + static_cast<std::ptrdiff_t>(start)));
    }
    // Appending in odd-sized chunks produces the same bytes as one call.
    std::vector<std::byte> chunked(plain.size());
    for (std::size_t pos = 0; pos < plain.size();) {
        const std::size_t len = std::min<std::size_t>(1 + rng() % 3000, plain.size() - pos);
        stream.apply(pos, std::span(plain).subspan(pos, len), std::span(chunked).subspan(pos, len));
        pos += len;
    }
    CHECK(chunked == whole);
}

TEST_CASE("counter wraps at 2^128 and carries across 2^64 like a 128-bit integer", "[cipher]") {
    std::vector<std::byte> key(16, std::byte{3});
    std::vector<std::byte> iv_max(16, std::byte{0xff});
    std::vector<std::byte> iv_zero(16, std::byte{0});
    atrest::ctr_stream<atrest::aes128_ctr> wrapping(key, iv_max);
    atrest::ctr_stream<atrest::aes128_ctr> from_zero(key, iv_zero);
    std::vector<std::byte> a(64, std::byte{0}), b(48, std::byte{0});
    wrapping.apply(0, a);  // blocks 2^128-1, 0, 1, 2
    from_zero.apply(0, b);
    CHECK(std::equal(b.begin(), b.end(), a.begin() + 16));

    std::vector<std::byte> iv_lo_max(16, std::byte{0});
    std::fill(iv_lo_max.begin() + 8, iv_lo_max.end(), std::byte{0xff});
    std::vector<std::byte> iv_hi_one(16, std::byte{0});
    iv_hi_one[7] = std::byte{1};
    atrest::ctr_stream<atrest::aes128_ctr> before(key, iv_lo_max);
    atrest::ctr_stream<atrest::aes128_ctr> after(key, iv_hi_one);
    std::vector<std::byte> c(32, std::byte{0}), d(16, std::byte{0});
    before.apply(0, c);
    after.apply(0, d);
    CHECK(std::equal(d.begin(), d.end(), c.begin() + 16));
}
