#pragma once
/// KMIP's Tag-Type-Length-Value encoding (KMIP 1.x specification, section 9.1), written once for
/// requests and responses. An item is a 3-byte tag (0x42xxxx), a 1-byte type, a 4-byte big-endian
/// length and the value padded with zeros to a multiple of 8 bytes; a structure's value is a
/// sequence of items. The decoder trusts nothing: every length is checked against the bytes that
/// are really there before anything is copied (a claimed length never sizes an allocation), fixed-
/// size types must have their exact length, nesting is bounded, and every malformed input is an
/// `errc::kms` error naming the offset — never a crash.

#include <atrest/error.hpp>

#include <cstddef>
#include <cstdint>
#include <array>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace atrest::kmip {

/// The TTLV item types (KMIP 1.x, 9.1.1.2).
enum class item_type : std::uint8_t {
    structure = 0x01,
    integer = 0x02,
    long_integer = 0x03,
    big_integer = 0x04,
    enumeration = 0x05,
    boolean = 0x06,
    text_string = 0x07,
    byte_string = 0x08,
    date_time = 0x09,
    interval = 0x0A,
};

[[nodiscard]] constexpr std::string_view to_string(item_type t) noexcept {
    switch (t) {
        case item_type::structure: return "Structure";
        case item_type::integer: return "Integer";
        case item_type::long_integer: return "Long Integer";
        case item_type::big_integer: return "Big Integer";
        case item_type::enumeration: return "Enumeration";
        case item_type::boolean: return "Boolean";
        case item_type::text_string: return "Text String";
        case item_type::byte_string: return "Byte String";
        case item_type::date_time: return "Date-Time";
        case item_type::interval: return "Interval";
    }
    return "unknown type";
}

/// The tags this client sends or reads (KMIP 1.x, 9.1.3.1).
namespace tag {
inline constexpr std::uint32_t attribute = 0x420008;
inline constexpr std::uint32_t attribute_name = 0x42000A;
inline constexpr std::uint32_t attribute_value = 0x42000B;
inline constexpr std::uint32_t batch_count = 0x42000D;
inline constexpr std::uint32_t batch_item = 0x42000F;
inline constexpr std::uint32_t block_cipher_mode = 0x420011;
inline constexpr std::uint32_t cryptographic_algorithm = 0x420028;
inline constexpr std::uint32_t cryptographic_length = 0x42002A;
inline constexpr std::uint32_t cryptographic_parameters = 0x42002B;
inline constexpr std::uint32_t cryptographic_usage_mask = 0x42002C;
inline constexpr std::uint32_t iv_counter_nonce = 0x42003D;
inline constexpr std::uint32_t key_block = 0x420040;
inline constexpr std::uint32_t key_format_type = 0x420042;
inline constexpr std::uint32_t key_material = 0x420043;
inline constexpr std::uint32_t key_value = 0x420045;
inline constexpr std::uint32_t name = 0x420053;
inline constexpr std::uint32_t name_type = 0x420054;
inline constexpr std::uint32_t name_value = 0x420055;
inline constexpr std::uint32_t object_type = 0x420057;
inline constexpr std::uint32_t operation = 0x42005C;
inline constexpr std::uint32_t padding_method = 0x42005F;
inline constexpr std::uint32_t protocol_version = 0x420069;
inline constexpr std::uint32_t protocol_version_major = 0x42006A;
inline constexpr std::uint32_t protocol_version_minor = 0x42006B;
inline constexpr std::uint32_t request_header = 0x420077;
inline constexpr std::uint32_t request_message = 0x420078;
inline constexpr std::uint32_t request_payload = 0x420079;
inline constexpr std::uint32_t response_header = 0x42007A;
inline constexpr std::uint32_t response_message = 0x42007B;
inline constexpr std::uint32_t response_payload = 0x42007C;
inline constexpr std::uint32_t result_message = 0x42007D;
inline constexpr std::uint32_t result_reason = 0x42007E;
inline constexpr std::uint32_t result_status = 0x42007F;
inline constexpr std::uint32_t revocation_reason = 0x420081;
inline constexpr std::uint32_t revocation_reason_code = 0x420082;
inline constexpr std::uint32_t state = 0x42008D;
inline constexpr std::uint32_t symmetric_key = 0x42008F;
inline constexpr std::uint32_t template_attribute = 0x420091;
inline constexpr std::uint32_t time_stamp = 0x420092;
inline constexpr std::uint32_t unique_identifier = 0x420094;
inline constexpr std::uint32_t data = 0x4200C2;
}  // namespace tag

