#pragma once
/// Encryption methods with TiKV's numbering (kvproto `EncryptionMethod`), so stored numbers and
/// config names are interchangeable with TiKV/TiFlash metadata.

#include <atrest/error.hpp>

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace atrest {

/// Stored on disk as one byte; never renumber.
enum class method : std::uint8_t {
    unknown = 0,
    plaintext = 1,
    aes128_ctr = 2,
    aes192_ctr = 3,
    aes256_ctr = 4,
    sm4_ctr = 5,
};

/// Every method a caller may configure, in numbering order.
inline constexpr std::array<method, 5> all_methods = {method::plaintext, method::aes128_ctr, method::aes192_ctr,
                                                      method::aes256_ctr, method::sm4_ctr};

/// The config spelling ("aes128-ctr"…); "unknown" for `method::unknown` or an out-of-range value.
[[nodiscard]] constexpr std::string_view to_string(method m) noexcept {
    switch (m) {
        case method::plaintext: return "plaintext";
        case method::aes128_ctr: return "aes128-ctr";
        case method::aes192_ctr: return "aes192-ctr";
        case method::aes256_ctr: return "aes256-ctr";
        case method::sm4_ctr: return "sm4-ctr";
        case method::unknown: break;
    }
    return "unknown";
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
    if (value >= static_cast<std::uint8_t>(method::plaintext) && value <= static_cast<std::uint8_t>(method::sm4_ctr)) {
        return static_cast<method>(value);
    }
    throw error(errc::unknown_method,
                "unknown encryption method number " + std::to_string(value) + " in " + std::string(where));
}

}  // namespace atrest
