#pragma once
/// The master-key source family: whatever seals the key dictionary. A sealed blob is
/// self-describing (its first byte names the backend that made it), so a source can tell "not my
/// blob" (errc::wrong_key, which lets a previous master key be tried) from "damaged"
/// (errc::corrupt). docs/format.md lists the blob layouts.

#include <atrest/error.hpp>
#include <atrest/secret_bytes.hpp>

#include <concepts>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace atrest {

/// Warnings for the embedding program (a library never writes to stderr).
using diagnostic_sink = std::function<void(std::string_view message)>;

/// First byte of every sealed blob.
enum class sealed_backend : std::uint8_t { plaintext = 1, local_key = 2, kms = 3 };

[[nodiscard]] constexpr std::string_view to_string(sealed_backend b) noexcept {
    switch (b) {
        case sealed_backend::plaintext: return "plaintext master key";
        case sealed_backend::local_key: return "local master key (file or in-memory)";
        case sealed_backend::kms: return "KMS master key";
    }
    return "unknown backend";
}

/// What `open` recovered; `needs_reseal` says a previous master key was needed, so the caller
/// should seal again under the current one.
struct unsealed {
    secret_bytes data;
    bool needs_reseal = false;
};

template <class S>
concept master_key_source = requires(S& s, const S& cs, std::span<const std::byte> data, std::span<const std::byte> aad) {
    { s.seal(data, aad) } -> std::same_as<std::vector<std::byte>>;
    { s.open(data, aad) } -> std::same_as<unsealed>;
    { cs.describe() } -> std::convertible_to<std::string>;  // names the source, never its key
    { cs.is_secure() } -> std::convertible_to<bool>;        // false only when nothing is protected
};

namespace detail {

/// Checks a blob's backend byte: empty or unknown is corrupt; another backend's blob is a wrong key.
inline void expect_backend(std::span<const std::byte> blob, sealed_backend mine, const std::string& who) {
    if (blob.empty()) throw error(errc::corrupt, "sealed data is empty (" + who + ")");
    const auto b = static_cast<std::uint8_t>(blob[0]);
    if (b < 1 || b > 3) {
        throw error(errc::corrupt, "sealed data starts with unknown backend byte " + std::to_string(b) + " (" + who + ")");
    }
    if (static_cast<sealed_backend>(b) != mine) {
        throw error(errc::wrong_key, "the data was sealed by a " + std::string(to_string(static_cast<sealed_backend>(b))) +
                                         ", not by " + who);
    }
}

}  // namespace detail
}  // namespace atrest
