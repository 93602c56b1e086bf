#pragma once
/// The file dictionary's on-disk format (docs/format.md has it byte by byte). One format serves
/// both modes: version 2 ("log") is a header, a snapshot record and appended records; version 1
/// ("snapshot-only", the downgrade format) is a header and exactly one snapshot record. Every
/// record is framed by its length and a CRC32C over the whole record (length included, unlike
/// TiKV), and carries a 16-byte HMAC-SHA256 chained over all earlier records, keyed by a secret
/// kept inside the sealed key dictionary: a changed, swapped, reordered or foreign entry fails
/// authentication instead of being used.

#include <atrest/cipher/method.hpp>
#include <atrest/detail/botan_compat.hpp>
#include <atrest/detail/crc32c.hpp>
#include <atrest/detail/endian.hpp>
#include <atrest/error.hpp>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <map>
#include <vector>

namespace atrest {

/// What the dictionary records for one file. The data key itself lives in the key dictionary.
struct file_entry {
    std::uint64_t key_id = 0;
    atrest::method method = method::plaintext;
    std::array<std::byte, 16> iv{};
    friend bool operator==(const file_entry&, const file_entry&) = default;
};

namespace detail::file_dict {

/// Ordered, so deleting a directory is a prefix range (O(log n)), snapshots are written in a
/// stable order, and `std::less<>` lets `get_file(std::string_view)` look up without allocating.
using entry_map = std::map<std::string, file_entry, std::less<>>;

inline constexpr std::array<char, 8> magic = {'a', 't', 'r', 'e', 's', 't', 'F', 'D'};
inline constexpr std::uint8_t version_snapshot = 1;  ///< header + one snapshot record, rewritten on change
inline constexpr std::uint8_t version_log = 2;       ///< header + snapshot + appended records
inline constexpr std::size_t header_size = 16;
inline constexpr std::size_t frame_size = 8;  ///< u32 body length + u32 CRC32C
inline constexpr std::size_t mac_size = 16;
inline constexpr std::size_t hmac_key_size = 32;
inline constexpr std::size_t max_body = std::size_t{1} << 31;

enum class record_type : std::uint8_t { put = 1, remove = 2, remove_tree = 3, snapshot = 4 };

/// HMAC-SHA256 truncated to 16 bytes, each value covering the previous one, so records cannot be
/// dropped from the middle, reordered or moved between dictionaries undetected.
class mac_chain final {
public:
    mac_chain(std::span<const std::byte> key, std::span<const std::byte> header)
        : m_mac(botan_compat::make_mac("HMAC(SHA-256)")) {
        m_mac->set_key(reinterpret_cast<const std::uint8_t*>(key.data()), key.size());
        m_mac->update(reinterpret_cast<const std::uint8_t*>(header.data()), header.size());
        finish_into(m_last);
    }

    /// MAC of a record from its length field and its body without the MAC; advances the chain.
    std::array<std::byte, mac_size> next(std::span<const std::byte> length_field, std::span<const std::byte> body) {
        m_mac->update(reinterpret_cast<const std::uint8_t*>(m_last.data()), m_last.size());
        m_mac->update(reinterpret_cast<const std::uint8_t*>(length_field.data()), length_field.size());
        m_mac->update(reinterpret_cast<const std::uint8_t*>(body.data()), body.size());
        finish_into(m_last);
        return m_last;
    }

    [[nodiscard]] const std::array<std::byte, mac_size>& last() const noexcept { return m_last; }
    void reset_to(const std::array<std::byte, mac_size>& last) noexcept { m_last = last; }

private:
    void finish_into(std::array<std::byte, mac_size>& out) {
        std::array<std::uint8_t, 32> full{};
        m_mac->final(full.data());
        std::memcpy(out.data(), full.data(), mac_size);
    }

