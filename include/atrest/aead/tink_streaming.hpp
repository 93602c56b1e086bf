#pragma once
/// Tink's AES-GCM-HKDF streaming format (Tink's `AesGcmHkdfStreaming`, templates
/// AES128_GCM_HKDF_4KB, AES256_GCM_HKDF_4KB and _1MB), byte for byte:
///
///     header    = header_length(1) || salt(key size) || nonce_prefix(7)   (header_length = 1 + K + 7)
///     key       = HKDF-SHA-256(ikm = the input key, salt, info = the associated data, K bytes)
///     segment i = AES-GCM(key, nonce = nonce_prefix || BE32(i) || last(1), aad = empty)
///
/// Every ciphertext segment is `segment_size` bytes except the last; segment 0 shares them with
/// the header, so it holds `segment_size - header_length - 16` plaintext bytes and later ones
/// `segment_size - 16`. An empty stream is the header and one empty final segment. The
/// associated data is bound through the key (a different one is a failed first segment), not
/// stored. docs/aead.md has the layout with offsets.

#include <atrest/aead/concepts.hpp>
#include <atrest/aead/aead_cipher.hpp>
#include <atrest/aead/hkdf.hpp>
#include <atrest/aead/policies.hpp>
#include <atrest/detail/endian.hpp>
#include <atrest/detail/random.hpp>
#include <atrest/error.hpp>

#include <array>
#include <cstring>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace atrest {

struct tink_streaming final {
    static constexpr std::string_view name = "tink-aes-gcm-hkdf-streaming";
    static constexpr bool final_in_prefix = false;
    static constexpr std::size_t nonce_prefix_size = 7;
    static constexpr std::size_t tag_size = 16;
    /// Tink's own bounds are looser; these cover its templates (4 KiB, 1 MiB) and keep one
    /// segment's buffer bounded.
    static constexpr std::uint32_t min_segment_size = 1024;
    static constexpr std::uint32_t max_segment_size = std::uint32_t{1} << 24;

    template <class A>
    static constexpr bool supports = std::same_as<A, aes128_gcm> || std::same_as<A, aes256_gcm>;

    struct options final {
        /// Ciphertext segment size: Tink's `ciphertext_segment_size` (4096 and 1048576 in its templates).
        std::uint32_t segment_size = 4096;
        /// Tink's associated data (HKDF's info); only needed while a stream is created or opened.
        std::span<const std::byte> associated_data = {};
    };

    template <class A>
    [[nodiscard]] static constexpr std::size_t header_size() noexcept {
        return 1 + A::key_size + nonce_prefix_size;
    }

    [[nodiscard]] static std::size_t peek_size(const options&) noexcept { return 1 + 32 + nonce_prefix_size; }

    template <class A>
    [[nodiscard]] static segment_layout layout(const options& o) {
        check_segment_size(o.segment_size, header_size<A>());
        segment_layout l;
        l.header_size = header_size<A>();
        l.first_capacity = o.segment_size - header_size<A>() - tag_size;
        l.capacity = o.segment_size - tag_size;
        l.prefix_size = 0;
        l.tag_size = tag_size;
        l.min_final_body = 0;
        l.empty_stream_has_segment = true;
        return l;
    }

    template <aead_policy A>
        requires supports<A>
    class stream final {
    public:
        [[nodiscard]] static stream create(std::span<const std::byte> key, const options& o) {
            std::array<std::byte, header_size<A>()> header{};
            header[0] = std::byte{static_cast<std::uint8_t>(header_size<A>())};
            detail::fill_random(std::span(header).subspan(1));
            return stream(key, o, header);
        }

        [[nodiscard]] static stream open(std::span<const std::byte> key, const options& o, std::span<const std::byte> head,
                                         std::string_view where) {
            if (head.size() < header_size<A>()) {
                throw error(errc::truncated, "'" + std::string(where) + "': " + std::to_string(head.size()) +
                                                 " bytes, shorter than the " + std::to_string(header_size<A>()) +
                                                 "-byte header of a Tink " + std::string(A::name) + " stream");
            }
            if (std::to_integer<std::size_t>(head[0]) != header_size<A>()) {
                throw error(errc::corrupt, "'" + std::string(where) + "': header length byte at offset 0 is " +
                                               std::to_string(std::to_integer<int>(head[0])) + ", expected " +
                                               std::to_string(header_size<A>()) + " for a Tink " +
                                               std::string(A::name) + " stream");
            }
            std::array<std::byte, header_size<A>()> header{};
            std::memcpy(header.data(), head.data(), header.size());
            return stream(key, o, header);
        }

        [[nodiscard]] std::span<const std::byte> header() const noexcept { return m_header; }

        /// `prefix` is empty in this format.
        void seal(std::uint64_t index, bool final, std::span<std::byte> /*prefix*/, std::span<std::byte> body,
                  std::span<std::byte> tag) {
            m_cipher.seal(nonce(index, final), {}, body, tag);
        }

        [[nodiscard]] segment_check open(std::uint64_t index, bool final, std::span<const std::byte> /*prefix*/,
                                         std::span<std::byte> body, std::span<const std::byte> tag) {
            return m_cipher.open(nonce(index, final), {}, body, tag) ? segment_check::ok : segment_check::tag_mismatch;
        }

    private:
        stream(std::span<const std::byte> key, const options& o, const std::array<std::byte, header_size<A>()>& header)
            : m_header(header), m_cipher(derive(key, o, header).bytes()) {
            std::memcpy(m_nonce.data(), header.data() + 1 + A::key_size, nonce_prefix_size);
        }

        static secret_bytes derive(std::span<const std::byte> key, const options& o,
                                   const std::array<std::byte, header_size<A>()>& header) {
            // Tink's key value is HKDF's input key material and may be longer than the derived key.
            if (key.size() < A::key_size) {
                throw error(errc::invalid_key_size, "a Tink " + std::string(A::name) + " stream needs an input key of " +
                                                        std::to_string(A::key_size) + " bytes or more, got " +
                                                        std::to_string(key.size()) + " bytes");
            }
            return detail::hkdf_sha256(key, std::span(header).subspan(1, A::key_size), o.associated_data, A::key_size);
        }

        std::span<const std::byte> nonce(std::uint64_t index, bool final) noexcept {
            detail::store_be(m_nonce.data() + nonce_prefix_size, static_cast<std::uint32_t>(index));
            m_nonce[nonce_prefix_size + 4] = std::byte{final ? std::uint8_t{1} : std::uint8_t{0}};
            return m_nonce;
        }

        std::array<std::byte, header_size<A>()> m_header;
        std::array<std::byte, 12> m_nonce{};
        aead_cipher<A> m_cipher;
    };

private:
    static void check_segment_size(std::uint32_t size, std::size_t header) {
        if (size < min_segment_size || size > max_segment_size || size <= header + tag_size) {
            throw error(errc::invalid_argument, "Tink streaming segment size " + std::to_string(size) +
                                                    " is outside [" + std::to_string(min_segment_size) + ", " +
                                                    std::to_string(max_segment_size) + "]");
        }
    }
};

}  // namespace atrest
