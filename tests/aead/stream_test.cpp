// The segmented streams of both formats: round trips at every segment boundary, appends (finished
// streams continued, with a check that no (key, nonce) ever seals two plaintexts), reads of any
// byte range that decrypt only the segments the range touches, and every tamper case — a cut
// anywhere, segments reordered, segments spliced in from another stream, a flipped bit anywhere
// (exhaustive over small streams), a missing final segment — each a typed error naming the file
// and an offset, never data.
#include "aead_support.hpp"
#include "catch.hpp"
#include "expect_error.hpp"
#include "temp_dir.hpp"

#include <atrest/aead.hpp>

#include <algorithm>
#include <map>
#include <random>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace {

using atrest::aes128_gcm;
using atrest::aes256_gcm;
using atrest::chacha20_poly1305;
using atrest::dare;
using atrest::tink_streaming;
using atrest_test::counting_file;

template <class F>
typename F::options small_options() {
    if constexpr (std::is_same_v<F, tink_streaming>) {
        return {1024, {}};
    } else {
        return {};
    }
}

/// Opening and reading every byte of `cipher` throws an atrest::error of an integrity kind
/// that names the file and a byte offset; returns it.
template <class A, class F>
atrest::error refused(std::span<const std::byte> key, const std::vector<std::byte>& cipher, const typename F::options& o,
                      const std::string& name = "tampered") {
    // Whole reads (which decrypt large segments straight into the caller's buffer) refuse it too.
    (void)atrest_test::expect_error([&] {
        atrest::sealed_stream_reader<A, F, atrest::memory_file> r(atrest::memory_file(name, cipher), key, o);
        std::vector<std::byte> all(r.size());
        (void)r.read_at(0, all);
    });
    const auto e = atrest_test::expect_error([&] {
        atrest::sealed_stream_reader<A, F, atrest::memory_file> r(atrest::memory_file(name, cipher), key, o);
        r.verify();
    });
    INFO(e.what());
    const std::string what = e.what();
    CHECK((e.kind() == atrest::errc::integrity || e.kind() == atrest::errc::truncated ||
           e.kind() == atrest::errc::corrupt || e.kind() == atrest::errc::unknown_version ||
           e.kind() == atrest::errc::unsupported));
    CHECK(what.find("'" + name + "'") != std::string::npos);
    CHECK((what.find("byte") != std::string::npos || what.find("offset") != std::string::npos));
    return e;
}

template <class A, class F>
void round_trips() {
    const auto o = small_options<F>();
    const auto layout = F::template layout<A>(o);
    const auto key = atrest_test::test_bytes(A::key_size, 3);
    for (const std::size_t n : atrest_test::boundary_sizes(layout)) {
        for (const std::size_t piece : {std::size_t{0}, std::size_t{1000}, std::size_t{4097}}) {
            INFO(F::name << " " << A::name << ", " << n << " bytes in pieces of " << piece);
            const auto plain = atrest_test::test_bytes(n, static_cast<std::uint32_t>(n));
            const auto sealed = atrest_test::seal_stream<A, F>(key, plain, o, piece);
            REQUIRE(sealed.size() == layout.cipher_size(n));
            REQUIRE(atrest_test::open_stream<A, F>(key, sealed.bytes(), o) == plain);
        }
    }
}

template <class A, class F>
void range_reads() {
    const auto o = small_options<F>();
    const auto layout = F::template layout<A>(o);
    const auto key = atrest_test::test_bytes(A::key_size, 4);
    const std::size_t n = static_cast<std::size_t>(layout.first_capacity + 6 * layout.capacity + 77);
    const auto plain = atrest_test::test_bytes(n, 9);
    const auto sealed = atrest_test::seal_stream<A, F>(key, plain, o);
    atrest::sealed_stream_reader<A, F, counting_file> r(counting_file(sealed), key, o);
    REQUIRE(r.size() == n);
    std::mt19937 rng(5);
    for (int i = 0; i < 300; ++i) {
        const std::uint64_t at = rng() % (n + 10);
        const std::size_t len = rng() % (i % 3 == 0 ? 3 * layout.capacity : 64);
        r.file().reads().clear();
        std::vector<std::byte> out(len);
        const std::size_t got = r.read_at(at, out);
        const std::size_t expected = at >= n ? 0 : std::min<std::size_t>(len, n - at);
        INFO("read of " << len << " at " << at);
        REQUIRE(got == expected);
        REQUIRE(std::equal(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(got),
                           plain.begin() + static_cast<std::ptrdiff_t>(std::min<std::uint64_t>(at, n))));
        // Only the segments the range touches were read, each at most once.
        std::set<std::uint64_t> touched;
        if (got != 0) {
            for (auto s = layout.segment_of(at); s <= layout.segment_of(at + got - 1); ++s) touched.insert(s);
        }
        std::map<std::uint64_t, std::uint64_t> bytes_read;  // segment -> ciphertext bytes read
        for (const auto& [offset, size] : r.file().reads()) {
            const auto s = std::find_if(touched.begin(), touched.end(), [&](std::uint64_t t) {
                return offset >= layout.cipher_start(t) && offset + size <= layout.cipher_start(t + 1);
            });
            REQUIRE(s != touched.end());
            bytes_read[*s] += size;
            REQUIRE(bytes_read[*s] <= layout.cipher_start(*s + 1) - layout.cipher_start(*s));
        }
    }
}