/// One decoded (or to-be-encoded) item. Integer, Long Integer, Enumeration, Boolean, Date-Time and
/// Interval keep their value in `number`; Text String, Byte String and Big Integer in `bytes`;
/// a Structure in `children`.
struct item final {
    std::uint32_t tag = 0;
    item_type type = item_type::structure;
    std::int64_t number = 0;
    std::vector<std::byte> bytes;
    std::vector<item> children;

    friend bool operator==(const item&, const item&) = default;

    /// The first child with `t`, or null.
    [[nodiscard]] const item* find(std::uint32_t t) const noexcept {
        for (const auto& c : children) {
            if (c.tag == t) return &c;
        }
        return nullptr;
    }
    [[nodiscard]] std::string text() const { return {reinterpret_cast<const char*>(bytes.data()), bytes.size()}; }
};

/// Builders for the item kinds a client sends.
[[nodiscard]] inline item structure(std::uint32_t t, std::vector<item> children) {
    item i{t, item_type::structure, 0, {}, std::move(children)};
    return i;
}
[[nodiscard]] inline item integer(std::uint32_t t, std::int32_t v) { return {t, item_type::integer, v, {}, {}}; }
[[nodiscard]] inline item long_integer(std::uint32_t t, std::int64_t v) { return {t, item_type::long_integer, v, {}, {}}; }
[[nodiscard]] inline item enumeration(std::uint32_t t, std::uint32_t v) { return {t, item_type::enumeration, v, {}, {}}; }
[[nodiscard]] inline item boolean(std::uint32_t t, bool v) { return {t, item_type::boolean, v ? 1 : 0, {}, {}}; }
[[nodiscard]] inline item date_time(std::uint32_t t, std::int64_t v) { return {t, item_type::date_time, v, {}, {}}; }
[[nodiscard]] inline item interval(std::uint32_t t, std::uint32_t v) { return {t, item_type::interval, v, {}, {}}; }
[[nodiscard]] inline item text_string(std::uint32_t t, std::string_view v) {
    item i{t, item_type::text_string, 0, {}, {}};
    i.bytes.assign(reinterpret_cast<const std::byte*>(v.data()), reinterpret_cast<const std::byte*>(v.data()) + v.size());
    return i;
}
[[nodiscard]] inline item byte_string(std::uint32_t t, std::span<const std::byte> v) {
    return {t, item_type::byte_string, 0, {v.begin(), v.end()}, {}};
}
/// A Big Integer from its big-endian two's-complement bytes (a multiple of 8 bytes long).
[[nodiscard]] inline item big_integer(std::uint32_t t, std::span<const std::byte> v) {
    return {t, item_type::big_integer, 0, {v.begin(), v.end()}, {}};
}

/// The deepest nesting the decoder accepts: KMIP 1.x messages nest at most 7 deep.
inline constexpr std::size_t max_depth = 16;
/// The largest message read or written: the answers this client asks for are far smaller.
inline constexpr std::size_t max_message_size = 1 << 20;

