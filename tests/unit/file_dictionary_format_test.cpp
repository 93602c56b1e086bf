// The file dictionary format: round trips, torn tails dropped at every cut point, damage in the
// middle reported with its offset, tampering reported as such, versions and magic checked.
#include "catch.hpp"
#include "expect_error.hpp"

#include <atrest/dict/log_format.hpp>
#include <atrest/detail/endian.hpp>

#include <string>
#include <vector>

namespace fd = atrest::detail::file_dict;

using atrest_test::expect_error;

namespace {

const std::vector<std::byte> mac_key(32, std::byte{0x42});

atrest::file_entry entry(std::uint64_t id, int iv_seed) {
    atrest::file_entry e{id, atrest::method::aes256_ctr, {}};
    for (std::size_t i = 0; i < 16; ++i) e.iv[i] = static_cast<std::byte>(iv_seed + static_cast<int>(i));
    return e;
}

/// A log-format file: snapshot {a, b}, then put c, remove a, put d/x, put d/y, remove_tree d.
struct sample {
    std::vector<std::byte> bytes;
    std::vector<std::size_t> record_ends;  // file offset after each appended record
};

sample make_sample() {
    fd::entry_map snapshot{{"a", entry(1, 0)}, {"b", entry(2, 16)}};
    fd::mac_chain chain(mac_key, fd::make_header(fd::version_log));
    sample s;
    const auto encoded = fd::encode_file(fd::version_log, snapshot, {}, mac_key);
    s.bytes = encoded.bytes;
    chain.reset_to(encoded.last_mac);
    s.record_ends.push_back(s.bytes.size());
    fd::encode_put(s.bytes, "c", entry(3, 32), chain);
    s.record_ends.push_back(s.bytes.size());
    fd::encode_remove(s.bytes, fd::record_type::remove, "a", chain);
    s.record_ends.push_back(s.bytes.size());
    fd::encode_put(s.bytes, "d/x", entry(4, 48), chain);
    s.record_ends.push_back(s.bytes.size());
    fd::encode_put(s.bytes, "d/y", entry(4, 64), chain);
    s.record_ends.push_back(s.bytes.size());
    fd::encode_remove(s.bytes, fd::record_type::remove_tree, "d", chain);
    s.record_ends.push_back(s.bytes.size());
    return s;
}


}  // namespace

TEST_CASE("file dictionary log replays to the expected map", "[dict][format]") {
    const auto s = make_sample();
    const auto r = fd::parse_file(s.bytes, mac_key, "file.dict");
    CHECK(r.version == fd::version_log);
    CHECK_FALSE(r.torn_tail);
    CHECK(r.valid_length == s.bytes.size());
    CHECK(r.removals == 2);
    CHECK(r.appended_records == 5);
    REQUIRE(r.entries.size() == 2);
    CHECK(r.entries.at("b") == entry(2, 16));
    CHECK(r.entries.at("c") == entry(3, 32));
}

TEST_CASE("a torn last record is dropped at every cut point", "[dict][format]") {
    const auto s = make_sample();
    const std::size_t last_start = s.record_ends[s.record_ends.size() - 2];
    for (std::size_t cut = last_start + 1; cut < s.bytes.size(); ++cut) {
        const std::vector<std::byte> torn(s.bytes.begin(), s.bytes.begin() + static_cast<std::ptrdiff_t>(cut));
        const auto r = fd::parse_file(torn, mac_key, "file.dict");
        INFO("cut at " << cut);
        CHECK(r.torn_tail);
        CHECK(r.valid_length == last_start);
        CHECK(r.entries.size() == 4);  // b, c, d/x, d/y: the torn remove_tree never happened
    }
}

TEST_CASE("a garbled last record and a zero-filled tail count as torn", "[dict][format]") {
    auto s = make_sample();
    auto garbled = s.bytes;
    garbled.back() ^= std::byte{1};  // last record's CRC no longer matches; it reaches the end
    CHECK(fd::parse_file(garbled, mac_key, "f").torn_tail);
    auto zeros = s.bytes;
    zeros.resize(zeros.size() + 100, std::byte{0});  // file size extended, data never written
    const auto r = fd::parse_file(zeros, mac_key, "f");
    CHECK(r.torn_tail);
    CHECK(r.valid_length == s.bytes.size());
}