/// Appends in steps, finishing and reopening after each; keeps every finished version of the
/// file and checks that no (key, nonce) sealed two different messages: with GCM and ChaCha20 the
/// same keystream shows as c1 XOR c2 == p1 XOR p2 over the bytes two versions of one segment
/// share. Appends only extend the plaintext, so a reused nonce there shows as equal ciphertext
/// over the shared bytes with a different length or tag (one sealing, unchanged, has both equal).
template <class A, class F>
void appends() {
    const auto o = small_options<F>();
    const auto layout = F::template layout<A>(o);
    const auto key = atrest_test::test_bytes(A::key_size, 6);
    const auto all = atrest_test::test_bytes(static_cast<std::size_t>(layout.first_capacity + 3 * layout.capacity), 11);
    std::vector<std::pair<std::vector<std::byte>, std::vector<std::byte>>> versions;  // (cipher, plain)
    atrest::memory_file file("appended");
    {
        auto w = atrest::sealed_stream_writer<A, F, atrest::memory_file>::create(std::move(file), key, o);
        w.finish();
        file = w.file();
    }
    std::size_t size = 0;
    std::mt19937 rng(8);
    while (size < all.size()) {
        const std::size_t step = std::min<std::size_t>(all.size() - size, rng() % 3 == 0 ? 1 : rng() % (layout.capacity + 200));
        auto w = atrest::sealed_stream_writer<A, F, atrest::memory_file>::append_to(std::move(file), key, o);
        REQUIRE(w.size() == size);
        w.append(std::span(all).subspan(size, step));
        w.finish();
        size += step;
        file = w.file();
        const std::vector<std::byte> plain(all.begin(), all.begin() + static_cast<std::ptrdiff_t>(size));
        REQUIRE(atrest_test::open_stream<A, F>(key, file.bytes(), o) == plain);
        versions.emplace_back(file.bytes(), plain);
    }
    REQUIRE(versions.size() > 5);
    // The keystream check, segment by segment over every pair of versions.
    for (std::size_t a = 0; a < versions.size(); ++a) {
        for (std::size_t b = a + 1; b < versions.size(); ++b) {
            const auto& [ca, pa] = versions[a];
            const auto& [cb, pb] = versions[b];
            const auto segments = std::min(layout.segment_count(pa.size()), layout.segment_count(pb.size()));
            for (std::uint64_t s = 0; s < segments; ++s) {
                const auto p0 = static_cast<std::size_t>(layout.plain_start(s));
                const auto c0 = static_cast<std::size_t>(layout.cipher_start(s) + layout.prefix_size);
                const auto cap = static_cast<std::size_t>(layout.capacity_of(s));
                const std::size_t la = std::min(cap, pa.size() - p0), lb = std::min(cap, pb.size() - p0);
                const std::size_t len = std::min(la, lb);
                if (len < 16) continue;  // fewer shared bytes can agree by chance (2^-8 a byte)
                bool same_cipher = true, xor_matches = true;
                for (std::size_t i = 0; i < len; ++i) {
                    same_cipher = same_cipher && ca[c0 + i] == cb[c0 + i];
                    xor_matches = xor_matches && (ca[c0 + i] ^ cb[c0 + i]) == (pa[p0 + i] ^ pb[p0 + i]);
                }
                const bool same_tag = std::equal(ca.begin() + static_cast<std::ptrdiff_t>(c0 + la),
                                                 ca.begin() + static_cast<std::ptrdiff_t>(c0 + la + 16),
                                                 cb.begin() + static_cast<std::ptrdiff_t>(c0 + lb));
                const bool one_sealing = same_cipher && la == lb && same_tag;
                INFO("versions " << a << " and " << b << ", segment " << s << ", " << la << " and " << lb << " bytes");
                REQUIRE((one_sealing || !xor_matches));
            }
        }
    }
}

