// The object layer (MinIO's design): known answers for the key-encryption key, the sealed key and
// the part keys (computed with Python's hmac and the `cryptography` package's AES-GCM and
// ChaCha20-Poly1305, and MinIO's own DerivePartKey vectors); seal/unseal/reseal round trips for
// SSE-C and SSE-S3; every error path (wrong key, moved object, changed metadata, changed object,
// other algorithm or SSE type) a typed error naming the object; the metadata's header map and
// text file; objects read at any range, decrypting only the packages a range touches.
#include "aead_support.hpp"
#include "catch.hpp"
#include "expect_error.hpp"
#include "hex.hpp"

#include <atrest/master_key.hpp>
#include <atrest/object.hpp>

#include <algorithm>
#include <set>
#include <string>
#include <vector>

using namespace atrest_test;
using atrest::errc;

namespace {

std::vector<std::byte> range_bytes(int from, int n) {
    std::vector<std::byte> out;
    for (int i = 0; i < n; ++i) out.push_back(static_cast<std::byte>(from + i));
    return out;
}

template <std::size_t N>
std::array<std::byte, N> array_of(const std::vector<std::byte>& v) {
    REQUIRE(v.size() == N);
    std::array<std::byte, N> a{};
    std::copy(v.begin(), v.end(), a.begin());
    return a;
}

std::string hex(std::span<const std::byte> b) { return to_hex(b.data(), b.size()); }

atrest::kms_data_key<atrest::memory_master_key<>> s3_key(int seed) {
    return atrest::kms_data_key<atrest::memory_master_key<>>(
        atrest::memory_master_key<>(atrest::secret_bytes(range_bytes(seed, 32)), "master key " + std::to_string(seed)));
}

/// An object written through `sealed_object_writer` into memory.
struct stored_object {
    atrest::memory_file data;
    atrest::object_metadata metadata;
};

template <class K>
stored_object put(K& key, std::string_view bucket, std::string_view object, std::span<const std::byte> plain) {
    auto w = atrest::sealed_object_writer<atrest::memory_file>::create(atrest::memory_file(std::string(object)), key,
                                                                        bucket, object);
    w.append(plain);
    w.finish();
    return {w.file(), w.metadata()};
}

}  // namespace

TEST_CASE("object keys: KEK and sealed key known answers for SSE-C, SSE-S3 and SSE-KMS", "[object]") {
    const auto ext = range_bytes(0x00, 32);
    const auto iv = array_of<32>(range_bytes(0x20, 32));
    const auto key = atrest::object_key::from_bytes(range_bytes(0x40, 32));
    const atrest::dare::options fixed{0, array_of<12>(range_bytes(0x60, 12))};
    struct vector {
        atrest::sse_type domain;
        const char* path;
        const char* kek;
        const char* sealed;
    };
    const vector vectors[] = {
        {atrest::sse_type::sse_c, "bucket/object", "e4e5f91e95dd73efa37ad9196cdfe4103fd02a52d9bce39212deb636614c98ed",
         "20001f00e06162636465666768696a6bdf0cc750bff2f2456f326c4eeff545072b4ad33307207107da4ad58cde216f8388ec6b8d7071b4371a895508bd0e7026"},
        {atrest::sse_type::sse_s3, "bucket/object", "a7c8e14b39d75f68f345a3f6e2c41640e577152735061be6acf048ec953ea234",
         "20001f00e06162636465666768696a6b600dadc6343678b5e50e1f271701e7a0854ae5895349cf43054e554b46eb971a94b87d07c573d910fa3933db643ee646"},
        {atrest::sse_type::sse_kms, "my-bucket/a/b.txt", "1c53b7f3bb9294058fbd559004f050e01c3bbc3c100814aa93c9fe1098378e4e",
         "20001f00e06162636465666768696a6bc2cf0bb1d1bc6a56defd7ee79ddb78df7e420fcdbf7efdc1ffcb7f2f06fb64ab23a742a5120cd25f8e44b01b88c1a30a"},
    };
    for (const auto& v : vectors) {
        INFO(atrest::domain_of(v.domain) << " " << v.path);
        CHECK(hex(atrest::object_key::key_encryption_key(ext, iv, v.domain, v.path).bytes()) == v.kek);
        const auto sealed = key.seal(ext, iv, v.domain, v.path, fixed);
        CHECK(hex(sealed.key) == v.sealed);
        CHECK(sealed.iv == iv);
        CHECK(sealed.algorithm == "DAREv2-HMAC-SHA256");
        const auto opened = atrest::object_key::unseal(ext, sealed, v.domain, v.path);
        REQUIRE(opened.has_value());
        CHECK(hex(opened->bytes()) == hex(key.bytes()));
    }
    // sio seals with ChaCha20-Poly1305 where AES has no hardware support: such a key opens too.
    atrest::sealed_key chacha;
    chacha.key = array_of<64>(from_hex(
        "20011f00e06162636465666768696a6bc483188d0c186a7add6ddd015a9db7e24eedc9f5cbc48637ade5620c12811bf1119fe704239250ba965e84849c518dba"));
    chacha.iv = iv;
    const auto opened = atrest::object_key::unseal(ext, chacha, atrest::sse_type::sse_c, "bucket/object");
    REQUIRE(opened.has_value());
    CHECK(hex(opened->bytes()) == hex(key.bytes()));
}

