#pragma once
/// Everything about methods that follows from the one list of policies (`method_policies`):
/// the configurable methods, their names and key sizes, parsing a config name, validating a
/// stored byte, and `visit_method`, which maps a runtime method (from config or a dictionary
/// entry) to its compile-time policy once, so the caller's hot loop is instantiated per policy
/// and never branches on the method again.

#include <atrest/cipher/policies.hpp>
#include <atrest/error.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <utility>

namespace atrest {

namespace detail {

template <class... P>
constexpr std::array<method, sizeof...(P)> ids_of(policy_list<P...>) noexcept {
    return {P::id...};
}

/// Calls `f(P{})` for each policy in turn until one returns true; returns whether one did.
template <class F, class... P>
constexpr bool any_policy(policy_list<P...>, F&& f) {
    return (f(P{}) || ...);
}

template <class F, class First, class... Rest>
decltype(auto) visit_policies(method m, F&& f) {
    if (m == First::id) return std::invoke(std::forward<F>(f), First{});
    if constexpr (sizeof...(Rest) > 0) {
        return visit_policies<F, Rest...>(m, std::forward<F>(f));
    } else {
        throw error(errc::unknown_method,
                    "cannot dispatch method number " + std::to_string(static_cast<int>(m)) +
                                                      ": an unknown method, not one of this build's");
    }
}

template <class F, class... P>
decltype(auto) visit_list(policy_list<P...>, method m, F&& f) {
    return visit_policies<F, P...>(m, std::forward<F>(f));
}

}  // namespace detail

/// Every method a caller may configure, in numbering order.
inline constexpr auto all_methods = detail::ids_of(method_policies{});

/// The config spelling ("aes128-ctr"…); "unknown" for `method::unknown` or a number no policy has.
[[nodiscard]] constexpr std::string_view to_string(method m) noexcept {
    std::string_view out = "unknown";
    detail::any_policy(method_policies{}, [&](auto p) {
        if (decltype(p)::id != m) return false;
        out = decltype(p)::name;
        return true;
    });
    return out;
}

/// Key length for a runtime method (0 for plaintext); throws for a number no policy has.
[[nodiscard]] constexpr std::size_t key_size_of(method m) {
    std::size_t out = 0;
    const bool known = detail::any_policy(method_policies{}, [&](auto p) {
        if (decltype(p)::id != m) return false;
        out = decltype(p)::key_size;
        return true;
    });
    if (!known) throw error(errc::unknown_method, "no key size for method number " + std::to_string(static_cast<int>(m)));
    return out;
}

/// Whether `m` is an authenticated method (its files are `authenticated_file`s); false for a
/// number no policy has.
[[nodiscard]] constexpr bool is_authenticated(method m) noexcept {
    bool out = false;
    detail::any_policy(method_policies{}, [&](auto p) {
        if (decltype(p)::id != m) return false;
        out = authenticated_policy<decltype(p)>;
        return true;
    });
    return out;
}

/// The authenticated method a file gets when integrity is asked for under data key method `m`:
/// `m` itself when it is authenticated, else the AES-GCM stream whose key the data key can fill
/// (32-byte keys: aes256-gcm-stream; 16- and 24-byte keys: aes128-gcm-stream). Plaintext has
/// no key and stays plaintext.
[[nodiscard]] constexpr method authenticated_counterpart(method m) {
    if (m == method::plaintext || is_authenticated(m)) return m;
    return key_size_of(m) >= 32 ? method::aes256_gcm_stream : method::aes128_gcm_stream;
}

/// The accepted names, for error messages and help texts.
[[nodiscard]] inline std::string accepted_method_names() {
    std::string out;
    for (method m : all_methods) {
        if (!out.empty()) out += ", ";
        out += '"';
        out += to_string(m);
        out += '"';
    }
    return out;
}

/// Parses a config name exactly as TiKV spells it; anything else is `errc::unknown_method`.
[[nodiscard]] inline method parse_method(std::string_view name) {
    for (method m : all_methods) {
        if (to_string(m) == name) return m;
    }
    throw error(errc::unknown_method,
                "unknown encryption method \"" + std::string(name) + "\"; accepted: " + accepted_method_names());
}

/// Validates a method number read from disk; `where` names the file for the message.
[[nodiscard]] inline method method_from_byte(std::uint8_t value, std::string_view where) {
    for (method m : all_methods) {
        if (static_cast<std::uint8_t>(m) == value) return m;
    }
    throw error(errc::unknown_method,
                "unknown encryption method number " + std::to_string(value) + " in " + std::string(where));
}

/// Calls `f(Policy{})` for `m`'s policy and returns what it returns (every instantiation must
/// return the same type). A number no policy has is `errc::unknown_method`.
template <class F>
decltype(auto) visit_method(method m, F&& f) {
    return detail::visit_list(method_policies{}, m, std::forward<F>(f));
}

}  // namespace atrest
