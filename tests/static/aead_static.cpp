// Which types model atrest::aead_policy and atrest::stream_format, and which formats accept which
// ciphers. Compiling is the test.
#include <atrest/aead.hpp>
#include <atrest/cipher/policies.hpp>

#include <string_view>

namespace {
struct no_botan_name {
    static constexpr std::string_view name = "x";
    static constexpr std::size_t key_size = 32, nonce_size = 12, tag_size = 16;
};
/// A 64-bit tag: the segment layouts assume 16 bytes.
struct short_tag {
    static constexpr std::string_view name = "x", botan_name = "AES-256/GCM(8)";
    static constexpr std::size_t key_size = 32, nonce_size = 12, tag_size = 8;
};
/// An extended nonce (XChaCha): the formats build 12-byte nonces.
struct long_nonce {
    static constexpr std::string_view name = "x", botan_name = "ChaCha20Poly1305";
    static constexpr std::size_t key_size = 32, nonce_size = 24, tag_size = 16;
};
}  // namespace

static_assert(atrest::aead_policy<atrest::aes256_gcm>);
static_assert(atrest::aead_policy<atrest::aes128_gcm>);
static_assert(atrest::aead_policy<atrest::chacha20_poly1305>);
static_assert(!atrest::aead_policy<int>);
static_assert(!atrest::aead_policy<no_botan_name>);
static_assert(!atrest::aead_policy<short_tag>);
static_assert(!atrest::aead_policy<long_nonce>);
static_assert(!atrest::aead_policy<atrest::aes256_ctr>);  // a CTR method is not authenticated
static_assert(atrest::aead_policies::size == 3);

// Tink's streaming format is AES-GCM only; DARE 2.0 is AES-256-GCM or ChaCha20-Poly1305.
static_assert(atrest::stream_format<atrest::tink_streaming, atrest::aes256_gcm>);
static_assert(atrest::stream_format<atrest::tink_streaming, atrest::aes128_gcm>);
static_assert(!atrest::stream_format<atrest::tink_streaming, atrest::chacha20_poly1305>);
static_assert(atrest::stream_format<atrest::dare, atrest::aes256_gcm>);
static_assert(atrest::stream_format<atrest::dare, atrest::chacha20_poly1305>);
static_assert(atrest::stream_format<atrest::file_stream, atrest::aes256_gcm>);
static_assert(atrest::stream_format<atrest::file_stream, atrest::aes128_gcm>);
static_assert(atrest::stream_format<atrest::file_stream, atrest::chacha20_poly1305>);
static_assert(!atrest::stream_format<atrest::dare, atrest::aes128_gcm>);
static_assert(!atrest::stream_format<int, atrest::aes256_gcm>);

static_assert(atrest::tink_streaming::header_size<atrest::aes256_gcm>() == 40);
static_assert(atrest::tink_streaming::header_size<atrest::aes128_gcm>() == 24);
static_assert(atrest::dare::cipher_id<atrest::aes256_gcm> == 0 && atrest::dare::cipher_id<atrest::chacha20_poly1305> == 1);
static_assert(atrest::dare::package_size == 65568);

// The layout arithmetic, at compile time: DARE's package k starts at k * 65568; Tink's first
// segment shares its 4096 bytes with the 40-byte header.
constexpr atrest::segment_layout dare_layout{0, 65536, 65536, 16, 16, 1, false};
static_assert(dare_layout.cipher_start(3) == 3 * 65568);
static_assert(dare_layout.segment_count(0) == 0 && dare_layout.segment_count(65536) == 1 && dare_layout.segment_count(65537) == 2);
static_assert(dare_layout.cipher_size(1) == 33 && !dare_layout.from_cipher_size(32) && dare_layout.from_cipher_size(0)->segments == 0);
constexpr atrest::segment_layout tink_layout{40, 4096 - 56, 4096 - 16, 0, 16, 0, true};
static_assert(tink_layout.cipher_size(0) == 56 && tink_layout.cipher_size(4040) == 4096 && tink_layout.cipher_size(4041) == 4113);
static_assert(tink_layout.segment_of(4039) == 0 && tink_layout.segment_of(4040) == 1 && tink_layout.plain_start(2) == 4040 + 4080);
static_assert(tink_layout.from_cipher_size(4113)->plain_size == 4041 && !tink_layout.from_cipher_size(4096 + 15));
static_assert(!tink_layout.from_cipher_size(40) && !tink_layout.from_cipher_size(39));

static_assert(atrest::writable_file<atrest::memory_file>);