TEST_CASE("damage before the last record is an error naming file and offset", "[dict][format]") {
    const auto s = make_sample();
    auto damaged = s.bytes;
    const std::size_t second_record = s.record_ends[1];
    damaged[second_record + 10] ^= std::byte{0x80};
    const auto e = expect_error([&] { (void)fd::parse_file(damaged, mac_key, "/data/file.dict"); });
    CHECK(e.code() == atrest::errc::corrupt);
    const std::string what = e.what();
    CHECK(what.find("/data/file.dict") != std::string::npos);
    CHECK(what.find("offset " + std::to_string(second_record)) != std::string::npos);

    auto snapshot_damaged = s.bytes;
    snapshot_damaged[fd::header_size + 12] ^= std::byte{1};
    CHECK(expect_error([&] { (void)fd::parse_file(snapshot_damaged, mac_key, "f"); }).code() == atrest::errc::corrupt);
}

TEST_CASE("a changed, reordered or foreign record fails authentication", "[dict][format]") {
    const auto s = make_sample();
    // Re-frame a record with a valid CRC but a changed IV: only the MAC can catch it.
    auto forged = s.bytes;
    const std::size_t start = s.record_ends[0];  // "put c"
    const std::size_t body = start + fd::frame_size;
    const auto body_size = atrest::detail::load_le<std::uint32_t>(forged.data() + start);
    forged[body + 1 + 4 + 1 + 8 + 1] ^= std::byte{1};  // first IV byte of "c"
    const auto crc = atrest::detail::crc32c_extend(atrest::detail::crc32c(std::span(forged).subspan(start, 4)),
                                                   std::span(forged).subspan(body, body_size));
    atrest::detail::store_le(forged.data() + start + 4, crc);
    CHECK(expect_error([&] { (void)fd::parse_file(forged, mac_key, "f"); }).code() == atrest::errc::tampered);

    // Swap two appended records: each is intact, the chain is not.
    auto swapped = std::vector<std::byte>(s.bytes.begin(), s.bytes.begin() + static_cast<std::ptrdiff_t>(s.record_ends[0]));
    swapped.insert(swapped.end(), s.bytes.begin() + static_cast<std::ptrdiff_t>(s.record_ends[1]),
                   s.bytes.begin() + static_cast<std::ptrdiff_t>(s.record_ends[2]));
    swapped.insert(swapped.end(), s.bytes.begin() + static_cast<std::ptrdiff_t>(s.record_ends[0]),
                   s.bytes.begin() + static_cast<std::ptrdiff_t>(s.record_ends[1]));
    CHECK(expect_error([&] { (void)fd::parse_file(swapped, mac_key, "f"); }).code() == atrest::errc::tampered);

    // A dictionary written under another key dictionary's MAC key.
    const std::vector<std::byte> other_key(32, std::byte{0x43});
    CHECK(expect_error([&] { (void)fd::parse_file(s.bytes, other_key, "f"); }).code() == atrest::errc::tampered);
    // Structure-only parsing (no key) accepts it.
    CHECK(fd::parse_file(s.bytes, {}, "f").entries.size() == 2);
}

TEST_CASE("header problems: short, bad magic, bad checksum, unknown version", "[dict][format]") {
    const auto s = make_sample();
    CHECK(expect_error([&] { (void)fd::parse_file(std::span(s.bytes).first(10), mac_key, "f"); }).code() ==
          atrest::errc::corrupt);
    auto bad_magic = s.bytes;
    bad_magic[0] = std::byte{'X'};
    CHECK(expect_error([&] { (void)fd::parse_file(bad_magic, mac_key, "f"); }).code() == atrest::errc::corrupt);
    auto bad_crc = s.bytes;
    bad_crc[9] = std::byte{1};
    CHECK(expect_error([&] { (void)fd::parse_file(bad_crc, mac_key, "f"); }).code() == atrest::errc::corrupt);
    auto v9 = s.bytes;
    v9[8] = std::byte{9};
    atrest::detail::store_le(v9.data() + 12, atrest::detail::crc32c(std::span(v9).first(12)));
    const auto e = expect_error([&] { (void)fd::parse_file(v9, mac_key, "/x/file.dict"); });
    CHECK(e.code() == atrest::errc::unknown_version);
    CHECK(std::string(e.what()).starts_with("unknown version 9 in /x/file.dict"));
    const auto header_only = fd::make_header(fd::version_log);
    CHECK(expect_error([&] { (void)fd::parse_file(header_only, mac_key, "f"); }).code() == atrest::errc::corrupt);
}

