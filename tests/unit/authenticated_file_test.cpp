// Authenticated data files (methods aes256-gcm-stream, aes128-gcm-stream): round trips and random
// reads, the bytes against OpenSSL (HKDF and AES-GCM, independently of Botan), flush/append/reopen,
// seal numbers never repeating, tampering and truncation as typed errors naming file and offset,
// the key manager's per-file choice and its dictionary persistence, and unknown method numbers.
#include "catch.hpp"
#include "expect_error.hpp"
#include "key_manager_fixture.hpp"
#include "temp_dir.hpp"

#include <atrest/aead.hpp>
#include <atrest/dict.hpp>
#include <atrest/file.hpp>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <map>
#include <optional>
#include <random>
#include <set>
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

/// A shared in-memory disk: the test keeps looking at (and changing) the bytes after the file
/// object took its copy of the handle.
struct shared_file {
    std::shared_ptr<atrest::memory_file> f = std::make_shared<atrest::memory_file>("mem.log");
    [[nodiscard]] std::size_t read_at(std::uint64_t o, std::span<std::byte> out) const { return f->read_at(o, out); }
    [[nodiscard]] std::size_t write_at(std::uint64_t o, std::span<const std::byte> d) { return f->write_at(o, d); }
    void sync() {}
    void truncate(std::uint64_t n) { f->truncate(n); }
    [[nodiscard]] std::uint64_t size() const { return f->size(); }
    [[nodiscard]] std::string_view name() const { return f->name(); }
    [[nodiscard]] bytes& disk() const { return f->bytes(); }
};

template <class C>
using afile = atrest::authenticated_file<C, shared_file>;

/// OpenSSL's HKDF-SHA-256.
bytes openssl_hkdf(const bytes& ikm, std::span<const std::byte> salt, std::string info, std::size_t n) {
    EVP_KDF* kdf = EVP_KDF_fetch(nullptr, "HKDF", nullptr);
    EVP_KDF_CTX* ctx = EVP_KDF_CTX_new(kdf);
    std::string digest = "SHA256";
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, digest.data(), 0),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, const_cast<std::byte*>(ikm.data()), ikm.size()),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, const_cast<std::byte*>(salt.data()), salt.size()),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, info.data(), info.size()),
        OSSL_PARAM_construct_end(),
    };
    bytes out(n);
    REQUIRE(EVP_KDF_derive(ctx, reinterpret_cast<unsigned char*>(out.data()), n, params) == 1);
    EVP_KDF_CTX_free(ctx);
    EVP_KDF_free(kdf);
    return out;
}

/// OpenSSL's AES-GCM open of one segment; nullopt when the tag does not verify.
std::optional<bytes> openssl_gcm_open(const bytes& key, std::span<const std::byte> nonce, std::span<const std::byte> body,
                                      std::span<const std::byte> tag) {
    EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
    const EVP_CIPHER* cipher = key.size() == 32 ? EVP_aes_256_gcm() : EVP_aes_128_gcm();
    const auto* k = reinterpret_cast<const unsigned char*>(key.data());
    const auto* iv = reinterpret_cast<const unsigned char*>(nonce.data());
    REQUIRE(EVP_DecryptInit_ex(ctx, cipher, nullptr, k, iv) == 1);
    bytes out(body.size());
    int len = 0;
    REQUIRE(EVP_DecryptUpdate(ctx, reinterpret_cast<unsigned char*>(out.data()), &len,
                              reinterpret_cast<const unsigned char*>(body.data()), static_cast<int>(body.size())) == 1);
    bytes t(tag.begin(), tag.end());
    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, 16, t.data());
    int fin = 0;
    const bool ok = EVP_DecryptFinal_ex(ctx, reinterpret_cast<unsigned char*>(out.data()) + len, &fin) == 1;
    EVP_CIPHER_CTX_free(ctx);
    if (!ok) return std::nullopt;
    return out;
}

std::uint64_t le64(const bytes& b, std::size_t at) {
    std::uint64_t v = 0;
    for (std::size_t i = 0; i < 8; ++i) v |= std::uint64_t{std::to_integer<std::uint8_t>(b[at + i])} << (8 * i);
    return v;
}

template <class F>
void for_each_authenticated(F&& f) {
    f(atrest::aes256_gcm_stream{});
    f(atrest::aes128_gcm_stream{});
}

}  // namespace

