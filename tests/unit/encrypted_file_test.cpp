// encrypted_file: round trips for every method, the on-disk bytes against ctr_stream and OpenSSL,
// the keystream-reuse guard, rewrite mode, runtime dispatch, and a fault-injecting file double
// showing that short writes and I/O errors never desynchronise the cipher position (TiKV #15080).
#include "catch.hpp"
#include "expect_error.hpp"
#include "hex.hpp"
#include "temp_dir.hpp"

#include <atrest/dict.hpp>
#include <atrest/file.hpp>
#include <atrest/master_key.hpp>

#include <openssl/evp.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <functional>
#include <limits>
#include <memory>
#include <random>
#include <string>
#include <vector>

namespace {

using bytes = std::vector<std::byte>;
using atrest::errc;
using atrest_test::require_error;

bytes random_bytes(std::mt19937_64& rng, std::size_t n) {
    bytes v(n);
    for (auto& b : v) b = static_cast<std::byte>(rng());
    return v;
}

/// Key and IV of the right sizes for policy C (empty for plaintext).
template <class C>
struct key_iv {
    bytes key;
    bytes iv;
    explicit key_iv(std::mt19937_64& rng) : key(random_bytes(rng, C::key_size)), iv(random_bytes(rng, C::iv_size)) {}
};

bytes read_raw(const std::filesystem::path& p) {
    auto v = atrest::detail::posix::read_file_if_exists(p);
    REQUIRE(v.has_value());
    return *v;
}


/// In-memory file double whose writes can be made short or fail after a byte budget. State is
/// shared so the test can look at the "disk" after the file was moved into an encrypted_file.
class fault_file final {
public:
    struct state {
        bytes disk;
        std::size_t max_per_write = std::numeric_limits<std::size_t>::max();  // short writes
        std::size_t budget = std::numeric_limits<std::size_t>::max();         // EIO once spent
        std::size_t report_extra = 0;  // misbehaving file: claims more than it wrote
        bool report_zero = false;      // misbehaving file: accepts nothing, no error
        int writes = 0;
    };

    explicit fault_file(std::shared_ptr<state> s) : m_state(std::move(s)) {}

    [[nodiscard]] std::size_t read_at(std::uint64_t offset, std::span<std::byte> out) const {
        const auto& d = m_state->disk;
        if (offset >= d.size()) return 0;
        const std::size_t n = std::min<std::size_t>(out.size(), d.size() - offset);
        std::memcpy(out.data(), d.data() + offset, n);
        return n;
    }
    [[nodiscard]] std::size_t write_at(std::uint64_t offset, std::span<const std::byte> data) {
        auto& s = *m_state;
        ++s.writes;
        if (s.report_zero) return 0;
        if (s.budget == 0) throw atrest::error(errc::io_error, "pwrite 'fault' at offset " + std::to_string(offset), EIO);
        const std::size_t n = std::min({data.size(), s.max_per_write, s.budget});
        if (s.disk.size() < offset + n) s.disk.resize(offset + n);
        std::memcpy(s.disk.data() + offset, data.data(), n);
        s.budget -= n;
        return n + s.report_extra;
    }
    void sync() {}
    void truncate(std::uint64_t size) { m_state->disk.resize(size); }
    [[nodiscard]] std::uint64_t size() const { return m_state->disk.size(); }
    [[nodiscard]] std::string_view name() const noexcept { return "fault"; }

private:
    std::shared_ptr<state> m_state;
};

/// Reads only: models random_access_file, not writable_file.
class read_only_file final {
public:
    explicit read_only_file(bytes d) : m_data(std::move(d)) {}
    [[nodiscard]] std::size_t read_at(std::uint64_t offset, std::span<std::byte> out) const {
        if (offset >= m_data.size()) return 0;
        const std::size_t n = std::min<std::size_t>(out.size(), m_data.size() - offset);
        std::memcpy(out.data(), m_data.data() + offset, n);
        return n;
    }
    [[nodiscard]] std::uint64_t size() const { return m_data.size(); }
    [[nodiscard]] std::string_view name() const noexcept { return "read-only"; }

private:
    bytes m_data;
};

/// Calls `f(C{})` for every CTR method and plaintext (authenticated methods: authenticated_file_test.cpp).
template <class F>
void for_each_policy(F&& f) {
    for (atrest::method m : atrest::all_methods) {
        atrest::visit_method(m, [&]<class C>(C c) {
            if constexpr (!atrest::authenticated_policy<C>) f(c);
        });
    }
}

/// Appends `plain` in random-sized pieces (some larger than the scratch buffer), alternating
/// between append, append_in_place and write_at.
template <class C, class File>
void append_in_pieces(atrest::encrypted_file<C, File>& f, const bytes& plain, std::size_t from, std::mt19937_64& rng) {
    std::size_t pos = from;
    int kind = 0;
    while (pos < plain.size()) {
        const std::size_t n = std::min<std::size_t>(plain.size() - pos, rng() % 3 == 0 ? rng() % 200000 : rng() % 5000);
        std::span<const std::byte> piece(plain.data() + pos, n);
        switch (kind++ % 3) {
            case 0: f.append(piece); break;
            case 1: {
                bytes copy(piece.begin(), piece.end());
                f.append_in_place(copy);
                break;
            }
            default: f.write_at(pos, piece); break;
        }
        pos += n;
        REQUIRE(f.size() == pos);
    }
}

}  // namespace

