#pragma once
/// The file dictionary's on-disk format (docs/format.md has it byte by byte). One format serves
/// both modes: version 2 ("log") is a header, a snapshot record and appended records; version 1
/// ("snapshot-only", the downgrade format) is a header and exactly one snapshot record. Every
/// record is framed by its length and a CRC32C over the whole record (length included, unlike
/// TiKV), and carries a 16-byte HMAC-SHA256 chained over all earlier records, keyed by a secret
/// kept inside the sealed key dictionary: a changed, swapped, reordered or foreign entry fails
/// authentication instead of being used.

#include <atrest/cipher/methods.hpp>
#include <atrest/detail/botan_compat.hpp>
#include <atrest/detail/crc32c.hpp>
#include <atrest/detail/endian.hpp>
#include <atrest/detail/posix.hpp>
#include <atrest/error.hpp>

#include <gsl/narrow>
#include <gsl/util>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <iterator>
#include <memory>
#include <optional>
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

/// A rename whose outcome is not recorded yet: its file may or may not have been renamed. `src`
/// and `dst` keep their entries meanwhile; whoever opens the dictionary next decides from the
/// file system (is the file with `identity` at `src` or at `dst`?) and records the outcome.
struct pending_rename {
    std::string src;
    std::string dst;
    std::optional<posix::file_identity> identity;  ///< src's (device, inode) when the rename began
    friend bool operator==(const pending_rename&, const pending_rename&) = default;
};
using pending_list = std::vector<pending_rename>;

inline constexpr std::array<char, 8> magic = {'a', 't', 'r', 'e', 's', 't', 'F', 'D'};
inline constexpr std::uint8_t version_snapshot = 1;  ///< header + one snapshot record, rewritten on change
inline constexpr std::uint8_t version_log = 2;       ///< header + snapshot + appended records
inline constexpr std::size_t header_size = 16;
inline constexpr std::size_t frame_size = 8;  ///< u32 body length + u32 CRC32C
inline constexpr std::size_t mac_size = 16;
inline constexpr std::size_t hmac_key_size = 32;
inline constexpr std::size_t max_body = std::size_t{1} << 31;

enum class record_type : std::uint8_t {
    put = 1,
    remove = 2,
    remove_tree = 3,
    snapshot = 4,
    rename_begin = 5,   ///< a rename of src to dst is about to happen (entries unchanged)
    rename_commit = 6,  ///< it happened: dst takes src's entry (or none), src's entry goes
    rename_abort = 7,   ///< it did not happen: entries stay as they were
};

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
    [[nodiscard]] static std::array<std::byte, mac_size> start(std::span<const std::byte> key,
                                                               std::span<const std::byte> header) {
        return mac_chain(key, header).last();
    }
    void reset_to(const std::array<std::byte, mac_size>& last) noexcept { m_last = last; }

private:
    void finish_into(std::array<std::byte, mac_size>& out) {
        std::array<std::uint8_t, 32> full{};
        m_mac->final(full.data());
        std::memcpy(out.data(), full.data(), mac_size);
    }

    botan_compat::owned<Botan::MessageAuthenticationCode> m_mac;
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
    put_u32(out, gsl::narrow_cast<std::uint32_t>(path.size()));
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
    store_le(out.data() + start, gsl::narrow_cast<std::uint32_t>(body_size));
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

inline void put_identity(std::vector<std::byte>& out, const std::optional<posix::file_identity>& id) {
    out.push_back(static_cast<std::byte>(id ? 1 : 0));
    if (id) {
        put_u64(out, id->device);
        put_u64(out, id->inode);
    }
}

inline void put_pending(std::vector<std::byte>& out, const pending_rename& p) {
    put_path(out, p.src);
    put_path(out, p.dst);
    put_identity(out, p.identity);
}

/// rename_begin carries src, dst and src's identity; commit and abort carry src and dst.
inline void encode_rename(std::vector<std::byte>& out, record_type type, const pending_rename& p, mac_chain& chain) {
    const auto start = begin_record(out, type);
    put_path(out, p.src);
    put_path(out, p.dst);
    if (type == record_type::rename_begin) put_identity(out, p.identity);
    finish_record(out, start, chain);
}