TEST_CASE("object keys: what MinIO's Unseal refuses, and part keys as MinIO derives them", "[object]") {
    const auto ext = range_bytes(0x00, 32);
    const auto iv = array_of<32>(range_bytes(0x20, 32));
    const auto key = atrest::object_key::generate(ext);
    CHECK(key.bytes().size() == 32);
    CHECK(hex(atrest::object_key::generate(ext).bytes()) != hex(key.bytes()));  // a fresh nonce each time
    const auto sealed = key.seal(ext, iv, atrest::sse_type::sse_c, "bucket/object");
    // MinIO's key_test.go cases: another external key, domain, bucket or object does not open.
    auto other = ext;
    other[0] ^= std::byte{1};
    CHECK_FALSE(atrest::object_key::unseal(other, sealed, atrest::sse_type::sse_c, "bucket/object"));
    CHECK_FALSE(atrest::object_key::unseal(ext, sealed, atrest::sse_type::sse_s3, "bucket/object"));
    CHECK_FALSE(atrest::object_key::unseal(ext, sealed, atrest::sse_type::sse_c, "Bucket/object"));
    CHECK_FALSE(atrest::object_key::unseal(ext, sealed, atrest::sse_type::sse_c, "bucket/Object"));
    CHECK_FALSE(atrest::object_key::unseal(std::span(ext).first(16), sealed, atrest::sse_type::sse_c, "bucket/object"));
    for (std::size_t bit = 0; bit < 64 * 8; ++bit) {
        auto changed = sealed;
        changed.key[bit / 8] ^= std::byte(1u << (bit % 8));
        INFO("bit " << bit);
        CHECK_FALSE(atrest::object_key::unseal(ext, changed, atrest::sse_type::sse_c, "bucket/object"));
    }
    auto legacy = sealed;
    legacy.algorithm = "DARE-SHA256";  // MinIO's InsecureSealAlgorithm
    require_error([&] { (void)atrest::object_key::unseal(ext, legacy, atrest::sse_type::sse_c, "bucket/object"); },
                  errc::unsupported, {"DARE-SHA256", "bucket/object"});
    require_error([&] { (void)key.seal(std::span(ext).first(31), iv, atrest::sse_type::sse_c, "b/o"); }, errc::invalid_key_size,
                  {"31"});
    // internal/crypto/key_test.go, TestDerivePartKey: the zero object key's part keys.
    const auto zero = atrest::object_key::from_bytes(std::vector<std::byte>(32));
    CHECK(hex(zero.derive_part_key(0).bytes()) == "aa7855e13839dd767cd5da7c1ff5036540c9264b7a803029315e55375287b4af");
    CHECK(hex(zero.derive_part_key(1).bytes()) == "a3e7181c6eed030fd52f79537c56c4d07da92e56d374ff1dd2043350785b37d8");
    CHECK(hex(zero.derive_part_key(10000).bytes()) == "f86e65c396ed52d204ee44bd1a0bbd86eb8b01b7354e67a3b3ae0e34dd5bd115");
    // Our key check (salt || HMAC-SHA256(key, "atrest-object-key-check" || salt)[0..16]).
    const auto salt = array_of<16>(range_bytes(0x70, 16));
    CHECK(hex(atrest::detail::key_check(ext, salt)) == "707172737475767778797a7b7c7d7e7f81026e53909e286ca7fe35a7e9924670");
}