TEST_CASE("encrypted_file round-trips random offsets and sizes for every method", "[file]") {
    for_each_policy([]<class C>(C) {
        INFO(C::name);
        std::mt19937_64 rng(std::hash<std::string_view>{}(C::name));
        atrest_test::temp_dir dir;
        const auto path = dir / "data.sst";
        const key_iv<C> k(rng);
        const bytes plain = random_bytes(rng, 700001);
        {
            atrest::encrypted_file<C> f(atrest::posix_file(path, atrest::open_flags::create_exclusive), k.key, k.iv);
            CHECK(f.size() == 0);
            append_in_pieces(f, plain, 0, rng);
            f.sync();
        }
        // Reopen read-only: the high-water mark is the on-disk size, which equals the plaintext size.
        const atrest::encrypted_file<C> r(atrest::posix_file(path), k.key, k.iv);
        CHECK(r.size() == plain.size());
        CHECK(std::filesystem::file_size(path) == plain.size());
        for (int i = 0; i < 300; ++i) {
            const std::uint64_t off = rng() % (plain.size() + 10);
            bytes out(rng() % 70000);
            const std::size_t n = r.read_at(off, out);
            const std::size_t want = off >= plain.size() ? 0 : std::min<std::size_t>(out.size(), plain.size() - off);
            REQUIRE(n == want);
            REQUIRE(std::equal(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(n),
                               plain.begin() + static_cast<std::ptrdiff_t>(std::min<std::uint64_t>(off, plain.size()))));
        }
    });
}

TEST_CASE("encrypted_file puts exactly the ctr_stream keystream on disk", "[file]") {
    for_each_policy([]<class C>(C) {
        INFO(C::name);
        std::mt19937_64 rng(7);
        atrest_test::temp_dir dir;
        const key_iv<C> k(rng);
        const bytes plain = random_bytes(rng, 200003);
        {
            atrest::encrypted_file<C> f(atrest::posix_file(dir / "f", atrest::open_flags::create), k.key, k.iv);
            append_in_pieces(f, plain, 0, rng);
        }
        bytes expect(plain.size());
        atrest::ctr_stream<C>(k.key, k.iv).apply(0, plain, expect);
        CHECK(read_raw(dir / "f") == expect);
        if constexpr (std::same_as<C, atrest::plaintext>) CHECK(read_raw(dir / "f") == plain);  // stored unchanged
    });
}

