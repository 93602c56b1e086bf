#pragma once
/// AES-256-GCM key wrap: a random 12-byte nonce per seal, then ciphertext, then a 16-byte tag.
/// Callers pass associated data that binds the metadata stored beside the ciphertext (format
/// version, purpose, backend) — TiKV passes none, so its metadata can be swapped unnoticed.

#include <atrest/detail/botan_compat.hpp>
#include <atrest/detail/random.hpp>
#include <atrest/error.hpp>
#include <atrest/keywrap/concepts.hpp>
#include <atrest/secret_bytes.hpp>

#include <botan/exceptn.h>

#include <cstring>
#include <string>

namespace atrest {

struct aes256_gcm_wrap final {
    static constexpr std::size_t key_size = 32;
    static constexpr std::size_t nonce_size = 12;
    static constexpr std::size_t tag_size = 16;
    static constexpr std::size_t overhead = nonce_size + tag_size;
    static constexpr std::string_view name = "aes256-gcm";

    /// nonce(12) || ciphertext || tag(16).
    [[nodiscard]] static std::vector<std::byte> seal(std::span<const std::byte> key, std::span<const std::byte> data,
                                                     std::span<const std::byte> aad) {
        std::vector<std::byte> out(nonce_size);
        detail::fill_random(out);
        auto mode = prepared(key, aad, out, true);
        Botan::secure_vector<std::uint8_t> buf(data.size());
        if (!data.empty()) std::memcpy(buf.data(), data.data(), data.size());
        mode->finish(buf);
        const auto* p = reinterpret_cast<const std::byte*>(buf.data());
        out.insert(out.end(), p, p + buf.size());
        return out;
    }

    [[nodiscard]] static secret_bytes open(std::span<const std::byte> key, std::span<const std::byte> sealed,
                                           std::span<const std::byte> aad) {
        if (sealed.size() < overhead) {
            throw error(errc::corrupt, "AES-256-GCM sealed data is " + std::to_string(sealed.size()) +
                                           " bytes, shorter than its " + std::to_string(overhead) + "-byte nonce and tag");
        }
        auto mode = prepared(key, aad, sealed.first(nonce_size), false);
        const auto body = sealed.subspan(nonce_size);
        Botan::secure_vector<std::uint8_t> buf(body.size());
        std::memcpy(buf.data(), body.data(), body.size());
        try {
            mode->finish(buf);
        } catch (const Botan::Invalid_Authentication_Tag&) {
            throw error(errc::wrong_key, "AES-256-GCM authentication failed: wrong key, or the sealed data or its "
                                         "associated metadata was changed");
        }
        return secret_bytes(std::as_bytes(std::span(buf.data(), buf.size())));
    }

private:
    static detail::botan_compat::owned<Botan::AEAD_Mode> prepared(std::span<const std::byte> key, std::span<const std::byte> aad,
                                                      std::span<const std::byte> nonce, bool encrypt) {
        if (key.size() != key_size) {
            throw error(errc::invalid_key_size,
                        "AES-256-GCM needs a 32-byte key, got " + std::to_string(key.size()) + " bytes");
        }
        auto mode = detail::botan_compat::make_aead("AES-256/GCM", encrypt);
        mode->set_key(reinterpret_cast<const std::uint8_t*>(key.data()), key.size());
        mode->set_associated_data(reinterpret_cast<const std::uint8_t*>(aad.data()), aad.size());
        mode->start(reinterpret_cast<const std::uint8_t*>(nonce.data()), nonce.size());
        return mode;
    }
};

static_assert(key_wrap_policy<aes256_gcm_wrap>);

}  // namespace atrest