TEST_CASE("object names are bucket/object exactly, names path.Join would rewrite are refused", "[object]") {
    CHECK(atrest::object_path("bucket", "object") == "bucket/object");
    CHECK(atrest::object_path("b", "dir/sub/file.txt") == "b/dir/sub/file.txt");
    for (const auto& [bucket, object] : std::vector<std::pair<std::string, std::string>>{
             {"", "o"}, {"b", ""}, {"a/b", "o"}, {".", "o"}, {"..", "o"}, {"b", "/o"}, {"b", "o/"}, {"b", "a//o"},
             {"b", "./o"}, {"b", "a/../o"}, {"b", ".."}, {"b", std::string("o\0x", 3)}}) {
        INFO(bucket << " " << object);
        require_error([&] { (void)atrest::object_path(bucket, object); }, errc::invalid_argument, {"object name"});
    }
}

TEST_CASE("SSE-C: round trip, a wrong client key, a moved object and changed metadata are typed errors", "[object]") {
    atrest::client_key right(range_bytes(1, 32));
    atrest::client_key wrong(range_bytes(2, 32));
    const auto key = atrest::object_key::generate(range_bytes(1, 32));
    const auto m = atrest::seal_object_key(right, key, "photos", "2024/cat.jpg");
    CHECK(m.type == atrest::sse_type::sse_c);
    CHECK(m.path == "photos/2024/cat.jpg");
    CHECK(m.key_id.empty());
    CHECK(m.sealed_data_key.empty());
    CHECK(hex(atrest::unseal_object_key(right, m, "photos", "2024/cat.jpg").bytes()) == hex(key.bytes()));

    require_error([&] { (void)atrest::unseal_object_key(wrong, m, "photos", "2024/cat.jpg"); }, errc::wrong_key,
                  {"object 'photos/2024/cat.jpg'", "client key is not the one"});
    require_error([&] { (void)atrest::unseal_object_key(right, m, "photos", "2024/dog.jpg"); }, errc::tampered,
                  {"object 'photos/2024/dog.jpg'", "sealed for 'photos/2024/cat.jpg'", "moved"});
    require_error([&] { (void)atrest::unseal_object_key(right, m, "backup", "2024/cat.jpg"); }, errc::tampered,
                  {"object 'backup/2024/cat.jpg'", "moved"});
    // The recorded name changed to match the move: the sealed key is bound to the real one.
    auto renamed = m;
    renamed.path = "photos/2024/dog.jpg";
    require_error([&] { (void)atrest::unseal_object_key(right, renamed, "photos", "2024/dog.jpg"); }, errc::tampered,
                  {"object 'photos/2024/dog.jpg'", "metadata", "changed"});
    auto iv = m;
    iv.sealed.iv[5] ^= std::byte{0x10};
    require_error([&] { (void)atrest::unseal_object_key(right, iv, "photos", "2024/cat.jpg"); }, errc::tampered,
                  {"photos/2024/cat.jpg", "changed"});
    auto sealed = m;
    sealed.sealed.key[40] ^= std::byte{0x01};
    require_error([&] { (void)atrest::unseal_object_key(right, sealed, "photos", "2024/cat.jpg"); }, errc::tampered,
                  {"photos/2024/cat.jpg", "changed"});
    auto check = m;
    (*check.key_check)[20] ^= std::byte{0x01};
    require_error([&] { (void)atrest::unseal_object_key(right, check, "photos", "2024/cat.jpg"); }, errc::wrong_key,
                  {"photos/2024/cat.jpg"});
    auto algorithm = m;
    algorithm.sealed.algorithm = "DARE-SHA256";
    require_error([&] { (void)atrest::unseal_object_key(right, algorithm, "photos", "2024/cat.jpg"); }, errc::unsupported,
                  {"photos/2024/cat.jpg", "DARE-SHA256"});
    auto s3 = s3_key(9);
    require_error([&] { (void)atrest::unseal_object_key(s3, m, "photos", "2024/cat.jpg"); }, errc::wrong_key,
                  {"photos/2024/cat.jpg", "SSE-C", "not SSE-S3"});

    // MinIO's own metadata has neither the name nor a key check: every failure is then one error.
    auto minio = m;
    minio.path.clear();
    minio.key_check.reset();
    CHECK(hex(atrest::unseal_object_key(right, minio, "photos", "2024/cat.jpg").bytes()) == hex(key.bytes()));
    require_error([&] { (void)atrest::unseal_object_key(wrong, minio, "photos", "2024/cat.jpg"); }, errc::wrong_key,
                  {"photos/2024/cat.jpg", "wrong key", "moved"});
    require_error([&] { (void)atrest::unseal_object_key(right, minio, "photos", "2024/dog.jpg"); }, errc::wrong_key,
                  {"photos/2024/dog.jpg"});

    require_error([&] { atrest::client_key short_key(range_bytes(0, 16)); }, errc::invalid_key_size, {"32", "16"});
}

