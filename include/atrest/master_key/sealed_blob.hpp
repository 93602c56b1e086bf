#pragma once
/// Sealed master-key blobs are self-describing: their first byte names the backend that made it,
/// so a source can tell "not my blob" (errc::wrong_key, which lets a previous master key be tried)
/// from "damaged" (errc::corrupt). docs/format.md lists the blob layouts.

#include <atrest/diagnostics.hpp>
#include <atrest/error.hpp>
#include <atrest/master_key/concepts.hpp>

#include <concepts>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace atrest {

/// First byte of every sealed blob.
enum class sealed_backend : std::uint8_t { plaintext = 1, local_key = 2, kms = 3, kmip = 4 };

[[nodiscard]] constexpr std::string_view to_string(sealed_backend b) noexcept {
    switch (b) {
        case sealed_backend::plaintext: return "plaintext master key";
        case sealed_backend::local_key: return "local master key (file or in-memory)";
        case sealed_backend::kms: return "KMS master key";
        case sealed_backend::kmip: return "KMIP master key";
    }
    return "unknown backend";
}

namespace detail {

/// Checks a blob's backend byte: empty or unknown is corrupt; another backend's blob is a wrong key.
inline void expect_backend(std::span<const std::byte> blob, sealed_backend mine, const std::string& who) {
    if (blob.empty()) throw error(errc::corrupt, "sealed data is empty (" + who + ")");
    const auto b = static_cast<std::uint8_t>(blob[0]);
    if (b < 1 || b > 4) {
        throw error(errc::corrupt, "sealed data starts with unknown backend byte " + std::to_string(b) + " (" + who + ")");
    }
    if (static_cast<sealed_backend>(b) != mine) {
        throw error(errc::wrong_key, "the data was sealed by a " + std::string(to_string(static_cast<sealed_backend>(b))) +
                                         ", not by " + who);
    }
}

}  // namespace detail
}  // namespace atrest