TEST_CASE("authenticated_file round-trips random reads and appends for both methods and segment sizes", "[file][authenticated]") {
    for_each_authenticated([]<class C>(C) {
        for (std::uint32_t segment : {1024U, 4096U, 16384U, 65536U}) {
            INFO(C::name << " segment " << segment);
            std::mt19937_64 rng(segment);
            const bytes key = random_bytes(rng, C::key_size);
            const auto iv = atrest::iv_for_segment_size(segment);
            const bytes plain = random_bytes(rng, 300001);
            shared_file disk;
            {
                afile<C> f(disk, key, iv);
                CHECK(f.size() == 0);
                for (std::size_t done = 0; done < plain.size();) {
                    const std::size_t n = std::min<std::size_t>(plain.size() - done, rng() % 9000);
                    f.append(std::span(plain).subspan(done, n));
                    done += n;
                    if (rng() % 4 == 0) f.flush();
                }
                f.sync();
                CHECK(f.size() == plain.size());
                CHECK(disk.size() == f.physical_size());
                CHECK(disk.size() == atrest::file_stream::layout<typename C::aead>({segment}).cipher_size(plain.size()));
            }
            CHECK(atrest::authenticated_logical_size(iv, disk.size(), "x") == plain.size());
            const afile<C> r(disk, key, iv);
            REQUIRE(r.size() == plain.size());
            for (int i = 0; i < 200; ++i) {
                const std::uint64_t off = rng() % (plain.size() + 10);
                bytes out(rng() % 40000);
                const std::size_t n = r.read_at(off, out);
                const std::size_t want = off >= plain.size() ? 0 : std::min<std::size_t>(out.size(), plain.size() - off);
                REQUIRE(n == want);
                REQUIRE(std::equal(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(n),
                                   plain.begin() + static_cast<std::ptrdiff_t>(std::min<std::uint64_t>(off, plain.size()))));
            }
            r.verify();
        }
    });
}

TEST_CASE("authenticated_file bytes open with OpenSSL's HKDF and AES-GCM", "[file][authenticated]") {
    for_each_authenticated([]<class C>(C) {
        INFO(C::name);
        std::mt19937_64 rng(5);
        const bytes key = random_bytes(rng, C::key_size);
        const std::uint32_t segment = 4096;
        const bytes plain = random_bytes(rng, 10000);
        shared_file disk;
        {
            afile<C> f(disk, key, atrest::iv_for_segment_size(segment));
            f.append(plain);
            f.flush();
        }
        const bytes& d = disk.disk();
        REQUIRE(std::to_integer<int>(d[0]) == 1);
        const std::span<const std::byte> salt(d.data() + 1, 32);
        const bytes file_key = openssl_hkdf(key, salt, "atrest data file " + std::string(C::aead::name), C::aead::key_size);
        const auto layout = atrest::file_stream::layout<typename C::aead>({segment});
        bytes got;
        const std::uint64_t segments = layout.segment_count(plain.size());
        for (std::uint64_t i = 0; i < segments; ++i) {
            const auto start = static_cast<std::size_t>(layout.cipher_start(i));
            const auto body = static_cast<std::size_t>(
                i + 1 < segments ? layout.capacity_of(i) : plain.size() - layout.plain_start(i));
            const std::uint64_t seal = le64(d, start);
            CHECK(((seal >> 63) == 1) == (i + 1 == segments));  // only the last is final
            bytes nonce(12);
            for (std::size_t b = 0; b < 4; ++b) nonce[b] = std::byte{static_cast<std::uint8_t>(i >> (8 * b))};
            std::memcpy(nonce.data() + 4, d.data() + start, 8);
            const auto opened = openssl_gcm_open(file_key, nonce, std::span(d).subspan(start + 8, body),
                                                 std::span(d).subspan(start + 8 + body, 16));
            REQUIRE(opened.has_value());
            got.insert(got.end(), opened->begin(), opened->end());
        }
        CHECK(got == plain);
    });
}

