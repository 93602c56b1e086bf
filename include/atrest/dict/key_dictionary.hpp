#pragma once
/// The key dictionary (`key.dict`): every data key, the current key id and the file
/// dictionary's MAC key, sealed as a whole by the master-key source. The file framing carries a
/// CRC32C outside the seal so a damaged file (errc::corrupt) is told apart from a wrong master
/// key (errc::wrong_key), and the header is the seal's associated data so format version and
/// purpose cannot be swapped. docs/format.md has every byte.

#include <atrest/cipher/methods.hpp>
#include <atrest/detail/crc32c.hpp>
#include <atrest/detail/endian.hpp>
#include <atrest/error.hpp>

#include <gsl/narrow>
#include <gsl/util>
#include <atrest/secret_bytes.hpp>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace atrest {

/// One data key. Keys are immutable once made; they are shared, never copied, between the
/// dictionary and the files that use them.
struct data_key {
    std::uint64_t id = 0;
    atrest::method method = method::plaintext;
    std::int64_t creation_time = 0;  ///< Unix seconds.
    bool was_exposed = false;        ///< Ever stored under a plaintext master key.
    std::shared_ptr<const secret_bytes> key;
};

/// An immutable snapshot of the key dictionary; replaced as a whole (copy on write), so readers
/// hold a consistent {current id, key} pair without locks while a rotation is written.
struct key_state {
    std::uint64_t current_key_id = 0;  ///< 0: no data key yet.
    std::shared_ptr<const secret_bytes> file_dictionary_mac_key;
    std::map<std::uint64_t, data_key> keys;
    std::vector<std::uint64_t> retired_ids;  ///< Collected keys' ids, never handed out again.

    [[nodiscard]] const data_key* current() const noexcept {
        const auto it = keys.find(current_key_id);
        return it == keys.end() ? nullptr : &it->second;
    }
    [[nodiscard]] bool id_ever_used(std::uint64_t id) const {
        return keys.contains(id) || std::find(retired_ids.begin(), retired_ids.end(), id) != retired_ids.end();
    }
};

