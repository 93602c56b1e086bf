#pragma once
/// DARE 2.0, the format of MinIO's `sio` package (github.com/minio/sio), byte for byte. A stream
/// is a sequence of packages, each
///
///     header(16) || payload(1..65536 bytes, encrypted) || tag(16)
///     header = 0x20 || cipher(1: 0 = AES-256-GCM, 1 = ChaCha20-Poly1305) || LE16(payload - 1)
///              || nonce(12), whose first byte's top bit is the final flag
///     AEAD nonce = header[4..16] with its last 4 bytes (LE32) XOR the sequence number
///     AAD = header[0..4]
///
/// The key is used as given (32 bytes; MinIO derives one per object). Every package repeats the
/// stream's random nonce (the top bit aside) — a reader refuses a package with another one, which
/// catches packages spliced in from another stream — and every package but the final one carries
/// exactly 64 KiB, so package k starts at byte k * 65568. An empty stream is no bytes at all.
/// docs/aead.md has the layout with offsets.

#include <atrest/aead/aead_cipher.hpp>
#include <atrest/aead/concepts.hpp>
#include <atrest/aead/policies.hpp>
#include <atrest/detail/botan_compat.hpp>
#include <atrest/detail/endian.hpp>
#include <atrest/detail/random.hpp>
#include <atrest/error.hpp>

#include <array>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace atrest {

struct dare final {
    static constexpr std::string_view name = "dare-2.0";
    static constexpr bool final_in_prefix = true;
    static constexpr std::uint8_t version = 0x20;
    static constexpr std::size_t header_size = 16;
    static constexpr std::size_t tag_size = 16;
    static constexpr std::size_t max_payload = std::size_t{1} << 16;
    static constexpr std::size_t package_size = header_size + max_payload + tag_size;

    template <class A>
    static constexpr bool supports = std::same_as<A, aes256_gcm> || std::same_as<A, chacha20_poly1305>;

    /// The cipher byte of a package header.
    template <class A>
    static constexpr std::uint8_t cipher_id = std::same_as<A, aes256_gcm> ? 0 : 1;

    struct options final {
        /// The first package's sequence number (sio's `Config.SequenceNumber`; 0 for a whole stream).
        std::uint32_t sequence_number = 0;
        /// A fixed stream nonce instead of a random one (sio's `Config.Nonce`): for known-answer
        /// tests only. Two streams under one key with one nonce leak both plaintexts.
        std::optional<std::array<std::byte, 12>> nonce = std::nullopt;
    };

    [[nodiscard]] static std::size_t peek_size(const options&) noexcept { return header_size; }

    template <class A>
    [[nodiscard]] static segment_layout layout(const options&) noexcept {
        segment_layout l;
        l.header_size = 0;
        l.first_capacity = max_payload;
        l.capacity = max_payload;
        l.prefix_size = header_size;
        l.tag_size = tag_size;
        l.min_final_body = 1;
        l.empty_stream_has_segment = false;
        return l;
    }

    template <aead_policy A>
        requires supports<A>
    class stream final {
    public:
        [[nodiscard]] static stream create(std::span<const std::byte> key, const options& o) {
            std::array<std::byte, 12> nonce{};
            if (o.nonce) {
                nonce = *o.nonce;
            } else {
                detail::fill_random(nonce);
            }
            return stream(key, o, nonce);
        }

        /// `head` is the first package's header (empty for an empty stream, whose nonce is never needed).
        [[nodiscard]] static stream open(std::span<const std::byte> key, const options& o, std::span<const std::byte> head,
                                         std::string_view where) {
            std::array<std::byte, 12> nonce{};
            if (!head.empty()) {
                if (head.size() < header_size) {
                    throw error(errc::truncated, "'" + std::string(where) + "': " + std::to_string(head.size()) +
                                                     " bytes, shorter than one 16-byte DARE package header");
                }
                if (const auto c = check_header<A>(head, 0, false); c == segment_check::bad_version || c == segment_check::bad_cipher) {
                    throw error(c == segment_check::bad_version ? errc::unknown_version : errc::unsupported,
                                "'" + std::string(where) + "': package 0 at offset 0: " + describe_header(head));
                }
                std::memcpy(nonce.data(), head.data() + 4, nonce.size());
            }
            return stream(key, o, nonce);
        }

        [[nodiscard]] std::span<const std::byte> header() const noexcept { return {}; }