TEST_CASE("authenticated_file: flushed bytes survive reopening, appends continue, seal numbers never repeat", "[file][authenticated]") {
    std::mt19937_64 rng(11);
    const bytes key = random_bytes(rng, 32);
    const auto iv = atrest::iv_for_segment_size(1024);
    const bytes plain = random_bytes(rng, 5000);
    shared_file disk;
    std::set<std::pair<std::uint64_t, std::uint64_t>> nonces;  // (segment, seal field) of every seal seen on disk
    std::map<std::pair<std::uint64_t, std::uint64_t>, bytes> sealed;
    const auto layout = atrest::file_stream::layout<atrest::aes256_gcm>({1024});
    const auto record = [&] {
        const bytes& d = disk.disk();
        const auto parsed = layout.from_cipher_size(d.size());
        REQUIRE(parsed);
        for (std::uint64_t i = 0; i < parsed->segments; ++i) {
            const auto start = static_cast<std::size_t>(layout.cipher_start(i));
            const auto end = std::min<std::size_t>(d.size(), static_cast<std::size_t>(layout.cipher_start(i + 1)));
            const bytes seg(d.begin() + static_cast<std::ptrdiff_t>(start), d.begin() + static_cast<std::ptrdiff_t>(end));
            const auto id = std::make_pair(i, le64(d, start));
            const auto [it, fresh] = sealed.emplace(id, seg);
            REQUIRE((fresh || it->second == seg));  // one nonce, one ciphertext
        }
    };
    std::size_t done = 0;
    for (int round = 0; round < 12; ++round) {
        atrest::authenticated_file<atrest::aes256_gcm_stream, shared_file> f(disk, key, iv);
        REQUIRE(f.size() == done);
        for (int k = 0; k < 3 && done < plain.size(); ++k) {
            const std::size_t n = std::min<std::size_t>(plain.size() - done, 1 + rng() % 700);
            f.append(std::span(plain).subspan(done, n));
            done += n;
            f.flush();
            record();
            // Another reader sees exactly what was flushed.
            const atrest::authenticated_file<atrest::aes256_gcm_stream, shared_file> r(disk, key, iv);
            bytes out(done);
            REQUIRE(r.read_at(0, out) == done);
            REQUIRE(std::equal(out.begin(), out.end(), plain.begin()));
        }
    }
    CHECK(sealed.size() > 12);
}