namespace detail {

inline void put_be(std::vector<std::byte>& out, std::uint64_t v, std::size_t n) {
    for (std::size_t i = n; i-- > 0;) out.push_back(static_cast<std::byte>((v >> (8 * i)) & 0xff));
}
[[nodiscard]] inline std::uint64_t get_be(std::span<const std::byte> in, std::size_t n) noexcept {
    std::uint64_t v = 0;
    for (std::size_t i = 0; i < n; ++i) v = v << 8 | static_cast<std::uint8_t>(in[i]);
    return v;
}
[[nodiscard]] constexpr std::size_t padded(std::size_t n) noexcept { return (n + 7) / 8 * 8; }

inline void encode_into(std::vector<std::byte>& out, const item& i) {
    if ((i.tag >> 24) != 0) throw error(errc::invalid_argument, "KMIP tag " + std::to_string(i.tag) + " is wider than 3 bytes");
    put_be(out, i.tag, 3);
    out.push_back(static_cast<std::byte>(i.type));
    switch (i.type) {
        case item_type::structure: {
            const std::size_t at = out.size();
            put_be(out, 0, 4);
            for (const auto& c : i.children) encode_into(out, c);
            const std::size_t n = out.size() - at - 4;
            for (std::size_t k = 0; k < 4; ++k) out[at + k] = static_cast<std::byte>((n >> (8 * (3 - k))) & 0xff);
            return;
        }
        case item_type::integer:
        case item_type::enumeration:
        case item_type::interval:
            put_be(out, 4, 4);
            put_be(out, static_cast<std::uint32_t>(i.number), 4);
            put_be(out, 0, 4);
            return;
        case item_type::long_integer:
        case item_type::boolean:
        case item_type::date_time:
            put_be(out, 8, 4);
            put_be(out, static_cast<std::uint64_t>(i.number), 8);
            return;
        case item_type::big_integer:
            if (i.bytes.empty() || i.bytes.size() % 8 != 0) {
                throw error(errc::invalid_argument, "a KMIP Big Integer is a non-empty multiple of 8 bytes");
            }
            [[fallthrough]];
        case item_type::text_string:
        case item_type::byte_string:
            if (i.bytes.size() > max_message_size) throw error(errc::invalid_argument, "KMIP string over 1 MiB");
            put_be(out, i.bytes.size(), 4);
            out.insert(out.end(), i.bytes.begin(), i.bytes.end());
            out.resize(out.size() + padded(i.bytes.size()) - i.bytes.size(), std::byte{0});
            return;
    }
    throw error(errc::invalid_argument, "unknown KMIP item type " + std::to_string(static_cast<unsigned>(i.type)));
}

class decoder final {
public:
    explicit decoder(std::span<const std::byte> in) : m_in(in) {}

    [[nodiscard]] item read(std::size_t end, std::size_t depth) {
        if (depth > max_depth) throw fail("structures nested deeper than " + std::to_string(max_depth));
        if (end - m_pos < 8) throw fail("truncated item header (" + std::to_string(end - m_pos) + " bytes left, 8 needed)");
        item i;
        i.tag = static_cast<std::uint32_t>(get_be(m_in.subspan(m_pos), 3));
        const auto type = static_cast<std::uint8_t>(m_in[m_pos + 3]);
        const std::size_t len = static_cast<std::size_t>(get_be(m_in.subspan(m_pos + 4), 4));
        if ((i.tag >> 16) != 0x42) throw fail("tag " + hex(i.tag) + " is not a KMIP tag (0x42xxxx)");
        if (type < 1 || type > 0x0A) throw fail("unknown item type " + std::to_string(type) + " for tag " + hex(i.tag));
        i.type = static_cast<item_type>(type);
        const std::size_t at = m_pos;
        m_pos += 8;
        const std::size_t room = end - m_pos;
        auto exact = [&](std::size_t n) {
            if (len != n) {
                throw fail(std::string(to_string(i.type)) + " " + hex(i.tag) + " has length " + std::to_string(len) +
                           ", not " + std::to_string(n), at);
            }
        };
        auto need = [&](std::size_t n) {
            if (n > room) {
                throw fail(std::string(to_string(i.type)) + " " + hex(i.tag) + " needs " + std::to_string(n) +
                           " bytes but " + std::to_string(room) + " remain", at);
            }
        };
        switch (i.type) {
            case item_type::structure: {
                need(len);
                if (len % 8 != 0) throw fail("Structure " + hex(i.tag) + " length " + std::to_string(len) + " is not a multiple of 8", at);
                const std::size_t stop = m_pos + len;
                while (m_pos < stop) i.children.push_back(read(stop, depth + 1));
                return i;
            }
            case item_type::integer:
            case item_type::enumeration:
            case item_type::interval:
                exact(4);
                need(8);
                i.number = i.type == item_type::integer
                               ? static_cast<std::int32_t>(static_cast<std::uint32_t>(get_be(m_in.subspan(m_pos), 4)))
                               : static_cast<std::int64_t>(get_be(m_in.subspan(m_pos), 4));
                m_pos += 8;
                return i;
            case item_type::long_integer:
            case item_type::boolean:
            case item_type::date_time:
                exact(8);
                need(8);
                i.number = static_cast<std::int64_t>(get_be(m_in.subspan(m_pos), 8));
                if (i.type == item_type::boolean && i.number != 0 && i.number != 1) {
                    throw fail("Boolean " + hex(i.tag) + " holds " + std::to_string(i.number) + ", not 0 or 1", at);
                }
                m_pos += 8;
                return i;
            case item_type::big_integer:
                if (len == 0 || len % 8 != 0) throw fail("Big Integer " + hex(i.tag) + " length " + std::to_string(len) + " is not a positive multiple of 8", at);
                [[fallthrough]];
            case item_type::text_string:
            case item_type::byte_string: {
                need(len);  // checked before anything is allocated
                need(padded(len));  // the zero padding is there too
                i.bytes.assign(m_in.begin() + static_cast<std::ptrdiff_t>(m_pos),
                               m_in.begin() + static_cast<std::ptrdiff_t>(m_pos + len));
                m_pos += padded(len);
                return i;
            }
        }
        throw fail("unreachable");
    }