TEST_CASE("encrypted_file matches OpenSSL aes-256-ctr across the 2^64 carry and the 2^128 wrap", "[file]") {
    atrest_test::temp_dir dir;
    const bytes key = atrest_test::from_hex("603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4");
    const bytes iv = atrest_test::from_hex("fffffffffffffffffffffffffffffff0");  // wraps after 16 blocks
    std::mt19937_64 rng(3);
    const bytes plain = random_bytes(rng, 1000);
    {
        atrest::encrypted_file<atrest::aes256_ctr> f(atrest::posix_file(dir / "f", atrest::open_flags::create), key, iv);
        f.append(std::span(plain).first(77));
        f.append(std::span(plain).subspan(77));
    }
    std::unique_ptr<EVP_CIPHER_CTX, decltype(&EVP_CIPHER_CTX_free)> ctx(EVP_CIPHER_CTX_new(), EVP_CIPHER_CTX_free);
    REQUIRE(EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_ctr(), nullptr, reinterpret_cast<const unsigned char*>(key.data()),
                               reinterpret_cast<const unsigned char*>(iv.data())) == 1);
    bytes expect(plain.size());
    int outl = 0;
    REQUIRE(EVP_EncryptUpdate(ctx.get(), reinterpret_cast<unsigned char*>(expect.data()), &outl,
                              reinterpret_cast<const unsigned char*>(plain.data()), static_cast<int>(plain.size())) == 1);
    CHECK(read_raw(dir / "f") == expect);
}

TEST_CASE("encrypted_file refuses overwrites with keystream_reuse and holes with invalid_argument", "[file]") {
    std::mt19937_64 rng(11);
    atrest_test::temp_dir dir;
    const auto path = dir / "wal.log";
    const key_iv<atrest::aes128_ctr> k(rng);
    const bytes plain = random_bytes(rng, 100);
    atrest::encrypted_file<atrest::aes128_ctr> f(atrest::posix_file(path, atrest::open_flags::create), k.key, k.iv);
    f.append(plain);
    const bytes before = read_raw(path);

    require_error([&] { f.write_at(0, std::span(plain).first(10)); }, errc::keystream_reuse,
                  {"[0, 10)", path.string(), "write_mode::rewrite", "fresh IV"});
    require_error([&] { f.write_at(95, std::span(plain).first(10)); }, errc::keystream_reuse, {"[95, 100)"});
    require_error([&] { f.write_at(101, std::span(plain).first(1)); }, errc::invalid_argument,
                  {"offset 101", "hole", "100"});
    CHECK(f.size() == 100);
    CHECK(read_raw(path) == before);

    f.write_at(0, {});  // empty: nothing is encrypted, so nothing is reused
    f.write_at(100, std::span(plain).first(5));
    CHECK(f.size() == 105);

    SECTION("reopening in append mode keeps the guard") {
        atrest::encrypted_file<atrest::aes128_ctr> g(atrest::posix_file(path, atrest::open_flags::read_write), k.key,
                                                     k.iv);
        CHECK(g.size() == 105);
        require_error([&] { g.write_at(104, std::span(plain).first(2)); }, errc::keystream_reuse, {"[104, 105)"});
        g.append(std::span(plain).subspan(5, 20));
        bytes back(125);
        CHECK(g.read_at(0, back) == 125);
        CHECK(std::equal(back.begin(), back.begin() + 100, plain.begin()));
        CHECK(std::equal(back.begin() + 100, back.end(), plain.begin()));
    }
    SECTION("truncating below the mark ends appending; growing is a hole") {
        require_error([&] { f.truncate(106); }, errc::invalid_argument, {"offset 106"});
        f.truncate(105);  // no change: fine
        f.truncate(50);
        CHECK(f.size() == 50);
        CHECK(std::filesystem::file_size(path) == 50);
        require_error([&] { f.append(std::span(plain).first(60)); }, errc::keystream_reuse, {"[50, 105)"});
        require_error([&] { f.write_at(50, std::span(plain).first(10)); }, errc::keystream_reuse, {"[50, 60)"});
    }
}