        void seal(std::uint64_t index, bool final, std::span<std::byte> prefix, std::span<std::byte> body,
                  std::span<std::byte> tag) {
            prefix[0] = std::byte{version};
            prefix[1] = std::byte{cipher_id<A>};
            detail::store_le(prefix.data() + 2, static_cast<std::uint16_t>(body.size() - 1));
            std::memcpy(prefix.data() + 4, m_nonce.data(), m_nonce.size());
            prefix[4] = final ? (prefix[4] | std::byte{0x80}) : (prefix[4] & std::byte{0x7f});
            m_cipher.seal(aead_nonce(prefix, index), prefix.first(4), body, tag);
        }

        /// Checks the header against the package's place (`index`, whether it must be final,
        /// its body length) and the stream's nonce, then the tag with the header's own flag.
        [[nodiscard]] segment_check open(std::uint64_t index, bool final, std::span<const std::byte> prefix,
                                         std::span<std::byte> body, std::span<const std::byte> tag) {
            if (const auto c = check_header<A>(prefix, body.size(), true); c != segment_check::ok) return c;
            std::array<std::byte, 12> own{};
            std::memcpy(own.data(), prefix.data() + 4, own.size());
            const bool is_final = (own[0] & std::byte{0x80}) != std::byte{0};
            own[0] &= std::byte{0x7f};
            if (!detail::botan_compat::constant_time_equal(reinterpret_cast<const std::uint8_t*>(own.data()),
                                                           reinterpret_cast<const std::uint8_t*>(m_nonce.data()), 12)) {
                return segment_check::nonce_mismatch;
            }
            if (!m_cipher.open(aead_nonce(prefix, index), prefix.first(4), body, tag)) return segment_check::tag_mismatch;
            if (is_final != final) {
                detail::botan_compat::secure_scrub(body.data(), body.size());
                return final ? segment_check::missing_final : segment_check::unexpected_final;
            }
            return segment_check::ok;
        }

    private:
        stream(std::span<const std::byte> key, const options& o, const std::array<std::byte, 12>& nonce)
            : m_nonce(nonce), m_cipher(key), m_sequence(o.sequence_number) {
            m_nonce[0] &= std::byte{0x7f};  // the top bit is each package's final flag
        }

        std::span<const std::byte> aead_nonce(std::span<const std::byte> prefix, std::uint64_t index) noexcept {
            std::memcpy(m_aead_nonce.data(), prefix.data() + 4, 12);
            const auto seq = static_cast<std::uint32_t>(m_sequence + index);
            detail::store_le(m_aead_nonce.data() + 8, detail::load_le<std::uint32_t>(m_aead_nonce.data() + 8) ^ seq);
            return m_aead_nonce;
        }

        std::array<std::byte, 12> m_nonce;
        std::array<std::byte, 12> m_aead_nonce{};
        aead_cipher<A> m_cipher;
        std::uint32_t m_sequence;
    };

    /// Version, cipher and (when `check_length`) the length field against `body` bytes.
    template <class A>
    [[nodiscard]] static segment_check check_header(std::span<const std::byte> h, std::size_t body, bool check_length) noexcept {
        if (std::to_integer<std::uint8_t>(h[0]) != version) return segment_check::bad_version;
        if (std::to_integer<std::uint8_t>(h[1]) != cipher_id<A>) return segment_check::bad_cipher;
        if (check_length && std::size_t{detail::load_le<std::uint16_t>(h.data() + 2)} + 1 != body) {
            return segment_check::bad_length;
        }
        return segment_check::ok;
    }

    /// What a package header says, for error messages.
    [[nodiscard]] static std::string describe_header(std::span<const std::byte> h) {
        const auto v = std::to_integer<unsigned>(h[0]);
        const auto c = std::to_integer<unsigned>(h[1]);
        std::string out = "header version 0x" + hex2(v) + (v == 0x10 ? " (DARE 1.0, not supported)" : "") +
                          (v == version ? " (DARE 2.0)" : "") + ", cipher " + std::to_string(c) +
                          (c == 0 ? " (AES-256-GCM)" : c == 1 ? " (ChaCha20-Poly1305)" : " (unknown)") + ", payload " +
                          std::to_string(std::size_t{detail::load_le<std::uint16_t>(h.data() + 2)} + 1) + " bytes" +
                          ((std::to_integer<unsigned>(h[4]) & 0x80) != 0 ? ", final" : "");
        return out;
    }

private:
    static std::string hex2(unsigned v) {
        static constexpr char digits[] = "0123456789abcdef";
        return {digits[(v >> 4) & 15], digits[v & 15]};
    }
};

}  // namespace atrest
