#pragma once
// Shared by the AEAD tests: deterministic test bytes, whole streams sealed into and read from
// memory, and OpenSSL's EVP AEADs as the independent implementation.
#include "catch.hpp"

#include <atrest/aead.hpp>

#include <openssl/evp.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <random>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace atrest_test {

/// `n` bytes from a seeded generator (repeatable test data, never keys for real use).
inline std::vector<std::byte> test_bytes(std::size_t n, std::uint32_t seed = 1) {
    std::mt19937 rng(seed);
    std::vector<std::byte> out(n);
    for (auto& b : out) b = static_cast<std::byte>(rng() & 0xff);
    return out;
}

/// Plaintext sizes around the first segment boundaries of a layout: empty, one and two bytes,
/// one short of, at and one past the ends of segments 0 and 1, and a few segments more.
inline std::vector<std::size_t> boundary_sizes(const atrest::segment_layout& l) {
    const auto first = static_cast<std::size_t>(l.first_capacity), cap = static_cast<std::size_t>(l.capacity);
    return {0, 1, 2, first - 1, first, first + 1, first + cap - 1, first + cap, first + cap + 1, first + 3 * cap + 5};
}

/// A whole stream sealed into memory, appended in pieces of `piece` bytes (0: at once).
template <class A, class F>
atrest::memory_file seal_stream(std::span<const std::byte> key, std::span<const std::byte> plain,
                                const typename F::options& o = {}, std::size_t piece = 0, std::string name = "mem") {
    auto w = atrest::sealed_stream_writer<A, F, atrest::memory_file>::create(atrest::memory_file(std::move(name)), key, o);
    if (piece == 0) piece = plain.size() + 1;
    for (std::size_t at = 0; at < plain.size(); at += piece) w.append(plain.subspan(at, std::min(piece, plain.size() - at)));
    w.finish();
    return w.file();
}

/// A whole stream read back from memory.
template <class A, class F>
std::vector<std::byte> open_stream(std::span<const std::byte> key, const std::vector<std::byte>& cipher,
                                   const typename F::options& o = {}, std::string name = "mem") {
    atrest::sealed_stream_reader<A, F, atrest::memory_file> r(atrest::memory_file(std::move(name), cipher), key, o);
    std::vector<std::byte> out(r.size());
    REQUIRE(r.read_at(0, out) == out.size());
    return out;
}

/// OpenSSL's one-shot AEAD: seal gives ciphertext || tag; open gives the plaintext or nothing.
class openssl_aead final {
public:
    explicit openssl_aead(const EVP_CIPHER* cipher) : m_cipher(cipher) {}

    std::vector<std::byte> seal(std::span<const std::byte> key, std::span<const std::byte> nonce,
                                std::span<const std::byte> aad, std::span<const std::byte> pt) const {
        auto ctx = make();
        int len = 0;
        REQUIRE(EVP_EncryptInit_ex(ctx.get(), m_cipher, nullptr, nullptr, nullptr) == 1);
        REQUIRE(EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_AEAD_SET_IVLEN, static_cast<int>(nonce.size()), nullptr) == 1);
        REQUIRE(EVP_EncryptInit_ex(ctx.get(), nullptr, nullptr, u(key), u(nonce)) == 1);
        if (!aad.empty()) REQUIRE(EVP_EncryptUpdate(ctx.get(), nullptr, &len, u(aad), static_cast<int>(aad.size())) == 1);
        std::vector<std::byte> out(pt.size() + 16);
        auto* o = reinterpret_cast<unsigned char*>(out.data());
        if (!pt.empty()) REQUIRE(EVP_EncryptUpdate(ctx.get(), o, &len, u(pt), static_cast<int>(pt.size())) == 1);
        REQUIRE(EVP_EncryptFinal_ex(ctx.get(), o + pt.size(), &len) == 1);
        REQUIRE(EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_AEAD_GET_TAG, 16, o + pt.size()) == 1);
        return out;
    }

    std::optional<std::vector<std::byte>> open(std::span<const std::byte> key, std::span<const std::byte> nonce,
                                               std::span<const std::byte> aad, std::span<const std::byte> sealed) const {
        auto ctx = make();
        int len = 0;
        REQUIRE(sealed.size() >= 16);
        const auto ct = sealed.first(sealed.size() - 16);
        REQUIRE(EVP_DecryptInit_ex(ctx.get(), m_cipher, nullptr, nullptr, nullptr) == 1);
        REQUIRE(EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_AEAD_SET_IVLEN, static_cast<int>(nonce.size()), nullptr) == 1);
        REQUIRE(EVP_DecryptInit_ex(ctx.get(), nullptr, nullptr, u(key), u(nonce)) == 1);
        if (!aad.empty()) REQUIRE(EVP_DecryptUpdate(ctx.get(), nullptr, &len, u(aad), static_cast<int>(aad.size())) == 1);
        std::vector<std::byte> out(ct.size());
        auto* o = reinterpret_cast<unsigned char*>(out.data());
        if (!ct.empty()) REQUIRE(EVP_DecryptUpdate(ctx.get(), o, &len, u(ct), static_cast<int>(ct.size())) == 1);
        std::vector<unsigned char> tag(16);
        std::memcpy(tag.data(), sealed.data() + ct.size(), 16);
        REQUIRE(EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_AEAD_SET_TAG, 16, tag.data()) == 1);
        if (EVP_DecryptFinal_ex(ctx.get(), o + ct.size(), &len) != 1) return std::nullopt;
        return out;
    }

private:
    using ctx_ptr = std::unique_ptr<EVP_CIPHER_CTX, decltype(&EVP_CIPHER_CTX_free)>;
    static ctx_ptr make() { return ctx_ptr(EVP_CIPHER_CTX_new(), EVP_CIPHER_CTX_free); }
    static const unsigned char* u(std::span<const std::byte> s) { return reinterpret_cast<const unsigned char*>(s.data()); }

    const EVP_CIPHER* m_cipher;
};

template <class A>
openssl_aead openssl_for() {
    if constexpr (std::is_same_v<A, atrest::aes256_gcm>) return openssl_aead(EVP_aes_256_gcm());
    else if constexpr (std::is_same_v<A, atrest::aes128_gcm>) return openssl_aead(EVP_aes_128_gcm());
    else return openssl_aead(EVP_chacha20_poly1305());
}

/// A memory file that records which byte ranges were read.
class counting_file final {
public:
    explicit counting_file(atrest::memory_file file) : m_file(std::move(file)) {}
    std::size_t read_at(std::uint64_t offset, std::span<std::byte> out) const {
        m_reads.emplace_back(offset, out.size());
        return m_file.read_at(offset, out);
    }
    [[nodiscard]] std::uint64_t size() const noexcept { return m_file.size(); }
    [[nodiscard]] std::string_view name() const noexcept { return m_file.name(); }
    std::vector<std::pair<std::uint64_t, std::size_t>>& reads() const noexcept { return m_reads; }

private:
    atrest::memory_file m_file;
    mutable std::vector<std::pair<std::uint64_t, std::size_t>> m_reads;
};

}  // namespace atrest_test