template <class A, class F>
void tamper_cases() {
    const auto o = small_options<F>();
    const auto layout = F::template layout<A>(o);
    const auto key = atrest_test::test_bytes(A::key_size, 12);
    const std::size_t n = static_cast<std::size_t>(layout.first_capacity + 2 * layout.capacity + 100);
    const auto plain = atrest_test::test_bytes(n, 13);
    const auto sealed = atrest_test::seal_stream<A, F>(key, plain, o).bytes();
    const auto other = atrest_test::seal_stream<A, F>(key, atrest_test::test_bytes(n, 14), o).bytes();
    REQUIRE(layout.segment_count(n) == 4);
    auto seg = [&](std::uint64_t i) { return static_cast<std::ptrdiff_t>(layout.cipher_start(i)); };

    SECTION("a cut anywhere: a missing final segment, or an end no stream has") {
        for (std::size_t cut = 0; cut < sealed.size(); cut += (cut % 97 == 0 ? 1 : 13)) {
            INFO("cut to " << cut << " bytes");
            const std::vector<std::byte> shorter(sealed.begin(), sealed.begin() + static_cast<std::ptrdiff_t>(cut));
            if (cut == 0 && !layout.empty_stream_has_segment) {
                REQUIRE(atrest_test::open_stream<A, F>(key, shorter, o).empty());  // DARE: no bytes is the empty stream
                continue;
            }
            (void)refused<A, F>(key, shorter, o);
        }
        // Cut at a segment boundary: every segment authentic, the final one missing.
        const std::vector<std::byte> at_boundary(sealed.begin(), sealed.begin() + seg(3));
        const auto e = refused<A, F>(key, at_boundary, o);
        CHECK(e.kind() == atrest::errc::truncated);
        CHECK(std::string(e.what()).find("final segment is missing") != std::string::npos);
        CHECK(std::string(e.what()).find("segment 2") != std::string::npos);
    }
    SECTION("segments reordered") {
        auto swapped = sealed;
        std::swap_ranges(swapped.begin() + seg(1), swapped.begin() + seg(2), swapped.begin() + seg(2));
        const auto e = refused<A, F>(key, swapped, o);
        CHECK(e.kind() == atrest::errc::integrity);
        CHECK(std::string(e.what()).find("segment 1 (ciphertext bytes [" + std::to_string(seg(1))) != std::string::npos);
    }
    SECTION("a segment spliced in from another stream under the same key, at the same place") {
        auto spliced = sealed;
        std::copy(other.begin() + seg(2), other.begin() + seg(3), spliced.begin() + seg(2));
        const auto e = refused<A, F>(key, spliced, o);
        CHECK(e.kind() == atrest::errc::integrity);
        CHECK(std::string(e.what()).find("segment 2") != std::string::npos);
        // And two whole streams end to end, and one stream's head on the other's tail.
        auto joined = sealed;
        joined.insert(joined.end(), other.begin() + static_cast<std::ptrdiff_t>(layout.header_size), other.end());
        (void)refused<A, F>(key, joined, o);
        std::vector<std::byte> head_tail(sealed.begin(), sealed.begin() + seg(2));
        head_tail.insert(head_tail.end(), other.begin() + seg(2), other.end());
        CHECK(refused<A, F>(key, head_tail, o).kind() == atrest::errc::integrity);
    }
    SECTION("a stream whose final segment was dropped and a full earlier one made last") {
        std::vector<std::byte> no_final(sealed.begin(), sealed.begin() + seg(3));
        CHECK(refused<A, F>(key, no_final, o).kind() == atrest::errc::truncated);
    }
    SECTION("another key") {
        CHECK(refused<A, F>(atrest_test::test_bytes(A::key_size, 99), sealed, o).kind() == atrest::errc::integrity);
    }
}

/// Every bit of a small stream flipped in turn (the whole stream: header, prefixes, bodies, tags).
template <class A, class F>
void every_bit(std::size_t n) {
    const auto o = small_options<F>();
    const auto key = atrest_test::test_bytes(A::key_size, 21);
    const auto sealed = atrest_test::seal_stream<A, F>(key, atrest_test::test_bytes(n, 22), o).bytes();
    for (std::size_t i = 0; i < sealed.size(); ++i) {
        for (int bit = 0; bit < 8; ++bit) {
            auto flipped = sealed;
            flipped[i] ^= std::byte{static_cast<std::uint8_t>(1u << bit)};
            INFO(F::name << " " << A::name << ": bit " << bit << " of byte " << i << " of " << sealed.size());
            (void)refused<A, F>(key, flipped, o);
        }
    }
}

}  // namespace

