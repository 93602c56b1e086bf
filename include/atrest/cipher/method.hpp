#pragma once
/// Encryption methods with TiKV's numbering (kvproto `EncryptionMethod`), so stored numbers and
/// config names are interchangeable with TiKV/TiFlash. The enum only names the numbers; what a
/// method is (its name, key size, block cipher) lives in its policy (policies.hpp), and everything
/// derived from the list of policies — names, sizes, parsing, the byte range, dispatch — in
/// methods.hpp.

#include <cstdint>

namespace atrest {

/// Stored on disk as one byte; never renumber. 0 is never a method. 0-5 are TiKV's; 128 and up
/// are atrest's own (authenticated data files, docs/aead.md), far from any number TiKV may add:
/// TiKV and older atrest builds refuse them as an unknown method instead of misreading a file.
enum class method : std::uint8_t {
    unknown = 0,
    plaintext = 1,
    aes128_ctr = 2,
    aes192_ctr = 3,
    aes256_ctr = 4,
    sm4_ctr = 5,
    aes256_gcm_stream = 128,  ///< atrest: segmented AES-256-GCM, a per-file key by HKDF
    aes128_gcm_stream = 129,  ///< atrest: segmented AES-128-GCM, a per-file key by HKDF
};

}  // namespace atrest
