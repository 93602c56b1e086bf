#pragma once
/// Maps a runtime method (from config or a dictionary entry) to its compile-time policy once,
/// so the caller's hot loop is instantiated per policy and never branches on the method again.

#include <atrest/cipher/cipher_policy.hpp>
#include <atrest/error.hpp>

#include <functional>
#include <string>
#include <type_traits>
#include <utility>

namespace atrest {

/// Calls `f(Policy{})` for `m`. Every instantiation must return the same type.
template <class F>
decltype(auto) visit_method(method m, F&& f) {
    switch (m) {
        case method::plaintext: return std::invoke(std::forward<F>(f), plaintext{});
        case method::aes128_ctr: return std::invoke(std::forward<F>(f), aes128_ctr{});
        case method::aes192_ctr: return std::invoke(std::forward<F>(f), aes192_ctr{});
        case method::aes256_ctr: return std::invoke(std::forward<F>(f), aes256_ctr{});
        case method::sm4_ctr: return std::invoke(std::forward<F>(f), sm4_ctr{});
        case method::unknown: break;
    }
    throw error(errc::unknown_method,
                "cannot dispatch method number " + std::to_string(static_cast<int>(m)) + " (\"" +
                    std::string(to_string(m)) + "\")");
}

}  // namespace atrest
