#pragma once
/// `atrest::file_stream`: the stream format of authenticated data files (methods
/// aes256-gcm-stream and aes128-gcm-stream, `authenticated_file`). A third model of
/// `stream_format`, run by the same segment engine as Tink's and DARE's, and built like Tink's:
///
///   header:  0x01 (version) || salt (32 random bytes)
///   segment: seal (8 bytes, LE: bit 63 = final, bits 0-62 = seal number) || body || tag (16)
///
/// The per-file key is HKDF-SHA-256(data key, salt, "atrest data file " || AEAD name), so one
/// data key serves any number of files. The nonce is LE32(segment number) || the seal field; the
/// writer gives every seal of a file a new seal number, so no nonce repeats within a file even
/// though the last (partial) segment is sealed again at every flush — which is what a log that
/// must survive a crash needs, and what Tink's format (one final seal per stream) cannot do. The
/// segment size (ciphertext bytes per segment, the header counting in segment 0, as in Tink) is
/// not stored in the file: it is an option, kept in the file's dictionary entry. docs/format.md.

#include <atrest/aead/aead_cipher.hpp>
#include <atrest/aead/concepts.hpp>
#include <atrest/aead/hkdf.hpp>
#include <atrest/aead/policies.hpp>
#include <atrest/detail/endian.hpp>
#include <atrest/detail/random.hpp>
#include <atrest/error.hpp>
#include <atrest/secret_bytes.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>

namespace atrest {

struct file_stream final {
    static constexpr std::string_view name = "atrest-file-stream";
    static constexpr bool final_in_prefix = true;
    static constexpr std::uint8_t version = 1;
    static constexpr std::size_t salt_size = 32;
    static constexpr std::size_t header_size = 1 + salt_size;
    static constexpr std::size_t seal_size = 8;
    static constexpr std::size_t tag_size = 16;
    static constexpr std::uint64_t final_bit = std::uint64_t{1} << 63;
    static constexpr std::uint32_t min_segment_size = 1024;
    static constexpr std::uint32_t max_segment_size = std::uint32_t{1} << 24;
    static constexpr std::string_view info_prefix = "atrest data file ";

    template <class A>
    static constexpr bool supports = aead_policy<A>;

    struct options final {
        /// Ciphertext bytes per segment (prefix, body and tag; segment 0 also holds the header).
        std::uint32_t segment_size = 4096;
    };

    [[nodiscard]] static std::size_t peek_size(const options&) noexcept { return header_size; }

    template <class A>
    [[nodiscard]] static segment_layout layout(const options& o) {
        check_segment_size(o.segment_size);
        segment_layout l;
        l.header_size = header_size;
        l.prefix_size = seal_size;
        l.tag_size = tag_size;
        l.first_capacity = o.segment_size - header_size - seal_size - tag_size;
        l.capacity = o.segment_size - seal_size - tag_size;
        l.min_final_body = 0;
        l.empty_stream_has_segment = false;  // an empty file is no bytes at all
        return l;
    }

    /// A segment size outside [1 KiB, 16 MiB] is `errc::invalid_argument`.
    static void check_segment_size(std::uint64_t size) {
        if (size < min_segment_size || size > max_segment_size) {
            throw error(errc::invalid_argument, "authenticated data file segment size " + std::to_string(size) +
                                                    " is outside [" + std::to_string(min_segment_size) + ", " +
                                                    std::to_string(max_segment_size) + "]");
        }
    }

    template <aead_policy A>
    class stream final {
    public:
        using header_type = std::array<std::byte, header_size>;

        // Two overloads, not `const options& = {}`: clang before 16 cannot use options' default
        // member initializer in a default argument inside file_stream, which encloses both.
        [[nodiscard]] static stream create(std::span<const std::byte> key) { return create(key, options{}); }
        [[nodiscard]] static stream create(std::span<const std::byte> key, const options&) {
            header_type header{};
            header[0] = std::byte{version};
            detail::fill_random(std::span(header).subspan(1));
            return stream(derive(key, header).bytes(), header);
        }

