// Which types model atrest::cipher_policy and atrest::block_cipher_policy. Compiling is the test.
#include <atrest/cipher.hpp>

#include <string_view>

namespace {
struct no_id {
    static constexpr std::size_t key_size = 16;
    static constexpr std::size_t iv_size = 16;
    static constexpr std::string_view name = "x";
};
struct unknown_id {
    static constexpr atrest::method id = atrest::method::unknown;
    static constexpr std::size_t key_size = 16;
    static constexpr std::size_t iv_size = 16;
    static constexpr std::string_view name = "x";
};
struct bad_iv {
    static constexpr atrest::method id = atrest::method::aes128_ctr;
    static constexpr std::size_t key_size = 16;
    static constexpr std::size_t iv_size = 12;
    static constexpr std::string_view name = "x";
    static constexpr std::string_view block_cipher = "AES-128";
};
}  // namespace

static_assert(atrest::cipher_policy<atrest::plaintext>);
static_assert(atrest::cipher_policy<atrest::aes128_ctr>);
static_assert(atrest::cipher_policy<atrest::aes192_ctr>);
static_assert(atrest::cipher_policy<atrest::aes256_ctr>);
static_assert(atrest::cipher_policy<atrest::sm4_ctr>);
static_assert(!atrest::cipher_policy<int>);
static_assert(!atrest::cipher_policy<no_id>);
static_assert(!atrest::cipher_policy<unknown_id>);
static_assert(!atrest::cipher_policy<bad_iv>);

static_assert(atrest::block_cipher_policy<atrest::aes128_ctr>);
static_assert(atrest::block_cipher_policy<atrest::sm4_ctr>);
static_assert(!atrest::block_cipher_policy<atrest::plaintext>);

static_assert(atrest::aes128_ctr::key_size == 16 && atrest::aes192_ctr::key_size == 24 &&
              atrest::aes256_ctr::key_size == 32 && atrest::sm4_ctr::key_size == 16);
static_assert(atrest::to_string(atrest::method::aes128_ctr) == "aes128-ctr");
static_assert(sizeof(atrest::method) == 1);

// Everything about methods follows from the one list of policies.
static_assert(atrest::all_methods.size() == atrest::method_policies::size);
static_assert(atrest::to_string(atrest::method::sm4_ctr) == "sm4-ctr");
static_assert(atrest::to_string(atrest::method::unknown) == "unknown");
static_assert(atrest::to_string(static_cast<atrest::method>(200)) == "unknown");
static_assert(atrest::key_size_of(atrest::method::aes192_ctr) == 24);
static_assert(atrest::key_size_of(atrest::method::plaintext) == 0);

// Authenticated methods: cipher policies with an AEAD and no block cipher; not CTR policies.
namespace {
struct aead_without_key {
    static constexpr atrest::method id = atrest::method::aes256_gcm_stream;
    static constexpr std::size_t key_size = 16;  // shorter than AES-256's key: HKDF would stretch it
    static constexpr std::size_t iv_size = 16;
    static constexpr std::string_view name = "x";
    using aead = atrest::aes256_gcm;
};
struct aead_and_block_cipher {
    static constexpr atrest::method id = atrest::method::aes256_gcm_stream;
    static constexpr std::size_t key_size = 32;
    static constexpr std::size_t iv_size = 16;
    static constexpr std::string_view name = "x";
    static constexpr std::string_view block_cipher = "AES-256";
    using aead = atrest::aes256_gcm;
};
}  // namespace
static_assert(atrest::authenticated_policy<atrest::aes256_gcm_stream>);
static_assert(atrest::authenticated_policy<atrest::aes128_gcm_stream>);
static_assert(atrest::cipher_policy<atrest::aes256_gcm_stream>);
static_assert(!atrest::block_cipher_policy<atrest::aes256_gcm_stream>);
static_assert(!atrest::authenticated_policy<atrest::aes256_ctr>);
static_assert(!atrest::authenticated_policy<atrest::plaintext>);
static_assert(!atrest::authenticated_policy<aead_without_key>);
static_assert(!atrest::authenticated_policy<aead_and_block_cipher>);
static_assert(atrest::to_string(atrest::method::aes256_gcm_stream) == "aes256-gcm-stream");
static_assert(atrest::to_string(atrest::method::aes128_gcm_stream) == "aes128-gcm-stream");
static_assert(static_cast<int>(atrest::method::aes256_gcm_stream) == 128);
static_assert(atrest::key_size_of(atrest::method::aes128_gcm_stream) == 16);
static_assert(atrest::is_authenticated(atrest::method::aes256_gcm_stream));
static_assert(!atrest::is_authenticated(atrest::method::sm4_ctr));
static_assert(atrest::authenticated_counterpart(atrest::method::aes256_ctr) == atrest::method::aes256_gcm_stream);
static_assert(atrest::authenticated_counterpart(atrest::method::sm4_ctr) == atrest::method::aes128_gcm_stream);