TEST_CASE("snapshot-only files round-trip and refuse appended records", "[dict][format]") {
    fd::entry_map m{{"x", entry(9, 1)}};
    fd::mac_chain chain(mac_key, fd::make_header(fd::version_snapshot));
    const auto encoded = fd::encode_file(fd::version_snapshot, m, {}, mac_key);
    auto bytes = encoded.bytes;
    chain.reset_to(encoded.last_mac);
    const auto r = fd::parse_file(bytes, mac_key, "f");
    CHECK(r.version == fd::version_snapshot);
    CHECK(r.entries == m);
    fd::encode_put(bytes, "y", entry(9, 2), chain);
    CHECK(expect_error([&] { (void)fd::parse_file(bytes, mac_key, "f"); }).code() == atrest::errc::corrupt);
}

TEST_CASE("a flipped bit in a record's length is corruption unless the record really is the last", "[dict][format]") {
    const auto s = make_sample();
    // Every appended record but the last: a length that now runs past the end (or anywhere else)
    // must not be taken for a torn final write, which would silently drop the records after it.
    for (std::size_t r = 0; r + 2 < s.record_ends.size(); ++r) {
        const std::size_t start = s.record_ends[r];
        for (int bit : {0, 7, 12, 20, 30}) {
            INFO("record at " << start << ", bit " << bit);
            auto flipped = s.bytes;
            auto length = atrest::detail::load_le<std::uint32_t>(flipped.data() + start);
            length ^= std::uint32_t{1} << bit;
            atrest::detail::store_le(flipped.data() + start, length);
            const auto e = expect_error([&] { (void)fd::parse_file(flipped, mac_key, "/d/file.dict"); });
            CHECK(e.code() == atrest::errc::corrupt);
            CHECK(std::string(e.what()).find("offset " + std::to_string(start)) != std::string::npos);
            CHECK(std::string(e.what()).find("intact record follows") != std::string::npos);
        }
    }
    // The last record: the same flip is indistinguishable from a torn write, and is dropped.
    const std::size_t last = s.record_ends[s.record_ends.size() - 2];
    auto flipped = s.bytes;
    flipped[last + 2] ^= std::byte{0x10};
    const auto r = fd::parse_file(flipped, mac_key, "f");
    CHECK(r.torn_tail);
    CHECK(r.valid_length == last);
}

TEST_CASE("rename records: begin leaves entries alone, commit moves, abort forgets, pending ones survive a snapshot",
          "[dict][format]") {
    fd::entry_map snapshot{{"src", entry(1, 0)}, {"dst", entry(2, 16)}, {"other", entry(3, 32)}};
    const fd::pending_rename carried{"other", "gone", atrest::detail::posix::file_identity{7, 9}};
    const auto encoded = fd::encode_file(fd::version_log, snapshot, {carried}, mac_key);
    fd::mac_chain chain(mac_key, fd::make_header(fd::version_log));
    chain.reset_to(encoded.last_mac);
    auto bytes = encoded.bytes;
    const fd::pending_rename r{"src", "dst", atrest::detail::posix::file_identity{1, 42}};
    fd::encode_rename(bytes, fd::record_type::rename_begin, r, chain);
    auto parsed = fd::parse_file(bytes, mac_key, "f");
    CHECK(parsed.entries == snapshot);
    REQUIRE(parsed.pending.size() == 2);
    CHECK(parsed.pending[0] == carried);
    CHECK(parsed.pending[1] == r);

    auto committed = bytes;
    fd::mac_chain chain2(mac_key, fd::make_header(fd::version_log));
    chain2.reset_to(chain.last());
    fd::encode_rename(committed, fd::record_type::rename_commit, r, chain);
    parsed = fd::parse_file(committed, mac_key, "f");
    CHECK(parsed.entries.at("dst") == entry(1, 0));
    CHECK_FALSE(parsed.entries.contains("src"));
    CHECK(parsed.pending.size() == 1);

    fd::encode_rename(bytes, fd::record_type::rename_abort, r, chain2);
    parsed = fd::parse_file(bytes, mac_key, "f");
    CHECK(parsed.entries == snapshot);
    CHECK(parsed.pending == fd::pending_list{carried});
}
