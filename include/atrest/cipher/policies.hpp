#pragma once
/// The cipher policies: one empty type per method, carrying its number, name and sizes as
/// constants so that `ctr_stream<C>` and `encrypted_file<C, …>` are resolved at compile time with
/// no dispatch in the I/O path — and `method_policies`, the one list of them. Adding a method is
/// its policy plus one line in that list; methods.hpp derives everything else from it.

#include <atrest/aead/policies.hpp>
#include <atrest/cipher/concepts.hpp>
#include <atrest/cipher/method.hpp>

#include <cstddef>
#include <string_view>

namespace atrest {

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

/// Authenticated data files (atrest's methods, not TiKV's): the file is a segmented AEAD stream
/// (`atrest::authenticated_file`, docs/aead.md "Authenticated data files") sealed under a
/// per-file key derived from the data key and a random salt in the file's header. `key_size` is
/// the data key's; the dictionary entry's 16-byte IV field carries the segment size instead of
/// an IV (docs/format.md).
struct aes256_gcm_stream {
    static constexpr method id = method::aes256_gcm_stream;
    static constexpr std::size_t key_size = 32;
    static constexpr std::size_t iv_size = 16;
    static constexpr std::string_view name = "aes256-gcm-stream";
    using aead = atrest::aes256_gcm;
};

struct aes128_gcm_stream {
    static constexpr method id = method::aes128_gcm_stream;
    static constexpr std::size_t key_size = 16;
    static constexpr std::size_t iv_size = 16;
    static constexpr std::string_view name = "aes128-gcm-stream";
    using aead = atrest::aes128_gcm;
};

/// A list of policy types.
template <cipher_policy... P>
struct policy_list {
    static constexpr std::size_t size = sizeof...(P);
};

/// Every method a caller may configure, in numbering order: the one list.
using method_policies =
    policy_list<plaintext, aes128_ctr, aes192_ctr, aes256_ctr, sm4_ctr, aes256_gcm_stream, aes128_gcm_stream>;

}  // namespace atrest