    std::unique_ptr<Botan::MessageAuthenticationCode> m_mac;
    std::array<std::byte, mac_size> m_last{};
};

// ---- encoding

inline void put_u32(std::vector<std::byte>& out, std::uint32_t v) {
    const auto at = out.size();
    out.resize(at + 4);
    store_le(out.data() + at, v);
}
inline void put_u64(std::vector<std::byte>& out, std::uint64_t v) {
    const auto at = out.size();
    out.resize(at + 8);
    store_le(out.data() + at, v);
}
inline void put_path(std::vector<std::byte>& out, std::string_view path) {
    if (path.size() > 0xffff'ffffu) throw error(errc::invalid_argument, "path longer than 4 GiB");
    put_u32(out, static_cast<std::uint32_t>(path.size()));
    const auto* p = reinterpret_cast<const std::byte*>(path.data());
    out.insert(out.end(), p, p + path.size());
}
inline void put_entry(std::vector<std::byte>& out, std::string_view path, const file_entry& e) {
    put_path(out, path);
    put_u64(out, e.key_id);
    out.push_back(static_cast<std::byte>(e.method));
    out.insert(out.end(), e.iv.begin(), e.iv.end());
}

[[nodiscard]] inline std::array<std::byte, header_size> make_header(std::uint8_t version) {
    std::array<std::byte, header_size> h{};
    std::memcpy(h.data(), magic.data(), magic.size());
    h[8] = static_cast<std::byte>(version);
    store_le(h.data() + 12, crc32c(std::span(h).first(12)));
    return h;
}

/// Starts a record in `out`: reserves the frame and writes the type. Pair with `finish_record`.
[[nodiscard]] inline std::size_t begin_record(std::vector<std::byte>& out, record_type type) {
    const std::size_t start = out.size();
    out.resize(start + frame_size);
    out.push_back(static_cast<std::byte>(type));
    return start;
}

/// Fills in the length, appends the chained MAC, then the CRC32C over length field and body.
inline void finish_record(std::vector<std::byte>& out, std::size_t start, mac_chain& chain) {
    const std::size_t body_size = out.size() - start - frame_size + mac_size;
    if (body_size > max_body) throw error(errc::invalid_argument, "file dictionary record larger than 2 GiB");
    store_le(out.data() + start, static_cast<std::uint32_t>(body_size));
    const auto mac = chain.next(std::span(out).subspan(start, 4), std::span(out).subspan(start + frame_size));
    out.insert(out.end(), mac.begin(), mac.end());
    const auto crc = crc32c_extend(crc32c(std::span(out).subspan(start, 4)), std::span(out).subspan(start + frame_size));
    store_le(out.data() + start + 4, crc);
}

inline void encode_put(std::vector<std::byte>& out, std::string_view path, const file_entry& e, mac_chain& chain) {
    const auto start = begin_record(out, record_type::put);
    put_entry(out, path, e);
    finish_record(out, start, chain);
}

/// `remove_tree` drops `path` and every entry under `path/` (a deleted directory).
inline void encode_remove(std::vector<std::byte>& out, record_type type, std::string_view path, mac_chain& chain) {
    const auto start = begin_record(out, type);
    put_path(out, path);
    finish_record(out, start, chain);
}

/// A whole file: header and one snapshot record (entries sorted, so equal maps give equal bytes).
[[nodiscard]] inline std::vector<std::byte> encode_file(std::uint8_t version, const entry_map& entries,
                                                        std::span<const std::byte> hmac_key, mac_chain* chain_out = nullptr) {
    const auto header = make_header(version);
    mac_chain chain(hmac_key, header);
    std::vector<std::byte> out(header.begin(), header.end());
    const auto start = begin_record(out, record_type::snapshot);
    put_u32(out, static_cast<std::uint32_t>(entries.size()));
    for (const auto& [path, entry] : entries) put_entry(out, path, entry);
    finish_record(out, start, chain);
    if (chain_out != nullptr) chain_out->reset_to(chain.last());
    return out;
}

/// Drops `dir` itself and every entry under `dir/`: a contiguous range of the ordered map.
inline void erase_tree(entry_map& map, std::string_view dir) {
    if (const auto it = map.find(dir); it != map.end()) map.erase(it);
    std::string prefix(dir);
    prefix += '/';
    auto it = map.lower_bound(prefix);
    while (it != map.end() && it->first.starts_with(prefix)) it = map.erase(it);
}

/// Whether `dir` or anything under `dir/` has an entry.
[[nodiscard]] inline bool has_tree(const entry_map& map, std::string_view dir) {
    if (map.contains(dir)) return true;
    std::string prefix(dir);
    prefix += '/';
    const auto it = map.lower_bound(prefix);
    return it != map.end() && it->first.starts_with(prefix);
}

// ---- decoding

/// What a file dictionary holds, and how much of the file is intact.
struct parse_result {
    std::uint8_t version = 0;
    entry_map entries;
    std::uint64_t valid_length = 0;     ///< bytes up to the end of the last intact record
    bool torn_tail = false;             ///< bytes after `valid_length` were an incomplete last record
    std::uint64_t removals = 0;         ///< remove records since the snapshot
    std::uint64_t appended_records = 0; ///< records after the snapshot
    std::array<std::byte, mac_size> last_mac{};
};

/// Reads fields from one record body; every overrun is `errc::corrupt` naming file and offset.
class body_reader final {
public:
    body_reader(std::span<const std::byte> body, std::uint64_t file_offset, const std::string& where)
        : m_body(body), m_offset(file_offset), m_where(where) {}

    std::span<const std::byte> take(std::size_t n) {
        if (n > m_body.size() - m_pos) fail("field runs past the end of the record");
        auto s = m_body.subspan(m_pos, n);
        m_pos += n;
        return s;
    }
    std::uint8_t u8() { return static_cast<std::uint8_t>(take(1)[0]); }
    std::uint32_t u32() { return load_le<std::uint32_t>(take(4).data()); }
    std::uint64_t u64() { return load_le<std::uint64_t>(take(8).data()); }
    std::string path() {
        const auto n = u32();
        const auto bytes = take(n);
        return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
    }
    file_entry entry() {
        file_entry e;
        e.key_id = u64();
        e.method = method_from_byte(u8(), m_where + " at offset " + std::to_string(m_offset));
        const auto iv = take(16);
        std::copy(iv.begin(), iv.end(), e.iv.begin());
        return e;
    }
    void expect_end() {
        if (m_pos != m_body.size()) fail("record has " + std::to_string(m_body.size() - m_pos) + " unexpected trailing bytes");
    }
    [[noreturn]] void fail(const std::string& why) const {
        throw error(errc::corrupt, m_where + ": record at offset " + std::to_string(m_offset) + ": " + why);
    }

private:
    std::span<const std::byte> m_body;
    std::size_t m_pos = 0;
    std::uint64_t m_offset;
    const std::string& m_where;
};

/// Parses a whole file dictionary. With `hmac_key` empty only the structure is checked (used to
/// tell an interrupted first start from a dictionary whose key dictionary is gone).
[[nodiscard]] inline parse_result parse_file(std::span<const std::byte> file, std::span<const std::byte> hmac_key,
                                             const std::string& where) {
    if (file.size() < header_size) {
        throw error(errc::corrupt, where + ": " + std::to_string(file.size()) + " bytes is shorter than the " +
                                       std::to_string(header_size) + "-byte header");
    }
    if (!std::equal(magic.begin(), magic.end(), reinterpret_cast<const char*>(file.data()))) {
        throw error(errc::corrupt, where + ": not an atrest file dictionary (bad magic at offset 0)");
    }
    if (load_le<std::uint32_t>(file.data() + 12) != crc32c(file.first(12))) {
        throw error(errc::corrupt, where + ": header checksum mismatch at offset 12");
    }
    parse_result r;
    r.version = static_cast<std::uint8_t>(file[8]);
    if (r.version != version_snapshot && r.version != version_log) {
        throw error(errc::unknown_version, "unknown version " + std::to_string(r.version) + " in " + where);
    }
    std::unique_ptr<mac_chain> chain;
    if (!hmac_key.empty()) chain = std::make_unique<mac_chain>(hmac_key, file.first(header_size));

    std::uint64_t off = header_size;
    bool first = true;
    while (off < file.size()) {
        const std::uint64_t left = file.size() - off;
        const auto tail_is_zero = [&] {
            return std::all_of(file.begin() + static_cast<std::ptrdiff_t>(off), file.end(),
                               [](std::byte b) { return b == std::byte{0}; });
        };
        // An incomplete or garbled record that reaches the end of the file is a torn append
        // (crash or full disk mid-write): it was never acknowledged, so it is dropped. The
        // snapshot record is written by atomic replace and is never torn.
        bool bad = left < frame_size;
        std::uint32_t body_size = 0;
        if (!bad) {
            body_size = load_le<std::uint32_t>(file.data() + off);
            bad = body_size < 1 + mac_size || body_size > left - frame_size;
        }
        if (!bad) {
            const auto crc = crc32c_extend(crc32c(file.subspan(off, 4)), file.subspan(off + frame_size, body_size));
            bad = crc != load_le<std::uint32_t>(file.data() + off + 4);
        }
        if (bad) {
            const bool reaches_end = left < frame_size || body_size > left - frame_size ||
                                     off + frame_size + body_size == file.size() || tail_is_zero();
            if (first || !reaches_end) {
                throw error(errc::corrupt, where + ": record at offset " + std::to_string(off) +
                                               " is damaged (length or CRC32C mismatch)");
            }
            r.torn_tail = true;
            break;
        }
        const auto body = file.subspan(off + frame_size, body_size);
        if (chain) {
            const auto mac = chain->next(file.subspan(off, 4), body.first(body_size - mac_size));
            if (!std::equal(mac.begin(), mac.end(), body.end() - mac_size)) {
                throw error(errc::tampered, where + ": record at offset " + std::to_string(off) +
                                                " fails authentication (changed, reordered, or not written under "
                                                "this key dictionary)");
            }
        }
        body_reader in(body.first(body_size - mac_size), off, where);
        const auto type = static_cast<record_type>(in.u8());
        if (first != (type == record_type::snapshot)) {
            in.fail(first ? "the first record must be a snapshot" : "a second snapshot record");
        }
        switch (type) {
            case record_type::snapshot: {
                const auto count = in.u32();
                for (std::uint32_t i = 0; i < count; ++i) {
                    auto path = in.path();
                    r.entries.insert_or_assign(std::move(path), in.entry());
                }
                break;
            }
            case record_type::put: {
                auto path = in.path();
                r.entries.insert_or_assign(std::move(path), in.entry());
                break;
            }
            case record_type::remove: {
                const auto path = in.path();
                r.entries.erase(path);
                ++r.removals;
                break;
            }
            case record_type::remove_tree: {
                erase_tree(r.entries, in.path());
                ++r.removals;
                break;
            }
            default: in.fail("unknown record type " + std::to_string(static_cast<int>(type)));
        }
        in.expect_end();
        if (!first) ++r.appended_records;
        if (!first && r.version == version_snapshot) in.fail("a snapshot-only (version 1) dictionary has appended records");
        first = false;
        off += frame_size + body_size;
        r.valid_length = off;
        if (chain) r.last_mac = chain->last();
    }
    if (first) throw error(errc::corrupt, where + ": no snapshot record after the header (offset 16)");
    return r;
}

}  // namespace detail::file_dict
}  // namespace atrest
