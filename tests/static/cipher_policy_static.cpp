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
