// Differential test: every CTR kernel this machine can run against OpenSSL EVP and against the
// Botan path (two independent implementations) on thousands of random (key, IV, offset, length)
// cases, including counters about to carry across 2^64 and wrap at 2^128. OpenSSL is linked by
// tests only.
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

/// An IV of one of five kinds: random, or with the counter a few blocks before a carry out of
/// the last byte, across 2^32 (inside the low half), across 2^64, or the wrap at 2^128.
std::vector<std::byte> random_iv(std::mt19937_64& rng, int kind) {
    std::vector<std::byte> iv(16);
    for (auto& b : iv) b = static_cast<std::byte>(rng());
    const auto set_low_bytes = [&iv](std::size_t from, std::byte value) {
        std::fill(iv.begin() + static_cast<std::ptrdiff_t>(from), iv.end(), value);
    };
    const auto minus_a_few = [&]() {  // subtract 0..63 from the counter's last byte, staying in it
        iv[15] = static_cast<std::byte>(0xff - rng() % 64);
    };
    switch (kind % 5) {
        case 0: break;
        case 1: minus_a_few(); break;
        case 2: set_low_bytes(12, std::byte{0xff}); minus_a_few(); break;
        case 3: set_low_bytes(8, std::byte{0xff}); minus_a_few(); break;
        case 4: set_low_bytes(0, std::byte{0xff}); minus_a_few(); break;
    }
    return iv;
}

/// Every kernel this machine runs for C against OpenSSL and against the Botan path, on random
/// keys, IVs next to every carry, offsets and lengths (up to 20 KB, some exactly whole steps of the
/// fused kernels), in place and out of place.
template <class C>
void differential(std::mt19937_64& rng, int cases_per_kernel) {
    const bool have_openssl = evp_for(C::id) != nullptr;
    if (!have_openssl) WARN("OpenSSL has no " << C::name << "; compared with the Botan path only");
    const auto kernels = atrest::detail::runnable_ctr_kernels(C::id);
    auto random_bytes = [&](std::size_t n) {
        std::vector<std::byte> v(n);
        for (auto& b : v) b = static_cast<std::byte>(rng());
        return v;
    };
    for (auto kernel : kernels) {
        for (int i = 0; i < cases_per_kernel; ++i) {
            const auto key = random_bytes(C::key_size);
            const auto iv = random_iv(rng, i);
            const std::uint64_t offset = (i % 3 == 0) ? rng() % 100000 : (i % 3 == 1) ? rng() % 5000 : 16 * (rng() % 300);
            std::size_t len = (i % 7 == 0) ? rng() % 20000 : rng() % 300;
            if (i % 11 == 0) len = 128 * (1 + rng() % 8);  // whole fused steps
            const auto plain = random_bytes(len);
            const atrest::ctr_stream<C> stream(key, iv, kernel);
            const atrest::ctr_stream<C> botan(key, iv, atrest::ctr_kernel::botan_v128);
            std::vector<std::byte> ours(len);
            if (i % 2 == 0) {
                stream.apply(offset, plain, ours);
            } else {
                ours = plain;
                stream.apply(offset, ours);  // in place
            }
            std::vector<std::byte> reference(len);
            botan.apply(offset, plain, reference);
            INFO(C::name << " kernel " << atrest::to_string(kernel) << " case " << i << " offset " << offset << " length "
                         << len << " iv " << static_cast<int>(iv[8]) << ".." << static_cast<int>(iv[15]));
            REQUIRE(ours == reference);
            if (have_openssl) REQUIRE(ours == openssl_ctr(C::id, key, iv, offset, plain));
        }
    }
}

}  // namespace

TEST_CASE("every CTR kernel equals OpenSSL EVP and the Botan path on random keys, IVs, offsets and lengths",
          "[cipher][differential]") {
    std::mt19937_64 rng(20261122);
    differential<atrest::aes128_ctr>(rng, 600);
    differential<atrest::aes192_ctr>(rng, 300);
    differential<atrest::aes256_ctr>(rng, 600);
    differential<atrest::sm4_ctr>(rng, 250);
}

TEST_CASE("a long run across the 2^64 carry and the 2^128 wrap equals block-by-block calls", "[cipher][differential]") {
    // 64 KiB from 1001 blocks before the carry: the carry lands inside a fused step, a two-pass
    // batch and a 256-block run, for every kernel; from 1024 blocks before, it lands exactly
    // between two steps (and two batches).
    std::mt19937_64 rng(99);
    std::vector<std::byte> key(16);
    for (auto& b : key) b = static_cast<std::byte>(rng());
    for (int wrap = 0; wrap < 4; ++wrap) {
        std::vector<std::byte> iv(16, std::byte{0xff});
        if (wrap % 2 == 0) std::fill(iv.begin(), iv.begin() + 8, std::byte{0x12});
        iv[14] = std::byte{0xfc};                          // ...fffc17: 1001 blocks before the carry
        iv[15] = wrap < 2 ? std::byte{0x17} : std::byte{0x00};  // ...fffc00: 1024 blocks before
        for (auto kernel : atrest::detail::runnable_ctr_kernels(atrest::method::aes128_ctr)) {
            const atrest::ctr_stream<atrest::aes128_ctr> stream(key, iv, kernel);
            std::vector<std::byte> whole(65536, std::byte{0});
            stream.apply(0, whole);
            INFO("kernel " << atrest::to_string(kernel) << (wrap % 2 ? " across 2^128" : " across 2^64")
                           << (wrap < 2 ? " inside a step" : " between steps"));
            REQUIRE(whole == openssl_ctr(atrest::method::aes128_ctr, key, iv, 0, std::vector<std::byte>(65536)));
            for (std::size_t off = 0; off < whole.size(); off += 16 * 97) {
                std::vector<std::byte> block(16, std::byte{0});
                stream.apply(off, block);
                REQUIRE(std::equal(block.begin(), block.end(), whole.begin() + static_cast<std::ptrdiff_t>(off)));
            }
        }
    }
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