TEST_CASE("SSE-S3: a data key per object sealed by a master key, rotation re-seals only the key", "[object]") {
    auto old_master = s3_key(10);
    auto new_master = s3_key(11);
    const auto plain = test_bytes(150000, 3);
    auto obj = put(old_master, "logs", "day-1", plain);
    const auto& m = obj.metadata;
    CHECK(m.type == atrest::sse_type::sse_s3);
    CHECK(m.key_id == "master key 10");
    CHECK_FALSE(m.sealed_data_key.empty());
    {
        atrest::sealed_object_reader<atrest::memory_file> r(obj.data, old_master, m, "logs", "day-1");
        REQUIRE(r.size() == plain.size());
        std::vector<std::byte> back(plain.size());
        CHECK(r.read_at(0, back) == plain.size());
        CHECK(back == plain);
    }
    require_error([&] { atrest::sealed_object_reader<atrest::memory_file> r(obj.data, new_master, m, "logs", "day-1"); },
                  errc::wrong_key, {"object 'logs/day-1'", "master key 10", "master key 11"});
    require_error([&] { atrest::sealed_object_reader<atrest::memory_file> r(obj.data, old_master, m, "logs", "day-2"); },
                  errc::tampered, {"object 'logs/day-2'", "sealed for 'logs/day-1'"});
    // The data key is bound to the name through the master key's associated data too.
    auto renamed = m;
    renamed.path = "logs/day-2";
    require_error([&] { (void)atrest::unseal_object_key(old_master, renamed, "logs", "day-2"); }, errc::wrong_key,
                  {"object 'logs/day-2'"});

    // Rotation: the same object key under a new master key; the object's bytes stay as they are.
    const auto before = obj.data.bytes();
    const auto rotated = atrest::reseal_object_key(old_master, new_master, m, "logs", "day-1");
    CHECK(rotated.key_id == "master key 11");
    CHECK(rotated.sealed.iv != m.sealed.iv);
    CHECK(hex(atrest::unseal_object_key(new_master, rotated, "logs", "day-1").bytes()) ==
          hex(atrest::unseal_object_key(old_master, m, "logs", "day-1").bytes()));
    require_error([&] { (void)atrest::unseal_object_key(old_master, rotated, "logs", "day-1"); }, errc::wrong_key,
                  {"logs/day-1"});
    atrest::sealed_object_reader<atrest::memory_file> r(obj.data, new_master, rotated, "logs", "day-1");
    r.verify();
    CHECK(obj.data.bytes() == before);

    // SSE-C <-> SSE-S3 rotation works the same way.
    atrest::client_key client(range_bytes(5, 32));
    const auto as_c = atrest::reseal_object_key(new_master, client, rotated, "logs", "day-1");
    CHECK(as_c.type == atrest::sse_type::sse_c);
    atrest::sealed_object_reader<atrest::memory_file>(obj.data, client, as_c, "logs", "day-1").verify();

    // A source that protects nothing is refused for SSE-S3.
    atrest::kms_data_key<atrest::plaintext_master_key> none(atrest::plaintext_master_key{});
    require_error([&] { (void)put(none, "b", "o", plain); }, errc::insecure, {"object 'b/o'"});
    require_error([&] { atrest::kms_data_key<atrest::plaintext_master_key> c(atrest::plaintext_master_key{}, atrest::sse_type::sse_c); },
                  errc::invalid_argument, {"SSE-C"});
    auto kms = atrest::kms_data_key<atrest::memory_master_key<>>(
        atrest::memory_master_key<>(atrest::secret_bytes(range_bytes(3, 32))), atrest::sse_type::sse_kms);
    const auto km = atrest::seal_object_key(kms, atrest::object_key::generate(range_bytes(0, 32)), "b", "o");
    CHECK(km.to_headers().count("X-Minio-Internal-Server-Side-Encryption-Kms-Sealed-Key") == 1);
    (void)atrest::unseal_object_key(kms, km, "b", "o");
}

