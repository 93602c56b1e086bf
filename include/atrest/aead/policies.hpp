#pragma once
/// The AEAD policies: one empty type per authenticated cipher, carrying its name, Botan's name
/// for it and its sizes, so stream engines are resolved at compile time. All take a 12-byte
/// nonce and give a 16-byte tag.

#include <atrest/aead/concepts.hpp>

#include <cstddef>
#include <string_view>

namespace atrest {

/// AES-256 in Galois/Counter mode (NIST SP 800-38D): MinIO's and Tink's default.
struct aes256_gcm {
    static constexpr std::string_view name = "aes256-gcm";
    static constexpr std::string_view botan_name = "AES-256/GCM";
    static constexpr std::size_t key_size = 32;
    static constexpr std::size_t nonce_size = 12;
    static constexpr std::size_t tag_size = 16;
};

/// AES-128-GCM: Tink's AES128_GCM_HKDF_* templates.
struct aes128_gcm {
    static constexpr std::string_view name = "aes128-gcm";
    static constexpr std::string_view botan_name = "AES-128/GCM";
    static constexpr std::size_t key_size = 16;
    static constexpr std::size_t nonce_size = 12;
    static constexpr std::size_t tag_size = 16;
};

/// ChaCha20-Poly1305 with the 96-bit nonce of RFC 8439: fast without AES instructions.
struct chacha20_poly1305 {
    static constexpr std::string_view name = "chacha20-poly1305";
    static constexpr std::string_view botan_name = "ChaCha20Poly1305";
    static constexpr std::size_t key_size = 32;
    static constexpr std::size_t nonce_size = 12;
    static constexpr std::size_t tag_size = 16;
};

/// A list of AEAD policy types.
template <aead_policy... A>
struct aead_list {
    static constexpr std::size_t size = sizeof...(A);
};

/// Every AEAD policy of this build.
using aead_policies = aead_list<aes256_gcm, aes128_gcm, chacha20_poly1305>;

}  // namespace atrest