    [[nodiscard]] std::size_t position() const noexcept { return m_pos; }

    [[nodiscard]] error fail(const std::string& why, std::optional<std::size_t> at = std::nullopt) const {
        return error(errc::kms, "malformed KMIP message: " + why + " at byte " + std::to_string(at.value_or(m_pos)));
    }

    [[nodiscard]] static std::string hex(std::uint32_t v) {
        static constexpr char digits[] = "0123456789ABCDEF";
        std::string s = "0x";
        for (int shift = 20; shift >= 0; shift -= 4) s += digits[(v >> shift) & 0xf];
        return s;
    }

private:
    std::span<const std::byte> m_in;
    std::size_t m_pos = 0;
};

}  // namespace detail

/// The TTLV bytes of `i`.
[[nodiscard]] inline std::vector<std::byte> encode(const item& i) {
    std::vector<std::byte> out;
    detail::encode_into(out, i);
    return out;
}

/// Exactly one item filling all of `in`; anything else is `errc::kms` naming what and where.
[[nodiscard]] inline item decode(std::span<const std::byte> in) {
    if (in.size() > max_message_size) throw error(errc::kms, "KMIP message of " + std::to_string(in.size()) + " bytes is over 1 MiB");
    detail::decoder d(in);
    item i = d.read(in.size(), 0);
    if (d.position() != in.size()) {
        throw d.fail(std::to_string(in.size() - d.position()) + " bytes after the message");
    }
    return i;
}

/// The total length of the message whose first 8 bytes are `header` (what a reader must receive),
/// checked against `max_message_size` before anything is allocated.
[[nodiscard]] inline std::size_t message_length(std::span<const std::byte, 8> header) {
    const auto t = static_cast<std::uint32_t>(detail::get_be(header, 3));
    if (t != tag::response_message && t != tag::request_message) {
        throw error(errc::kms, "malformed KMIP message: starts with tag " + detail::decoder::hex(t) +
                                   ", not a Request or Response Message");
    }
    if (static_cast<std::uint8_t>(header[3]) != static_cast<std::uint8_t>(item_type::structure)) {
        throw error(errc::kms, "malformed KMIP message: the message is not a Structure");
    }
    const auto len = static_cast<std::size_t>(detail::get_be(header.subspan<4, 4>(), 4));
    if (len > max_message_size - 8) {
        throw error(errc::kms, "KMIP message claims " + std::to_string(len) + " bytes; the limit is 1 MiB");
    }
    return len + 8;
}

}  // namespace atrest::kmip