        [[nodiscard]] static stream open(std::span<const std::byte> key, const options&, std::span<const std::byte> head,
                                         std::string_view where) {
            return stream(derive(key, parse_header(head, where)).bytes(), parse_header(head, where));
        }

        /// The per-file key of the stream whose header is `header` (what `from_file_key` takes).
        [[nodiscard]] static secret_bytes derive(std::span<const std::byte> key, const header_type& header) {
            if (key.size() < A::key_size) {
                throw error(errc::invalid_key_size, "an authenticated " + std::string(A::name) + " data file needs a data key of " +
                                                        std::to_string(A::key_size) + " bytes or more, got " +
                                                        std::to_string(key.size()) + " bytes");
            }
            std::array<std::byte, info_prefix.size() + A::name.size()> info{};
            std::memcpy(info.data(), info_prefix.data(), info_prefix.size());
            std::memcpy(info.data() + info_prefix.size(), A::name.data(), A::name.size());
            return detail::hkdf_sha256(key, std::span(header).subspan(1), info, A::key_size);
        }

        /// One more state over the same file (another reader's), from its per-file key.
        [[nodiscard]] static stream from_file_key(std::span<const std::byte> file_key, const header_type& header) {
            return stream(file_key, header);
        }

        [[nodiscard]] static header_type parse_header(std::span<const std::byte> head, std::string_view where) {
            if (head.size() < header_size) {
                throw error(errc::truncated, "'" + std::string(where) + "': " + std::to_string(head.size()) +
                                                 " bytes, shorter than the " + std::to_string(header_size) +
                                                 "-byte header of an authenticated data file");
            }
            if (std::to_integer<std::uint8_t>(head[0]) != version) {
                throw error(errc::unknown_version, "'" + std::string(where) + "': authenticated data file version " +
                                                       std::to_string(std::to_integer<int>(head[0])) +
                                                       " at offset 0; this build reads version " + std::to_string(version));
            }
            header_type h{};
            std::memcpy(h.data(), head.data(), header_size);
            return h;
        }

        [[nodiscard]] std::span<const std::byte> header() const noexcept { return m_header; }

        /// The seal number the next `seal` uses; the writer sets it past the last one in the file.
        void set_next_seal(std::uint64_t n) noexcept { m_next_seal = n; }
        [[nodiscard]] std::uint64_t next_seal() const noexcept { return m_next_seal; }
        /// The seal number of the last segment `open` authenticated.
        [[nodiscard]] std::uint64_t last_opened_seal() const noexcept { return m_last_opened; }

        void seal(std::uint64_t index, bool final, std::span<std::byte> prefix, std::span<std::byte> body,
                  std::span<std::byte> tag) {
            if (m_next_seal >= final_bit) throw error(errc::invalid_argument, "authenticated data file: seal numbers exhausted");
            const std::uint64_t field = m_next_seal++ | (final ? final_bit : 0);
            detail::store_le(prefix.data(), field);
            m_cipher.seal(nonce(index, field), {}, body, tag);
        }

        [[nodiscard]] segment_check open(std::uint64_t index, bool final, std::span<const std::byte> prefix,
                                         std::span<std::byte> body, std::span<const std::byte> tag) {
            const std::uint64_t field = detail::load_le<std::uint64_t>(prefix.data());
            if (!m_cipher.open(nonce(index, field), {}, body, tag)) return segment_check::tag_mismatch;
            m_last_opened = field & ~final_bit;
            const bool is_final = (field & final_bit) != 0;
            if (is_final == final) return segment_check::ok;
            return final ? segment_check::missing_final : segment_check::unexpected_final;
        }

    private:
        stream(std::span<const std::byte> file_key, const header_type& header) : m_header(header), m_cipher(file_key) {}

        std::span<const std::byte> nonce(std::uint64_t index, std::uint64_t field) noexcept {
            detail::store_le(m_nonce.data(), static_cast<std::uint32_t>(index));
            detail::store_le(m_nonce.data() + 4, field);
            return m_nonce;
        }

        header_type m_header;
        std::array<std::byte, 12> m_nonce{};
        aead_cipher<A> m_cipher;
        std::uint64_t m_next_seal = 0;
        std::uint64_t m_last_opened = 0;
    };
};

}  // namespace atrest
