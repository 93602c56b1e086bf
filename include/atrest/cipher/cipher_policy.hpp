#pragma once
/// The cipher policy family: one empty type per method, carrying its sizes as constants so that
/// `ctr_stream<C>` and `encrypted_file<C, …>` are resolved at compile time with no dispatch in the
/// I/O path. `visit_method` (dispatch.hpp) maps a runtime method to one of these once.

#include <atrest/cipher/method.hpp>

#include <concepts>
#include <cstddef>
#include <string_view>

namespace atrest {

/// A type names an encryption method and its key and IV sizes at compile time.
template <class C>
concept cipher_policy = requires {
    { C::id } -> std::convertible_to<method>;
    { C::key_size } -> std::convertible_to<std::size_t>;
    { C::iv_size } -> std::convertible_to<std::size_t>;
    { C::name } -> std::convertible_to<std::string_view>;
} && (C::id != method::unknown) && (C::iv_size == 0 || C::iv_size == 16);

/// A cipher policy that really encrypts: it names the block cipher the CTR engine runs over.
template <class C>
concept block_cipher_policy = cipher_policy<C> && C::key_size > 0 && C::iv_size == 16 && requires {
    { C::block_cipher } -> std::convertible_to<std::string_view>;
};

/// No encryption: files stay as they are (TiKV's "plaintext").
struct plaintext {
    static constexpr method id = method::plaintext;
    static constexpr std::size_t key_size = 0;
    static constexpr std::size_t iv_size = 0;
    static constexpr std::string_view name = "plaintext";
};

struct aes128_ctr {
    static constexpr method id = method::aes128_ctr;
    static constexpr std::size_t key_size = 16;
    static constexpr std::size_t iv_size = 16;
    static constexpr std::string_view name = "aes128-ctr";
    static constexpr std::string_view block_cipher = "AES-128";
};

struct aes192_ctr {
    static constexpr method id = method::aes192_ctr;
    static constexpr std::size_t key_size = 24;
    static constexpr std::size_t iv_size = 16;
    static constexpr std::string_view name = "aes192-ctr";
    static constexpr std::string_view block_cipher = "AES-192";
};

struct aes256_ctr {
    static constexpr method id = method::aes256_ctr;
    static constexpr std::size_t key_size = 32;
    static constexpr std::size_t iv_size = 16;
    static constexpr std::string_view name = "aes256-ctr";
    static constexpr std::string_view block_cipher = "AES-256";
};

/// SM4 (GB/T 32907) has a 128-bit key and block, like AES-128.
struct sm4_ctr {
    static constexpr method id = method::sm4_ctr;
    static constexpr std::size_t key_size = 16;
    static constexpr std::size_t iv_size = 16;
    static constexpr std::string_view name = "sm4-ctr";
    static constexpr std::string_view block_cipher = "SM4";
};

/// Key length for a runtime method (0 for plaintext); throws for `method::unknown`.
[[nodiscard]] constexpr std::size_t key_size_of(method m) {
    switch (m) {
        case method::plaintext: return plaintext::key_size;
        case method::aes128_ctr: return aes128_ctr::key_size;
        case method::aes192_ctr: return aes192_ctr::key_size;
        case method::aes256_ctr: return aes256_ctr::key_size;
        case method::sm4_ctr: return sm4_ctr::key_size;
        case method::unknown: break;
    }
    throw error(errc::unknown_method, "no key size for method \"unknown\"");
}

}  // namespace atrest