TEST_CASE("authenticated_file refuses changed, cut, moved and foreign bytes with typed errors", "[file][authenticated]") {
    std::mt19937_64 rng(13);
    const bytes key = random_bytes(rng, 32);
    const auto iv = atrest::iv_for_segment_size(1024);
    const bytes plain = random_bytes(rng, 4000);
    using F = atrest::authenticated_file<atrest::aes256_gcm_stream, shared_file>;
    shared_file good;
    {
        F f(good, key, iv);
        f.append(plain);
        f.sync();
    }
    const bytes original = good.disk();
    const auto read_all = [&](const shared_file& disk, const bytes& k = {}) {
        const F r(disk, k.empty() ? key : k, iv);
        bytes out(plain.size());
        (void)r.read_at(0, out);
        return out;
    };
    REQUIRE(read_all(good) == plain);
    const auto layout = atrest::file_stream::layout<atrest::aes256_gcm>({1024});
    // A flipped bit in the salt, a seal field, a body and a tag: all integrity errors naming the segment.
    for (std::size_t at : {std::size_t{5}, std::size_t{33}, std::size_t{500}, std::size_t{1030},
                           static_cast<std::size_t>(layout.cipher_start(2) + 3), original.size() - 1}) {
        INFO("byte " << at);
        shared_file bad;
        bad.disk() = original;
        bad.disk()[at] ^= std::byte{0x10};
        require_error([&] { (void)read_all(bad); }, errc::integrity, {"mem.log", "segment", "ciphertext bytes"});
    }
    {  // the version byte
        shared_file bad;
        bad.disk() = original;
        bad.disk()[0] = std::byte{2};
        require_error([&] { (void)read_all(bad); }, errc::unknown_version, {"mem.log", "version 2"});
    }
    {  // cut at a segment boundary: the last segment is not final
        shared_file bad;
        bad.disk() = original;
        bad.disk().resize(static_cast<std::size_t>(layout.cipher_start(2)));
        require_error([&] { (void)read_all(bad); }, errc::truncated, {"mem.log", "segment 1", "final segment is missing"});
    }
    {  // cut 5 bytes into a segment (inside its seal field): no file of this segment size ends there
        shared_file bad;
        bad.disk() = original;
        const auto at = static_cast<std::size_t>(layout.cipher_start(4) + 5);
        bad.disk().resize(at);
        require_error([&] { (void)read_all(bad); }, errc::truncated, {"mem.log", std::to_string(at)});
    }
    {  // cut inside the last segment's body: the tag no longer matches
        shared_file bad;
        bad.disk() = original;
        bad.disk().resize(original.size() - 5);
        require_error([&] { (void)read_all(bad); }, errc::integrity, {"mem.log", "segment 4"});
    }
    {  // two segments swapped
        shared_file bad;
        bad.disk() = original;
        const auto s1 = static_cast<std::ptrdiff_t>(layout.cipher_start(1));
        const auto s2 = static_cast<std::ptrdiff_t>(layout.cipher_start(2));
        const auto s3 = static_cast<std::ptrdiff_t>(layout.cipher_start(3));
        std::swap_ranges(bad.disk().begin() + s1, bad.disk().begin() + s2, bad.disk().begin() + s2);
        (void)s3;
        require_error([&] { (void)read_all(bad); }, errc::integrity, {"mem.log", "segment 1"});
    }
    // The wrong data key, and another file's segment spliced in.
    require_error([&] { (void)read_all(good, random_bytes(rng, 32)); }, errc::integrity, {"mem.log", "segment"});
    {
        shared_file other;
        {
            F f(other, key, iv);
            f.append(plain);
            f.sync();
        }
        shared_file bad;
        bad.disk() = original;
        const auto s1 = static_cast<std::size_t>(layout.cipher_start(1));
        std::memcpy(bad.disk().data() + s1, other.disk().data() + s1, 1024);
        require_error([&] { (void)read_all(bad); }, errc::integrity, {"mem.log", "segment 1"});
    }
    // Appending a full segment without a flush leaves no final segment: truncated, never data.
    {
        shared_file crashed;
        crashed.disk() = original;
        F f(crashed, key, iv);
        f.append(random_bytes(rng, 3000));
        const bytes on_disk = crashed.disk();
        shared_file copy;
        copy.disk() = on_disk;
        require_error([&] { (void)read_all(copy); }, errc::truncated, {"mem.log", "final segment is missing"});
    }
    // Sizes and writes an authenticated file refuses.
    require_error([&] { F f(shared_file{}, bytes(16), iv); }, errc::invalid_key_size, {"32", "16"});
    require_error([&] { F f(shared_file{}, key, atrest::iv_for_segment_size(512)); }, errc::invalid_argument, {"512"});
    require_error([&] { F f(shared_file{}, key, bytes(16, std::byte{1})); }, errc::corrupt, {"segment size"});
    {
        shared_file d;
        F f(d, key, iv);
        f.append(plain);
        require_error([&] { f.write_at(3, plain); }, errc::invalid_argument, {"mem.log", "appending"});
        require_error([&] { f.truncate(10); }, errc::unsupported, {"mem.log", "cannot be cut"});
        f.truncate(plain.size());
        CHECK(d.size() == f.physical_size());
    }
}

