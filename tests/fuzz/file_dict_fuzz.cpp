// file.dict: parse_file(bytes, hmac_key, where), the parser the key manager opens a data
// directory with. The first input byte picks the mode, the rest is the file:
//   bit 0 set (fix-up): before parsing, walk the file as frames (u32 LE body length, u32 CRC32C,
//   body ending in the 16-byte chained HMAC) and recompute the header CRC, every record's MAC
//   chain under a fixed test key and every CRC, so mutations reach the record parsers instead of
//   dying at a checksum. The walk knows only the frame, never a record type; it stops at a length
//   that runs past the end (a torn tail stays as it is);
//   bit 1 set: parse with an empty key (structure only, as an interrupted first start is told
//   apart), else with the test key.
// Property: the intact prefix (valid_length) parses again to the same entries with nothing torn,
// which is what the key manager relies on when it truncates a torn tail and reopens.
#include "fuzz_support.hpp"

#include <atrest/detail/crc32c.hpp>
#include <atrest/detail/endian.hpp>
#include <atrest/dict/log_format.hpp>

#include <array>
#include <vector>

namespace {

namespace fd = atrest::detail::file_dict;

constexpr std::array<std::byte, fd::hmac_key_size> test_key = [] {
    std::array<std::byte, fd::hmac_key_size> k{};
    for (std::size_t i = 0; i < k.size(); ++i) k[i] = static_cast<std::byte>(0xa0 + i);
    return k;
}();

void fix_up(std::vector<std::byte>& f) {
    using atrest::detail::crc32c;
    using atrest::detail::crc32c_extend;
    using atrest::detail::load_le;
    using atrest::detail::store_le;
    if (f.size() < fd::header_size) return;
    const std::span<std::byte> all(f);
    store_le(f.data() + 12, crc32c(all.first(12)));
    fd::mac_chain chain(test_key, all.first(fd::header_size));
    std::size_t off = fd::header_size;
    while (f.size() - off >= fd::frame_size) {
        const auto length = load_le<std::uint32_t>(f.data() + off);
        if (length < fd::mac_size || length > f.size() - off - fd::frame_size) break;
        const auto body = all.subspan(off + fd::frame_size, length);
        const auto mac = chain.next(all.subspan(off, 4), body.first(length - fd::mac_size));
        std::copy(mac.begin(), mac.end(), body.end() - fd::mac_size);
        store_le(f.data() + off + 4, crc32c_extend(crc32c(all.subspan(off, 4)), body));
        off += fd::frame_size + length;
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    const std::uint8_t mode = data[0];
    const auto in = atrest_fuzz::bytes(data + 1, size - 1);
    std::vector<std::byte> file(in.begin(), in.end());
    if ((mode & 1) != 0) fix_up(file);
    const std::span<const std::byte> key = (mode & 2) != 0 ? std::span<const std::byte>() : std::span(test_key);
    atrest_fuzz::expect_only_atrest_errors([&] {
        const auto r = fd::parse_file(file, key, "fuzz/file.dict");
        atrest_fuzz::require(r.valid_length <= file.size(), "valid_length is within the file");
        const auto prefix = fd::parse_file(std::span(file).first(r.valid_length), key, "fuzz/file.dict (prefix)");
        atrest_fuzz::require(prefix.valid_length == r.valid_length && !prefix.torn_tail,
                             "the intact prefix parses whole");
        atrest_fuzz::require(prefix.entries == r.entries, "the intact prefix holds the same entries");
    });
    return 0;
}
