#pragma once
/// Where the segments of a segmented AEAD stream lie: a stream header, then segments of
/// prefix || body || tag, the first one holding `first_capacity` plaintext bytes and every later
/// one `capacity`, every segment but the last full. The arithmetic both the writer and the reader
/// (and the formats' documentation) rely on, in one place.

#include <cstdint>
#include <optional>

namespace atrest {

struct segment_layout final {
    std::uint64_t header_size = 0;          ///< stream header bytes before segment 0
    std::uint64_t first_capacity = 0;       ///< plaintext bytes of segment 0
    std::uint64_t capacity = 0;             ///< plaintext bytes of every later segment
    std::uint64_t prefix_size = 0;          ///< per-segment header bytes before the body
    std::uint64_t tag_size = 16;            ///< authentication tag after the body
    std::uint64_t min_final_body = 0;       ///< smallest body the final segment may have
    bool empty_stream_has_segment = true;   ///< an empty stream is one empty final segment (else: no bytes)
    std::uint64_t max_segments = std::uint64_t{1} << 32;  ///< segment numbers are 32-bit

    [[nodiscard]] constexpr std::uint64_t overhead() const noexcept { return prefix_size + tag_size; }
    [[nodiscard]] constexpr std::uint64_t capacity_of(std::uint64_t index) const noexcept {
        return index == 0 ? first_capacity : capacity;
    }

    /// Segments a stream of `plain` bytes has: every one full except the last, which is never
    /// empty unless the whole stream is.
    [[nodiscard]] constexpr std::uint64_t segment_count(std::uint64_t plain) const noexcept {
        if (plain == 0) return empty_stream_has_segment ? 1 : 0;
        if (plain <= first_capacity) return 1;
        return 1 + (plain - first_capacity + capacity - 1) / capacity;
    }

    /// First plaintext byte of segment `index`.
    [[nodiscard]] constexpr std::uint64_t plain_start(std::uint64_t index) const noexcept {
        return index == 0 ? 0 : first_capacity + (index - 1) * capacity;
    }

    /// The segment holding plaintext byte `offset`.
    [[nodiscard]] constexpr std::uint64_t segment_of(std::uint64_t offset) const noexcept {
        return offset < first_capacity ? 0 : 1 + (offset - first_capacity) / capacity;
    }

    /// First ciphertext byte (its prefix) of segment `index`.
    [[nodiscard]] constexpr std::uint64_t cipher_start(std::uint64_t index) const noexcept {
        return index == 0 ? header_size
                          : header_size + first_capacity + overhead() + (index - 1) * (capacity + overhead());
    }

    /// Ciphertext bytes of a stream of `plain` bytes.
    [[nodiscard]] constexpr std::uint64_t cipher_size(std::uint64_t plain) const noexcept {
        const std::uint64_t n = segment_count(plain);
        return n == 0 ? header_size : header_size + plain + n * overhead();
    }

    struct parsed final {
        std::uint64_t segments = 0;
        std::uint64_t plain_size = 0;
    };

    /// Segments and plaintext size of a ciphertext of `size` bytes, or nothing when no stream
    /// has that size (it ends inside a header, a prefix or a tag, or has too many segments).
    [[nodiscard]] constexpr std::optional<parsed> from_cipher_size(std::uint64_t size) const noexcept {
        if (size < header_size) return std::nullopt;
        const std::uint64_t rest = size - header_size;
        if (rest == 0) {
            if (empty_stream_has_segment) return std::nullopt;
            return parsed{0, 0};
        }
        const std::uint64_t first_full = first_capacity + overhead();
        if (rest <= first_full) {
            if (rest < overhead() + min_final_body) return std::nullopt;
            return parsed{1, rest - overhead()};
        }
        const std::uint64_t full = capacity + overhead();
        const std::uint64_t after = rest - first_full;
        const std::uint64_t whole = after / full;
        const std::uint64_t tail = after % full;
        if (tail != 0 && tail < overhead() + min_final_body) return std::nullopt;
        const std::uint64_t segments = 1 + whole + (tail != 0 ? 1 : 0);
        if (segments > max_segments) return std::nullopt;
        return parsed{segments, first_capacity + whole * capacity + (tail != 0 ? tail - overhead() : 0)};
    }
};

}  // namespace atrest