TEST_CASE("object data: range reads decrypt only the touched packages, a changed object names it", "[object]") {
    atrest::client_key key(range_bytes(7, 32));
    for (const std::size_t size : {std::size_t{0}, std::size_t{1}, std::size_t{65535}, std::size_t{65536}, std::size_t{65537},
                                   std::size_t{3 * 65536 + 100}}) {
        INFO("size " << size);
        const auto plain = test_bytes(size, static_cast<std::uint32_t>(size));
        auto obj = put(key, "b", "o", plain);
        CHECK(obj.data.size() == atrest::dare::layout<atrest::aes256_gcm>({}).cipher_size(size));
        atrest::sealed_object_reader<atrest::memory_file> r(obj.data, key, obj.metadata, "b", "o");
        REQUIRE(r.size() == size);
        r.verify();
        if (size > 70000) {
            std::vector<std::byte> out(100);
            const std::uint64_t at = 2 * 65536 + 10;
            // Through a counting file: after the open (the final package), only package 2 is read.
            atrest::sealed_object_reader<counting_file> c(counting_file(obj.data), key, obj.metadata, "b", "o");
            c.file().reads().clear();
            CHECK(c.read_at(at, out) == out.size());
            CHECK(std::equal(out.begin(), out.end(), plain.begin() + static_cast<std::ptrdiff_t>(at)));
            for (const auto& [offset, n] : c.file().reads()) {
                CHECK(offset >= 2 * atrest::dare::package_size);
                CHECK(offset + n <= 3 * atrest::dare::package_size);
            }
            CHECK_FALSE(c.file().reads().empty());
        }
        if (size == 0) continue;
        for (const std::size_t at : {std::size_t{0}, std::size_t{3}, std::size_t{20}, obj.data.bytes().size() - 1}) {
            auto changed = obj.data;
            changed.bytes()[at] ^= std::byte{0x04};
            INFO("flipped byte " << at);
            const auto e = expect_error([&] {
                atrest::sealed_object_reader<atrest::memory_file> t(changed, key, obj.metadata, "b", "o");
                t.verify();
            });
            CHECK(std::string_view(e.what()).find("object 'b/o'") != std::string_view::npos);
            CHECK((e.kind() == errc::integrity || e.kind() == errc::unknown_version || e.kind() == errc::unsupported ||
                   e.kind() == errc::truncated));
        }
    }
}

