#pragma once
/// HMAC-SHA-256 and HKDF-SHA-256 (RFC 5869) over Botan's HMAC: the per-stream key of Tink's
/// streaming format and the object and key-encryption keys of MinIO's object layer.

#include <atrest/detail/botan_compat.hpp>
#include <atrest/error.hpp>
#include <atrest/secret_bytes.hpp>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <span>

namespace atrest::detail {

inline constexpr std::size_t sha256_size = 32;

/// HMAC-SHA-256(key, parts[0] || parts[1] || ...).
[[nodiscard]] inline secret_bytes hmac_sha256(std::span<const std::byte> key,
                                              std::initializer_list<std::span<const std::byte>> parts) {
    auto mac = botan_compat::make_mac("HMAC(SHA-256)");
    mac->set_key(reinterpret_cast<const std::uint8_t*>(key.data()), key.size());
    for (auto part : parts) mac->update(reinterpret_cast<const std::uint8_t*>(part.data()), part.size());
    secret_bytes out(sha256_size);
    mac->final(reinterpret_cast<std::uint8_t*>(out.mutable_bytes().data()));
    return out;
}

/// HKDF-SHA-256: `length` bytes (at most 255 * 32) from input key material, salt and info.
[[nodiscard]] inline secret_bytes hkdf_sha256(std::span<const std::byte> ikm, std::span<const std::byte> salt,
                                              std::span<const std::byte> info, std::size_t length) {
    if (length > 255 * sha256_size) {
        throw error(errc::invalid_argument, "HKDF-SHA-256 gives at most 8160 bytes, asked for " + std::to_string(length));
    }
    const std::array<std::byte, sha256_size> zero_salt{};
    const auto prk = hmac_sha256(salt.empty() ? std::span<const std::byte>(zero_salt) : salt, {ikm});
    secret_bytes out(length);
    secret_bytes block;
    for (std::size_t done = 0, i = 1; done < length; ++i) {
        const std::byte counter{static_cast<std::uint8_t>(i)};
        block = hmac_sha256(prk.bytes(), {block.bytes(), info, std::span(&counter, 1)});
        const std::size_t n = std::min(sha256_size, length - done);
        std::memcpy(out.mutable_bytes().data() + done, block.data(), n);
        done += n;
    }
    return out;
}

}  // namespace atrest::detail