/// A whole file: header and one snapshot record (entries sorted, so equal maps give equal bytes;
/// the pending-rename list only when it is not empty, so such files read as before). Returns the
/// bytes and the chain's last MAC, from which appends continue once the file is in place.
struct encoded_file {
    std::vector<std::byte> bytes;
    std::array<std::byte, mac_size> last_mac{};
};

[[nodiscard]] inline encoded_file encode_file(std::uint8_t version, const entry_map& entries, const pending_list& pending,
                                              std::span<const std::byte> hmac_key) {
    const auto header = make_header(version);
    mac_chain chain(hmac_key, header);
    encoded_file out{{header.begin(), header.end()}, {}};
    const auto start = begin_record(out.bytes, record_type::snapshot);
    put_u32(out.bytes, gsl::narrow<std::uint32_t>(entries.size()));
    for (const auto& [path, entry] : entries) put_entry(out.bytes, path, entry);
    if (!pending.empty()) {
        put_u32(out.bytes, gsl::narrow<std::uint32_t>(pending.size()));
        for (const auto& p : pending) put_pending(out.bytes, p);
    }
    finish_record(out.bytes, start, chain);
    out.last_mac = chain.last();
    return out;
}

// ---- tree operations. "." names the data directory itself (every relative name is under it)
// and "/" the root (every absolute name); any other `dir` covers `dir` and `dir/...`.

template <class Map, class F>
void for_tree(Map& map, std::string_view dir, F&& on_range) {
    if (dir == ".") {
        // Relative names sort apart from absolute ones only by their first byte: take both sides of "/".
        on_range(map.begin(), map.lower_bound("/"));
        on_range(map.lower_bound("0"), map.end());  // '0' is the byte after '/'
        return;
    }
    if (dir == "/") {
        on_range(map.lower_bound("/"), map.lower_bound("0"));
        return;
    }
    if (const auto it = map.find(dir); it != map.end()) on_range(it, std::next(it));
    std::string prefix(dir);
    prefix += '/';
    std::string end(dir);
    end += '0';
    on_range(map.lower_bound(prefix), map.lower_bound(end));
}

/// Drops `dir` itself and every entry under it: contiguous ranges of the ordered map.
inline void erase_tree(entry_map& map, std::string_view dir) {
    for_tree(map, dir, [&](auto first, auto last) { map.erase(first, last); });
}

/// Whether `dir` or anything under it has an entry.
[[nodiscard]] inline bool has_tree(const entry_map& map, std::string_view dir) {
    bool found = false;
    for_tree(map, dir, [&](auto first, auto last) { found = found || first != last; });
    return found;
}

/// Applies one change to the map and the pending list (replay and the live dictionary share it,
/// so the two can never disagree). Returns whether it counts as a removal for compaction.
inline bool apply_change(entry_map& map, pending_list& pending, record_type type, std::string_view path,
                         const file_entry* entry, const pending_rename* rename) {
    const auto drop_pending = [&](const pending_rename& r) {
        std::erase_if(pending, [&](const pending_rename& p) { return p.src == r.src && p.dst == r.dst; });
    };
    switch (type) {
        case record_type::put: map.insert_or_assign(std::string(path), *entry); return false;
        case record_type::remove: map.erase(std::string(path)); return true;
        case record_type::remove_tree: erase_tree(map, path); return true;
        case record_type::rename_begin:
            drop_pending(*rename);
            pending.push_back(*rename);
            return false;
        case record_type::rename_commit: {
            drop_pending(*rename);
            if (rename->src == rename->dst) return false;
            const auto it = map.find(rename->src);
            if (it == map.end()) {
                map.erase(rename->dst);  // a file without an entry (plaintext) replaced dst
            } else {
                map.insert_or_assign(rename->dst, it->second);
                map.erase(rename->src);
            }
            return true;
        }
        case record_type::rename_abort: drop_pending(*rename); return false;
        case record_type::snapshot: break;
    }
    return false;
}

