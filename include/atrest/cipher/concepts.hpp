#pragma once
/// The cipher policy family's concepts: what a type must say to be a method the library can
/// store, dispatch to and run. Models: policies.hpp; checks: tests/static/cipher_policy_static.cpp.

#include <atrest/aead/concepts.hpp>
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

/// A cipher policy for authenticated data files: it names the AEAD its segments are sealed with
/// (`authenticated_file`), and has no block cipher for the CTR engine.
template <class C>
concept authenticated_policy = cipher_policy<C> && C::key_size > 0 && C::iv_size == 16 && requires {
    typename C::aead;
} && aead_policy<typename C::aead> && C::key_size >= C::aead::key_size && !requires { C::block_cipher; };

}  // namespace atrest