TEST_CASE("The key manager gives logs or every file an authenticated method, kept in the dictionary", "[file][authenticated][dict]") {
    atrest_test::temp_dir dir;
    std::mt19937_64 rng(17);
    const bytes plain = random_bytes(rng, 70000);
    for (const auto rule : {atrest::authenticated_files::logs, atrest::authenticated_files::all}) {
        for (const auto m : {atrest::method::aes128_ctr, atrest::method::aes192_ctr, atrest::method::aes256_ctr,
                             atrest::method::sm4_ctr}) {
            INFO(atrest::to_string(m) << " rule " << static_cast<int>(rule));
            const auto data = dir / (std::string(atrest::to_string(m)) + std::to_string(static_cast<int>(rule)));
            auto o = atrest_test::encrypted(m);
            o.authenticated_files = rule;
            o.authenticated_log_segment_size = 2048;
            o.authenticated_segment_size = 8192;
            const auto want = atrest::authenticated_counterpart(m);
            {
                atrest::key_manager<atrest::memory_master_key<>> km(data, atrest_test::master(1), o);
                for (const char* name : {"000007.log", "MANIFEST-000005", "000009.sst"}) {
                    auto f = km.create(data / name);
                    f.append(plain);
                    f.sync();
                    CHECK(f.size() == plain.size());
                }
                const auto log = km.get_file(data / "000007.log");
                CHECK(log.method == want);
                CHECK(atrest::segment_size_of_iv(log.iv) == 2048);
                CHECK(km.get_file(data / "MANIFEST-000005").method == want);
                const auto sst = km.get_file(data / "000009.sst");
                CHECK(sst.method == (rule == atrest::authenticated_files::all ? want : m));
                if (rule == atrest::authenticated_files::all) CHECK(atrest::segment_size_of_iv(sst.iv) == 8192);
            }
            // Reopened: the entries (method and segment size) came back from the dictionary.
            atrest::key_manager<atrest::memory_master_key<>> km(data, atrest_test::master(1), o);
            CHECK(km.get_file(data / "000007.log").method == want);
            for (const char* name : {"000007.log", "MANIFEST-000005", "000009.sst"}) {
                auto f = km.open(data / name, atrest::access::append);
                CHECK(f.size() == plain.size());
                f.append(std::string_view("tail"));
                f.sync();
                bytes out(plain.size() + 4);
                REQUIRE(f.read(0, out) == out.size());
                CHECK(std::equal(plain.begin(), plain.end(), out.begin()));
                if (atrest::is_authenticated(f.method())) {
                    CHECK(f.physical_size() > f.size());
                    CHECK(std::filesystem::file_size(data / name) == f.physical_size());
                } else {
                    CHECK(f.physical_size() == f.size());
                }
            }
        }
    }
    // An authenticated data-encryption-method makes every file authenticated.
    const auto data = dir / "all-stream";
    atrest::key_manager<atrest::memory_master_key<>> km(data, atrest_test::master(1),
                                                         atrest_test::encrypted(atrest::method::aes256_gcm_stream));
    CHECK(km.new_file(data / "000001.sst").method == atrest::method::aes256_gcm_stream);
    CHECK(km.data_keys().front().key->size() == 32);
    // A segment size out of range is refused at open.
    auto bad = atrest_test::encrypted(atrest::method::aes256_ctr);
    bad.authenticated_files = atrest::authenticated_files::logs;
    bad.authenticated_log_segment_size = 100;
    require_error([&] { atrest::key_manager<atrest::memory_master_key<>> k(dir / "bad", atrest_test::master(1), bad); },
                  errc::invalid_argument, {"100"});
}

TEST_CASE("Authenticated method numbers: names, dispatch, and unknown numbers as typed errors", "[file][authenticated][cipher]") {
    CHECK(atrest::parse_method("aes256-gcm-stream") == atrest::method::aes256_gcm_stream);
    CHECK(atrest::parse_method("aes128-gcm-stream") == atrest::method::aes128_gcm_stream);
    CHECK(atrest::method_from_byte(128, "x") == atrest::method::aes256_gcm_stream);
    CHECK(atrest::method_from_byte(129, "x") == atrest::method::aes128_gcm_stream);
    for (int b : {6, 127, 130, 255}) {
        require_error([&] { (void)atrest::method_from_byte(static_cast<std::uint8_t>(b), "file.dict"); },
                      errc::unknown_method, {std::to_string(b), "file.dict"});
        require_error(
            [&] {
                atrest::open_encrypted(static_cast<atrest::method>(b), atrest::memory_file(), {}, {},
                                       atrest::write_mode::append, [](auto&) {});
            },
            errc::unknown_method, {std::to_string(b)});
    }
    CHECK(atrest::is_authenticated(atrest::method::aes128_gcm_stream));
    CHECK_FALSE(atrest::is_authenticated(atrest::method::aes128_ctr));
    CHECK_FALSE(atrest::is_authenticated(static_cast<atrest::method>(200)));
    CHECK(atrest::authenticated_counterpart(atrest::method::aes192_ctr) == atrest::method::aes128_gcm_stream);
    CHECK(atrest::authenticated_counterpart(atrest::method::plaintext) == atrest::method::plaintext);
    // open_encrypted hands a generic callback an authenticated_file for these methods.
    std::mt19937_64 rng(3);
    const bytes key = random_bytes(rng, 32);
    const auto iv = atrest::iv_for_segment_size(4096);
    atrest::memory_file mem("m");
    const auto size = atrest::open_encrypted(atrest::method::aes256_gcm_stream, std::move(mem), key, iv,
                                             atrest::write_mode::append, [](auto& f) {
                                                 f.append(std::as_bytes(std::span("hello", 5)));
                                                 f.flush();
                                                 return f.physical_size();
                                             });
    CHECK(size == 33 + 8 + 5 + 16);
}