TEST_CASE("write_mode::rewrite truncates and starts a fresh keystream", "[file]") {
    std::mt19937_64 rng(13);
    atrest_test::temp_dir dir;
    const auto path = dir / "recycled.log";
    const key_iv<atrest::sm4_ctr> old_k(rng);
    const bytes old_plain = random_bytes(rng, 5000);
    {
        atrest::encrypted_file<atrest::sm4_ctr> f(atrest::posix_file(path, atrest::open_flags::create), old_k.key,
                                                  old_k.iv);
        f.append(old_plain);
    }
    const bytes fresh_iv = random_bytes(rng, 16);
    const bytes new_plain = random_bytes(rng, 3000);
    atrest::encrypted_file<atrest::sm4_ctr> f(atrest::posix_file(path, atrest::open_flags::read_write), old_k.key,
                                              fresh_iv, atrest::write_mode::rewrite);
    CHECK(f.size() == 0);
    CHECK(std::filesystem::file_size(path) == 0);
    f.append(new_plain);
    bytes expect(new_plain.size());
    atrest::ctr_stream<atrest::sm4_ctr>(old_k.key, fresh_iv).apply(0, new_plain, expect);
    CHECK(read_raw(path) == expect);
    bytes back(new_plain.size());
    CHECK(f.read_at(0, back) == back.size());
    CHECK(back == new_plain);

    SECTION("a bad IV is refused before the file is truncated") {
        require_error(
            [&] {
                atrest::encrypted_file<atrest::sm4_ctr> g(atrest::posix_file(path, atrest::open_flags::read_write),
                                                          old_k.key, std::span(fresh_iv).first(12),
                                                          atrest::write_mode::rewrite);
            },
            errc::invalid_iv_size, {"sm4-ctr", "12"});
        CHECK(std::filesystem::file_size(path) == new_plain.size());
    }
    SECTION("a file that cannot be written cannot be rewritten") {
        require_error(
            [&] {
                atrest::encrypted_file<atrest::sm4_ctr, read_only_file> g(read_only_file(bytes(10)), old_k.key,
                                                                          fresh_iv, atrest::write_mode::rewrite);
            },
            errc::invalid_argument, {"read-only", "not writable"});
    }
}

TEST_CASE("short writes and I/O errors leave the high-water mark at what reached the file", "[file]") {
    std::mt19937_64 rng(17);
    const key_iv<atrest::aes128_ctr> k(rng);
    const bytes plain = random_bytes(rng, 200000);  // > 3 scratch chunks
    bytes clean(plain.size());
    atrest::ctr_stream<atrest::aes128_ctr>(k.key, k.iv).apply(0, plain, clean);
    using file_t = atrest::encrypted_file<atrest::aes128_ctr, fault_file>;

    SECTION("short writes are followed to the end") {
        for (std::size_t cap : {std::size_t{1}, std::size_t{7}, std::size_t{4096}, std::size_t{65537}}) {
            auto s = std::make_shared<fault_file::state>();
            s->max_per_write = cap;
            file_t f(fault_file(s), k.key, k.iv);
            if (cap == 1) {
                f.append(std::span(plain).first(3000));  // one byte per call: keep it small
                CHECK(s->writes == 3000);
                CHECK(s->disk == bytes(clean.begin(), clean.begin() + 3000));
            } else {
                f.append(plain);
                CHECK(s->disk == clean);
            }
            CHECK(f.size() == s->disk.size());
        }
    }
    SECTION("EIO after N bytes, then a retry, gives the bytes of an uninterrupted run") {
        for (std::size_t budget : {std::size_t{0}, std::size_t{1}, std::size_t{65535}, std::size_t{65536},
                                   std::size_t{70001}, std::size_t{199999}}) {
            for (const bool in_place : {false, true}) {
                INFO("budget " << budget << (in_place ? " in place" : " via scratch"));
                auto s = std::make_shared<fault_file::state>();
                s->budget = budget;
                s->max_per_write = 10000;  // short writes on the way to the failure too
                file_t f(fault_file(s), k.key, k.iv);
                bytes buf = plain;
                require_error([&] { in_place ? f.append_in_place(buf) : f.append(buf); }, errc::io_error,
                              {"offset " + std::to_string(budget)});
                CHECK(f.size() == budget);
                CHECK(s->disk == bytes(clean.begin(), clean.begin() + static_cast<std::ptrdiff_t>(budget)));
                CHECK(buf == plain);  // append_in_place gave the plaintext back
                s->budget = std::numeric_limits<std::size_t>::max();
                std::span<std::byte> rest = std::span(buf).subspan(static_cast<std::size_t>(f.size()));
                in_place ? f.append_in_place(rest) : f.append(rest);
                CHECK(s->disk == clean);
                CHECK(f.size() == plain.size());
            }
        }
    }
    SECTION("a file that reports nonsense counts is an error, not a hang or an overrun") {
        auto s = std::make_shared<fault_file::state>();
        file_t f(fault_file(s), k.key, k.iv);
        s->report_zero = true;
        require_error([&] { f.append(plain); }, errc::io_error, {"fault", "offset 0", "reported 0 bytes"});
        CHECK(f.size() == 0);
        s->report_zero = false;
        s->report_extra = 1;
        require_error([&] { f.append(std::span(plain).first(10)); }, errc::io_error, {"reported 11 bytes"});
        CHECK(f.size() == 0);
        s->report_extra = 0;
        s->disk.clear();  // the lying call did copy 10 bytes; a well-behaved retry rewrites them
        f.append(std::span(plain).first(10));
        CHECK(s->disk == bytes(clean.begin(), clean.begin() + 10));
    }
    SECTION("a read that reports more than the buffer is an error, not an overrun") {
        struct lying_reader {
            std::size_t read_at(std::uint64_t, std::span<std::byte> out) const { return out.size() + 1; }
            std::uint64_t size() const { return 0; }
            std::string_view name() const { return "liar"; }
        };
        const atrest::encrypted_file<atrest::aes128_ctr, lying_reader> r(lying_reader{}, k.key, k.iv);
        bytes out(5);
        require_error([&] { (void)r.read_at(3, out); }, errc::io_error, {"read of 5 bytes at offset 3", "liar", "6"});
    }
}