// ---- decoding

/// What a file dictionary holds, and how much of the file is intact.
struct parse_result {
    std::uint8_t version = 0;
    entry_map entries;
    pending_list pending;               ///< renames begun and not recorded as finished
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
    std::optional<posix::file_identity> identity() {
        switch (u8()) {
            case 0: return std::nullopt;
            case 1: {
                posix::file_identity id;
                id.device = u64();
                id.inode = u64();
                return id;
            }
            default: fail("identity flag is neither 0 nor 1");
        }
    }
    pending_rename rename(bool with_identity) {
        pending_rename r;
        r.src = path();
        r.dst = path();
        if (with_identity) r.identity = identity();
        return r;
    }
    [[nodiscard]] bool at_end() const noexcept { return m_pos == m_body.size(); }
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

/// Whether the frame at `off` is not a whole record with a matching CRC32C.
[[nodiscard]] inline bool damaged_frame(std::span<const std::byte> file, std::uint64_t off) {
    const std::uint64_t left = file.size() - off;
    if (left < frame_size) return true;
    const std::uint32_t body_size = load_le<std::uint32_t>(file.data() + off);
    if (body_size < 1 + mac_size || body_size > left - frame_size) return true;
    const auto crc = crc32c_extend(crc32c(file.subspan(off, 4)), file.subspan(off + frame_size, body_size));
    return crc != load_le<std::uint32_t>(file.data() + off + 4);
}

/// The first offset at or after `from` where an intact record frame starts, if any. A random
/// position passes the length check and the CRC32C together with probability about 2^-32.
[[nodiscard]] inline std::optional<std::uint64_t> next_intact_frame(std::span<const std::byte> file, std::uint64_t from) {
    for (std::uint64_t at = from; at + frame_size + 1 + mac_size <= file.size(); ++at) {
        if (!damaged_frame(file, at)) return at;
    }
    return std::nullopt;
}

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
        const auto bad_at = [&](std::uint64_t at) { return damaged_frame(file, at); };
        if (bad_at(off)) {
            // A damaged record is a torn append (a crash or a full disk mid-write; never
            // acknowledged, so it is dropped) only when nothing intact follows it: a torn write
            // is the last thing in the file. An intact record after it means a byte was changed
            // in the middle of the file, and dropping the rest would lose acknowledged entries.
            if (first) {
                throw error(errc::corrupt, where + ": the snapshot record at offset " + std::to_string(off) +
                                               " is damaged (length or CRC32C mismatch)");
            }
            if (const auto later = next_intact_frame(file, off + 1)) {
                throw error(errc::corrupt, where + ": record at offset " + std::to_string(off) +
                                               " is damaged (length or CRC32C mismatch) and an intact record follows "
                                               "at offset " + std::to_string(*later) +
                                               ", so this is not a torn final write; restore the file from a backup");
            }
            r.torn_tail = true;
            break;
        }
        const std::uint32_t body_size = load_le<std::uint32_t>(file.data() + off);
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
                if (!in.at_end()) {
                    const auto pending = in.u32();
                    for (std::uint32_t i = 0; i < pending; ++i) r.pending.push_back(in.rename(true));
                }
                break;
            }
            case record_type::put: {
                auto path = in.path();
                const auto entry = in.entry();
                apply_change(r.entries, r.pending, type, path, &entry, nullptr);
                break;
            }
            case record_type::remove:
            case record_type::remove_tree: {
                const auto path = in.path();
                if (apply_change(r.entries, r.pending, type, path, nullptr, nullptr)) ++r.removals;
                break;
            }
            case record_type::rename_begin:
            case record_type::rename_commit:
            case record_type::rename_abort: {
                const auto rename = in.rename(type == record_type::rename_begin);
                if (apply_change(r.entries, r.pending, type, rename.src, nullptr, &rename)) ++r.removals;
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
