#pragma once
/// The single place that knows which Botan major version we build against (2.19 on Debian 12,
/// 3.x from Conan). Everything else calls these helpers and uses only the (pointer, length)
/// calls both versions share, so a Botan upgrade touches one file.

#include <botan/aead.h>
#include <botan/block_cipher.h>
#include <botan/mac.h>
#include <botan/mem_ops.h>
#include <botan/system_rng.h>
#include <botan/version.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#if !defined(BOTAN_VERSION_MAJOR) || (BOTAN_VERSION_MAJOR < 2) || \
    (BOTAN_VERSION_MAJOR == 2 && BOTAN_VERSION_MINOR < 19)
#error "atrest needs Botan 2.19 or newer (2.x or 3.x)"
#endif

namespace atrest::detail::botan_compat {

inline constexpr int botan_major = BOTAN_VERSION_MAJOR;

/// A block cipher with no key yet; throws Botan's exception when the algorithm is missing.
[[nodiscard]] inline std::unique_ptr<Botan::BlockCipher> make_block_cipher(const std::string& name) {
    return Botan::BlockCipher::create_or_throw(name);
}

/// An AEAD mode object; the direction enum was renamed in Botan 3.
[[nodiscard]] inline std::unique_ptr<Botan::AEAD_Mode> make_aead(const std::string& name, bool encrypt) {
#if BOTAN_VERSION_MAJOR >= 3
    return Botan::AEAD_Mode::create_or_throw(name, encrypt ? Botan::Cipher_Dir::Encryption
                                                           : Botan::Cipher_Dir::Decryption);
#else
    return Botan::AEAD_Mode::create_or_throw(name, encrypt ? Botan::ENCRYPTION : Botan::DECRYPTION);
#endif
}

[[nodiscard]] inline std::unique_ptr<Botan::MessageAuthenticationCode> make_mac(const std::string& name) {
    return Botan::MessageAuthenticationCode::create_or_throw(name);
}

/// The operating system's CSPRNG (getrandom/urandom); stateless, so one shared instance is fine.
[[nodiscard]] inline Botan::RandomNumberGenerator& system_rng() { return Botan::system_rng(); }

/// Zeroes memory in a way the optimiser may not remove.
inline void secure_scrub(void* p, std::size_t n) noexcept { Botan::secure_scrub_memory(p, n); }

/// Constant-time comparison for tags and MACs.
[[nodiscard]] inline bool constant_time_equal(const std::uint8_t* a, const std::uint8_t* b, std::size_t n) noexcept {
    return Botan::constant_time_compare(a, b, n);
}

}  // namespace atrest::detail::botan_compat