TEST_CASE("open_encrypted dispatches a runtime method once to the matching policy", "[file]") {
    std::mt19937_64 rng(19);
    atrest_test::temp_dir dir;
    const bytes plain = random_bytes(rng, 12345);
    for (atrest::method m : atrest::all_methods) {
        if (atrest::is_authenticated(m)) continue;  // authenticated_file_test.cpp
        INFO(atrest::to_string(m));
        const bytes key = random_bytes(rng, atrest::key_size_of(m));
        const bytes iv = random_bytes(rng, m == atrest::method::plaintext ? 0 : 16);
        const auto path = dir / std::string(atrest::to_string(m));
        const atrest::method seen = atrest::open_encrypted(
            m, atrest::posix_file(path, atrest::open_flags::create), key, iv, atrest::write_mode::append,
            [&](auto& f) {
                f.append(plain);
                return std::remove_cvref_t<decltype(f)>::policy::id;
            });
        CHECK(seen == m);
        bytes expect(plain.size());
        atrest::visit_method(m, [&]<class C>(C) {
            if constexpr (!atrest::authenticated_policy<C>) atrest::ctr_stream<C>(key, iv).apply(0, plain, expect);
        });
        CHECK(read_raw(path) == expect);
        // The file can leave the callback (e.g. into an engine's adapter object).
        auto reader = atrest::open_encrypted(m, atrest::posix_file(path), key, iv, atrest::write_mode::append,
                                             [](auto& f) -> std::function<bytes()> {
                                                 auto g = std::make_shared<std::remove_cvref_t<decltype(f)>>(std::move(f));
                                                 return [g] {
                                                     bytes out(g->size());
                                                     out.resize(g->read_at(0, out));
                                                     return out;
                                                 };
                                             });
        CHECK(reader() == plain);
    }
    const auto path = dir / "x";
    REQUIRE(atrest::posix_file(path, atrest::open_flags::create).write_at(0, plain) == plain.size());
    require_error(
        [&] {
            atrest::open_encrypted(atrest::method::unknown, atrest::posix_file(path, atrest::open_flags::read_write), {},
                                   {}, atrest::write_mode::rewrite, [](auto&) {});
        },
        errc::unknown_method, {"unknown"});
    require_error(
        [&] {
            atrest::open_encrypted(atrest::method::aes192_ctr, atrest::posix_file(path, atrest::open_flags::read_write),
                                   bytes(16), bytes(16), atrest::write_mode::rewrite, [](auto&) {});
        },
        errc::invalid_key_size, {"aes192-ctr", "24", "16"});
    CHECK(read_raw(path) == plain);  // neither failure touched the file
}