namespace detail::key_dict {

inline constexpr std::array<char, 8> magic = {'a', 't', 'r', 'e', 's', 't', 'K', 'D'};
inline constexpr std::uint8_t version = 1;
inline constexpr std::uint8_t contents_version = 1;
inline constexpr std::size_t header_size = 16;
inline constexpr std::size_t mac_key_size = 32;
inline constexpr std::string_view purpose = "atrest key dictionary";

/// Associated data for the master-key seal: magic, version, reserved bytes and the purpose.
[[nodiscard]] inline std::vector<std::byte> associated_data(std::span<const std::byte> header) {
    std::vector<std::byte> aad(header.begin(), header.begin() + 12);
    const auto* p = reinterpret_cast<const std::byte*>(purpose.data());
    aad.insert(aad.end(), p, p + purpose.size());
    return aad;
}

[[nodiscard]] inline std::array<std::byte, header_size> make_header(std::size_t sealed_size) {
    std::array<std::byte, header_size> h{};
    std::memcpy(h.data(), magic.data(), magic.size());
    h[8] = static_cast<std::byte>(version);
    if (sealed_size > 0xffff'ffffu) throw error(errc::invalid_argument, "key dictionary larger than 4 GiB");
    store_le(h.data() + 12, gsl::narrow_cast<std::uint32_t>(sealed_size));
    return h;
}

/// The plaintext that gets sealed. It holds keys, so it lives in secret memory.
[[nodiscard]] inline secret_bytes serialize(const key_state& s) {
    std::size_t size = 1 + 8 + mac_key_size + 4 + 4 + 8 * s.retired_ids.size();
    for (const auto& [id, k] : s.keys) size += 8 + 1 + 1 + 8 + 1 + k.key->size();
    secret_bytes out(size);
    auto* p = out.mutable_bytes().data();
    *p++ = static_cast<std::byte>(contents_version);
    store_le(p, s.current_key_id), p += 8;
    std::memcpy(p, s.file_dictionary_mac_key->data(), mac_key_size), p += mac_key_size;
    store_le(p, gsl::narrow<std::uint32_t>(s.keys.size())), p += 4;
    for (const auto& [id, k] : s.keys) {
        store_le(p, id), p += 8;
        *p++ = static_cast<std::byte>(k.method);
        *p++ = static_cast<std::byte>(k.was_exposed ? 1 : 0);
        store_le(p, k.creation_time), p += 8;
        *p++ = static_cast<std::byte>(k.key->size());
        std::memcpy(p, k.key->data(), k.key->size()), p += k.key->size();
    }
    store_le(p, gsl::narrow<std::uint32_t>(s.retired_ids.size())), p += 4;
    for (auto id : s.retired_ids) store_le(p, id), p += 8;
    return out;
}

/// Parses unsealed contents; any inconsistency is errc::corrupt naming `where`.
[[nodiscard]] inline key_state parse(std::span<const std::byte> in, const std::string& where) {
    std::size_t pos = 0;
    const auto fail = [&](const std::string& why) -> void {
        throw error(errc::corrupt, where + ": sealed contents at byte " + std::to_string(pos) + ": " + why);
    };
    const auto take = [&](std::size_t n) {
        if (n > in.size() - pos) fail("truncated");
        const auto* p = in.data() + pos;
        pos += n;
        return p;
    };
    key_state s;
    const auto cv = static_cast<std::uint8_t>(*take(1));
    if (cv != contents_version) {
        throw error(errc::unknown_version, "unknown version " + std::to_string(cv) + " of sealed contents in " + where);
    }
    s.current_key_id = load_le<std::uint64_t>(take(8));
    s.file_dictionary_mac_key = std::make_shared<const secret_bytes>(std::span(take(mac_key_size), mac_key_size));
    const auto count = load_le<std::uint32_t>(take(4));
    for (std::uint32_t i = 0; i < count; ++i) {
        data_key k;
        k.id = load_le<std::uint64_t>(take(8));
        k.method = method_from_byte(static_cast<std::uint8_t>(*take(1)), where);
        k.was_exposed = static_cast<std::uint8_t>(*take(1)) != 0;
        k.creation_time = load_le<std::int64_t>(take(8));
        const auto key_len = static_cast<std::size_t>(*take(1));
        if (k.id == 0) fail("data key id 0 is reserved");
        if (key_len != key_size_of(k.method)) {
            fail("data key " + std::to_string(k.id) + " has " + std::to_string(key_len) + " bytes but " +
                 std::string(to_string(k.method)) + " needs " + std::to_string(key_size_of(k.method)));
        }
        k.key = std::make_shared<const secret_bytes>(std::span(take(key_len), key_len));
        if (!s.keys.emplace(k.id, std::move(k)).second) fail("duplicate data key id");
    }
    const auto retired = load_le<std::uint32_t>(take(4));
    for (std::uint32_t i = 0; i < retired; ++i) s.retired_ids.push_back(load_le<std::uint64_t>(take(8)));
    if (pos != in.size()) fail(std::to_string(in.size() - pos) + " unexpected trailing bytes");
    if (s.current_key_id != 0 && s.current() == nullptr) {
        fail("current key id " + std::to_string(s.current_key_id) + " is not in the dictionary");
    }
    return s;
}

/// header || sealed || CRC32C(header || sealed).
[[nodiscard]] inline std::vector<std::byte> encode_file(std::span<const std::byte> header, std::span<const std::byte> sealed) {
    std::vector<std::byte> out(header.size() + sealed.size() + 4);
    std::copy(header.begin(), header.end(), out.begin());
    std::copy(sealed.begin(), sealed.end(), out.begin() + static_cast<std::ptrdiff_t>(header.size()));
    store_le(out.data() + out.size() - 4, crc32c(std::span(out).first(out.size() - 4)));
    return out;
}

/// Checks the framing and returns the sealed blob (a view into `file`).
[[nodiscard]] inline std::span<const std::byte> decode_file(std::span<const std::byte> file, const std::string& where) {
    if (file.size() < header_size + 4) {
        throw error(errc::corrupt, where + ": " + std::to_string(file.size()) + " bytes is too short for a key dictionary");
    }
    if (!std::equal(magic.begin(), magic.end(), reinterpret_cast<const char*>(file.data()))) {
        throw error(errc::corrupt, where + ": not an atrest key dictionary (bad magic at offset 0)");
    }
    const auto v = static_cast<std::uint8_t>(file[8]);
    if (v != version) throw error(errc::unknown_version, "unknown version " + std::to_string(v) + " in " + where);
    const auto sealed_size = load_le<std::uint32_t>(file.data() + 12);
    if (std::uint64_t{sealed_size} + header_size + 4 != file.size()) {
        throw error(errc::corrupt, where + ": length field at offset 12 says " + std::to_string(sealed_size) +
                                       " sealed bytes but the file has " + std::to_string(file.size() - header_size - 4));
    }
    if (load_le<std::uint32_t>(file.data() + file.size() - 4) != crc32c(file.first(file.size() - 4))) {
        throw error(errc::corrupt, where + ": checksum mismatch at offset " + std::to_string(file.size() - 4) +
                                       " (the file is damaged; this is not a wrong master key)");
    }
    return file.subspan(header_size, sealed_size);
}

}  // namespace detail::key_dict
}  // namespace atrest
