#pragma once
/// `atrest::file_info`: what the key manager hands a storage engine for one file. Its own header
/// so the file layer (`open_encrypted`) can take it without pulling in the key manager.

#include <atrest/cipher/methods.hpp>
#include <atrest/secret_bytes.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

namespace atrest {

/// What a storage engine needs to read or write one file.
struct file_info {
    atrest::method method = method::plaintext;
    std::uint64_t key_id = 0;                   ///< 0 for plaintext files.
    std::shared_ptr<const secret_bytes> key;    ///< Null for plaintext files.
    std::array<std::byte, 16> iv{};
    [[nodiscard]] bool encrypted() const noexcept { return method != atrest::method::plaintext; }

    /// The key as the method's policy takes it: empty for plaintext (whose policy has a 0-byte
    /// key), so a plaintext entry — every path the dictionary does not know — opens like any other.
    [[nodiscard]] std::span<const std::byte> key_bytes() const noexcept {
        return key ? key->bytes() : std::span<const std::byte>{};
    }
    /// The IV as the method's policy takes it: 16 bytes, or none for plaintext.
    [[nodiscard]] std::span<const std::byte> iv_bytes() const noexcept {
        return encrypted() ? std::span<const std::byte>(iv) : std::span<const std::byte>{};
    }
};

}  // namespace atrest