TEST_CASE("open_encrypted opens a key manager's entries, plaintext ones and unknown paths included", "[file]") {
    std::mt19937_64 rng(23);
    atrest_test::temp_dir dir;
    const bytes plain = random_bytes(rng, 5000);
    const auto write_through = [&](const atrest::file_info& info, const std::filesystem::path& path) {
        atrest::open_encrypted(info, atrest::posix_file(path, atrest::open_flags::create_exclusive),
                               atrest::write_mode::append, [&](auto& f) { f.append(plain); });
    };
    const auto read_through = [&](const atrest::file_info& info, const std::filesystem::path& path) {
        return atrest::open_encrypted(info, atrest::posix_file(path), atrest::write_mode::append, [](auto& f) {
            bytes out(f.size());
            out.resize(f.read_at(0, out));
            return out;
        });
    };
    for (atrest::method m : atrest::all_methods) {
        if (atrest::is_authenticated(m)) continue;  // authenticated_file_test.cpp
        INFO(atrest::to_string(m));
        atrest::key_manager_options options;
        options.data_encryption_method = m;
        const auto data_dir = dir / ("dir-" + std::string(atrest::to_string(m)));
        std::filesystem::create_directory(data_dir);
        atrest::key_manager<atrest::memory_master_key<>> km(
            data_dir, atrest::memory_master_key<>(atrest::secret_bytes(std::vector<std::byte>(32, std::byte{7}))), options);
        const auto info = km.new_file(data_dir / "000001.log");
        CHECK(info.encrypted() == (m != atrest::method::plaintext));
        CHECK(info.key_bytes().size() == atrest::key_size_of(m));
        CHECK(info.iv_bytes().size() == (m == atrest::method::plaintext ? 0U : 16U));
        write_through(info, data_dir / "000001.log");
        bytes expect(plain.size());
        atrest::visit_method(m, [&]<class C>(C) {
            if constexpr (!atrest::authenticated_policy<C>) {
                atrest::ctr_stream<C>(info.key_bytes(), info.iv_bytes()).apply(0, plain, expect);
            }
        });
        CHECK(read_raw(data_dir / "000001.log") == expect);
        CHECK(read_through(km.get_file(data_dir / "000001.log"), data_dir / "000001.log") == plain);
        // A file the dictionary never saw (written before encryption was turned on) reads as it is.
        REQUIRE(atrest::posix_file(data_dir / "old.sst", atrest::open_flags::create).write_at(0, plain) == plain.size());
        const auto unknown = km.get_file(data_dir / "old.sst");
        CHECK(unknown.method == atrest::method::plaintext);
        CHECK(unknown.key == nullptr);
        CHECK(read_through(unknown, data_dir / "old.sst") == plain);
    }
}

TEST_CASE("posix_file reports typed errors naming the path and offset", "[file]") {
    atrest_test::temp_dir dir;
    require_error([&] { atrest::posix_file(dir / "missing"); }, errc::not_found, {"missing"});
    const auto path = dir / "f";
    atrest::posix_file(path, atrest::open_flags::create_exclusive);
    require_error([&] { atrest::posix_file(path, atrest::open_flags::create_exclusive); }, errc::already_exists, {"f"});
    atrest::posix_file ro(path);
    const bytes one(1);
    require_error([&] { (void)ro.write_at(4096, one); }, errc::io_error, {"pwrite", "offset 4096", path.string()});
    atrest::posix_file d(dir.path());  // a directory opens read-only, but pread fails with EISDIR
    bytes out(8);
    require_error([&] { (void)d.read_at(512, out); }, errc::io_error, {"pread", "offset 512", dir.path().string()});
    atrest::posix_file rw(path, atrest::open_flags::read_write);
    CHECK(rw.write_at(3, one) == 1);
    CHECK(rw.size() == 4);
    CHECK(rw.read_at(2, out) == 2);
    rw.truncate(1);
    rw.sync();
    CHECK(rw.size() == 1);
    CHECK(rw.read_at(1, out) == 0);
}