TEST_CASE("streams: round trips at every segment boundary, appended in pieces") {
    round_trips<aes128_gcm, tink_streaming>();
    round_trips<aes256_gcm, tink_streaming>();
    round_trips<aes256_gcm, dare>();
    round_trips<chacha20_poly1305, dare>();
}

TEST_CASE("streams: any byte range reads back, decrypting only the segments it touches") {
    range_reads<aes256_gcm, tink_streaming>();
    range_reads<chacha20_poly1305, dare>();
}

TEST_CASE("streams: finished streams continue, and no nonce seals two plaintexts") {
    appends<aes128_gcm, tink_streaming>();
    appends<aes256_gcm, tink_streaming>();
    appends<aes256_gcm, dare>();
    appends<chacha20_poly1305, dare>();
}

TEST_CASE("streams: an unfinished stream is refused as truncated") {
    const auto key = atrest_test::test_bytes(32, 30);
    auto w = atrest::sealed_stream_writer<aes256_gcm, tink_streaming, atrest::memory_file>::create(
        atrest::memory_file("unfinished.log"), key, {1024, {}});
    w.append(atrest_test::test_bytes(5000, 31));
    const auto e = refused<aes256_gcm, tink_streaming>(key, w.file().bytes(), {1024, {}}, "unfinished.log");
    CHECK(e.kind() == atrest::errc::truncated);
}

TEST_CASE("streams: a cut, reordered or spliced Tink stream is a typed error naming file and offset") {
    tamper_cases<aes256_gcm, tink_streaming>();
}
TEST_CASE("streams: a cut, reordered or spliced DARE stream is a typed error naming file and offset") {
    tamper_cases<aes256_gcm, dare>();
}

TEST_CASE("streams: every flipped bit of a small stream is refused") {
    every_bit<aes256_gcm, tink_streaming>(0);
    every_bit<aes128_gcm, tink_streaming>(2500);  // three segments of a 1 KiB-segment stream
    every_bit<aes256_gcm, dare>(1);
    every_bit<chacha20_poly1305, dare>(300);
}

TEST_CASE("streams: a DARE package header that names another version or cipher") {
    const auto key = atrest_test::test_bytes(32, 40);
    auto sealed = atrest_test::seal_stream<aes256_gcm, dare>(key, atrest_test::test_bytes(10, 41)).bytes();
    auto v1 = sealed;
    v1[0] = std::byte{0x10};
    atrest_test::require_error(
        [&] { atrest::sealed_stream_reader<aes256_gcm, dare, atrest::memory_file> r(atrest::memory_file("obj", v1), key); },
        atrest::errc::unknown_version, {"'obj'", "offset 0", "DARE 1.0"});
    atrest_test::require_error(
        [&] { atrest::sealed_stream_reader<chacha20_poly1305, dare, atrest::memory_file> r(atrest::memory_file("obj", sealed), key); },
        atrest::errc::unsupported, {"'obj'", "offset 0", "AES-256-GCM"});
}

TEST_CASE("streams: a sealed stream in a real file, written, continued and read at random") {
    atrest_test::temp_dir dir;
    const auto key = atrest_test::test_bytes(32, 50);
    const auto plain = atrest_test::test_bytes(300000, 51);
    {
        auto w = atrest::sealed_stream_writer<aes256_gcm, dare>::create(
            atrest::posix_file(dir / "wal", atrest::open_flags::create), key);
        w.append(std::span(plain).first(100000));
        w.finish();
        w.sync();
    }
    {
        auto w = atrest::sealed_stream_writer<aes256_gcm, dare>::append_to(
            atrest::posix_file(dir / "wal", atrest::open_flags::read_write), key);
        w.append(std::span(plain).subspan(100000));
        w.finish();
    }
    atrest::sealed_stream_reader<aes256_gcm, dare> r(atrest::posix_file(dir / "wal"), key);
    REQUIRE(r.size() == plain.size());
    std::vector<std::byte> out(1000);
    REQUIRE(r.read_at(123456, out) == out.size());
    REQUIRE(std::equal(out.begin(), out.end(), plain.begin() + 123456));
    r.verify();
}