TEST_CASE("object metadata: MinIO's header names and sizes, the text file, and every malformed entry", "[object]") {
    atrest::client_key key(range_bytes(1, 32));
    const auto m = atrest::seal_object_key(key, atrest::object_key::generate(range_bytes(1, 32)), "b", "o");
    const auto h = m.to_headers();
    CHECK(h.at("X-Minio-Internal-Server-Side-Encryption-Seal-Algorithm") == "DAREv2-HMAC-SHA256");
    CHECK(h.at("X-Minio-Internal-Server-Side-Encryption-Iv").size() == 44);          // base64 of 32 bytes
    CHECK(h.at("X-Minio-Internal-Server-Side-Encryption-Sealed-Key").size() == 88);  // base64 of 64 bytes
    CHECK(h.at("X-Atrest-Object-Path") == "b/o");
    CHECK(h.at("X-Atrest-Key-Check").size() == 44);
    CHECK(h.size() == 5);
    const auto text = m.to_text();
    CHECK(text.starts_with("atrest-object-metadata 1\nX-Atrest-Key-Check: "));
    const auto back = atrest::object_metadata::from_text(text, "o.meta");
    CHECK(back.to_text() == text);
    CHECK(hex(atrest::unseal_object_key(key, back, "b", "o").bytes()) == hex(atrest::unseal_object_key(key, m, "b", "o").bytes()));

    auto s3 = s3_key(4);
    const auto m3 = atrest::seal_object_key(s3, atrest::object_key::generate(range_bytes(1, 32)), "b", "o");
    const auto h3 = m3.to_headers();
    CHECK(h3.count("X-Minio-Internal-Server-Side-Encryption-S3-Sealed-Key") == 1);
    CHECK(h3.at("X-Minio-Internal-Server-Side-Encryption-S3-Kms-Key-Id") == "master key 4");
    CHECK(h3.count("X-Minio-Internal-Server-Side-Encryption-S3-Kms-Sealed-Key") == 1);
    CHECK(atrest::object_metadata::from_text(m3.to_text(), "m3").to_text() == m3.to_text());

    const auto replaced = [&](const std::string& from, const std::string& to) {
        auto t = text;
        const auto at = t.find(from);
        REQUIRE(at != std::string::npos);
        t.replace(at, from.size(), to);
        return t;
    };
    const auto iv = h.at("X-Minio-Internal-Server-Side-Encryption-Iv");
    const std::vector<std::pair<std::string, std::string>> corrupt = {
        {"", "empty"},
        {"hello\n", "not atrest object metadata"},
        {text.substr(0, text.size() - 1), "newline"},
        {replaced(iv, iv.substr(0, 40)), "Iv"},                      // 30 bytes, not 32
        {replaced(iv, "!" + iv.substr(1)), "not base64"},
        {replaced("X-Atrest-Object-Path: b/o\n", ""), ""},           // valid: an optional entry
        {replaced("X-Atrest-Object-Path", "X-Other"), "unknown entry"},
        {replaced("X-Atrest-Object-Path: b/o", "X-Atrest-Object-Path: b/o\tx"), "control character"},
        {text + "X-Atrest-Object-Path: b/o\n", "repeats"},
        {replaced("X-Minio-Internal-Server-Side-Encryption-Sealed-Key", "X-Minio-Internal-Server-Side-Encryption-S3-Sealed-Key"),
         "S3-Kms-Key-Id"},
        {replaced("X-Minio-Internal-Server-Side-Encryption-Iv: " + iv + "\n", ""), "Iv is missing"},
        {text + "X-Minio-Internal-Server-Side-Encryption-S3-Sealed-Key: " + h.at("X-Minio-Internal-Server-Side-Encryption-Sealed-Key") + "\n",
         "2 sealed-key entries"},
    };
    for (const auto& [t, needle] : corrupt) {
        INFO(t);
        if (needle.empty()) {
            CHECK(atrest::object_metadata::from_text(t, "o.meta").path.empty());
            continue;
        }
        require_error([&] { (void)atrest::object_metadata::from_text(t, "o.meta"); }, errc::corrupt, {"o.meta", needle});
    }
    require_error([&] { (void)atrest::object_metadata::from_text("atrest-object-metadata 2\n", "o.meta"); },
                  errc::unknown_version, {"o.meta"});
}
