#pragma once
/// The key-wrap policy family: how secrets (the key dictionary) are sealed under a 256-bit
/// wrapping key. A policy so a different AEAD can be plugged in without touching callers;
/// `aes256_gcm_wrap` is the one TiKV compatibility needs.

#include <atrest/secret_bytes.hpp>

#include <concepts>
#include <cstddef>
#include <span>
#include <string_view>
#include <vector>

namespace atrest {

/// seal(key, data, aad) -> self-contained bytes; open(key, sealed, aad) -> the data, or
/// `errc::wrong_key` when authentication fails and `errc::corrupt` when the input is malformed.
template <class W>
concept key_wrap_policy = requires(std::span<const std::byte> key, std::span<const std::byte> data,
                                   std::span<const std::byte> aad) {
    { W::key_size } -> std::convertible_to<std::size_t>;
    { W::overhead } -> std::convertible_to<std::size_t>;
    { W::name } -> std::convertible_to<std::string_view>;
    { W::seal(key, data, aad) } -> std::same_as<std::vector<std::byte>>;
    { W::open(key, data, aad) } -> std::same_as<secret_bytes>;
};

}  // namespace atrest
