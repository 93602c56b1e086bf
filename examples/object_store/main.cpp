// A tiny object store on a directory, in MinIO's design: every object is sealed under its own
// key, which is kept sealed in a metadata file beside the object — under the client's key
// (SSE-C) or under a data key that a master key seals (SSE-S3). It puts objects, gets them whole
// and by range (decrypting only the 64 KiB packages a range touches), rotates the keys (the
// metadata is re-sealed; object data is never rewritten), and shows that a wrong client key, an
// object moved to another name and a changed object are each refused with a clear error.
//
//   atrest_object_store --dir DIR
//
// DIR/<bucket>/data/<object> holds the sealed data, DIR/<bucket>/meta/<object> its metadata
// (docs/format.md, "Object metadata"); DIR/master.key and DIR/master-2.key are SSE-S3's keys.
#include <atrest/atrest.hpp>
#include <atrest/object.hpp>

#include <cstdio>
#include <exception>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace fs = std::filesystem;
namespace posix = atrest::detail::posix;

namespace {

class object_store final {
public:
    explicit object_store(fs::path root) : m_root(std::move(root)) {}

    template <atrest::external_key_source K>
    void put(K& key, const std::string& bucket, const std::string& object, std::string_view data) {
        const auto path = data_path(bucket, object);
        fs::create_directories(path.parent_path());
        fs::create_directories(meta_path(bucket, object).parent_path());
        const fs::path temp = path.string() + ".tmp";
        fs::remove(temp);
        auto w = atrest::sealed_object_writer<>::create(atrest::posix_file(temp, atrest::open_flags::create_exclusive, 0600),
                                                        key, bucket, object);
        w.append(std::as_bytes(std::span(data.data(), data.size())));
        w.finish();
        w.sync();
        posix::rename_path(temp, path);
        write_metadata(bucket, object, w.metadata());
    }

    template <atrest::external_key_source K>
    std::string get(K& key, const std::string& bucket, const std::string& object, std::uint64_t offset = 0,
                    std::uint64_t length = UINT64_MAX) {
        atrest::sealed_object_reader<> r(atrest::posix_file(data_path(bucket, object)), key, metadata(bucket, object), bucket,
                                         object);
        const auto end = std::min(r.size(), length == UINT64_MAX ? r.size() : offset + length);
        std::string out(static_cast<std::size_t>(end > offset ? end - offset : 0), '\0');
        const auto n = r.read_at(offset, std::as_writable_bytes(std::span(out.data(), out.size())));
        out.resize(n);
        return out;
    }

    /// Key rotation: only the metadata file changes.
    template <atrest::external_key_source From, atrest::external_key_source To>
    void rotate(From& from, To& to, const std::string& bucket, const std::string& object) {
        write_metadata(bucket, object, atrest::reseal_object_key(from, to, metadata(bucket, object), bucket, object));
    }

    /// What a careless admin does: move the files to another name.
    void move(const std::string& bucket, const std::string& object, const std::string& new_object) {
        fs::create_directories(data_path(bucket, new_object).parent_path());
        fs::create_directories(meta_path(bucket, new_object).parent_path());
        posix::rename_path(data_path(bucket, object), data_path(bucket, new_object));
        posix::rename_path(meta_path(bucket, object), meta_path(bucket, new_object));
    }

    [[nodiscard]] fs::path data_path(const std::string& bucket, const std::string& object) const {
        (void)atrest::object_path(bucket, object);  // no "..", no empty names: stays inside the root
        return m_root / bucket / "data" / object;
    }
    [[nodiscard]] fs::path meta_path(const std::string& bucket, const std::string& object) const {
        (void)atrest::object_path(bucket, object);
        return m_root / bucket / "meta" / object;
    }

private:
    atrest::object_metadata metadata(const std::string& bucket, const std::string& object) const {
        const auto path = meta_path(bucket, object);
        const auto bytes = posix::read_file_if_exists(path, "metadata");
        if (!bytes) throw atrest::error(atrest::errc::not_found, "no object '" + bucket + "/" + object + "'");
        return atrest::object_metadata::from_text(std::string_view(reinterpret_cast<const char*>(bytes->data()), bytes->size()),
                                                  path.string());
    }
    void write_metadata(const std::string& bucket, const std::string& object, const atrest::object_metadata& m) {
        const auto text = m.to_text();
        posix::atomic_replace(meta_path(bucket, object), std::as_bytes(std::span(text.data(), text.size())));
    }

    fs::path m_root;
};

void expect(bool ok, const std::string& what) {
    if (!ok) throw std::runtime_error("check failed: " + what);
}

/// Runs `f`, which must fail with `kind`; prints the message.
template <class F>
void expect_refused(atrest::errc kind, const std::string& what, F&& f) {
    try {
        f();
    } catch (const atrest::error& e) {
        if (e.kind() != kind) throw;
        std::printf("%s: refused: %s\n", what.c_str(), e.what());
        return;
    }
    throw std::runtime_error(what + " was not refused");
}

int run(const fs::path& dir) {
    fs::create_directories(dir);
    object_store store(dir / "store");
    std::string big;
    for (int i = 0; big.size() < 300000; ++i) big += "line " + std::to_string(i) + " of a large object\n";

    // SSE-C: the client sends its key with each request; the store never keeps it.
    const auto alice_bytes = atrest::secret_bytes::random(32);
    atrest::client_key alice(alice_bytes.bytes());
    store.put(alice, "photos", "2024/cat.txt", "a small object");
    store.put(alice, "photos", "big.txt", big);
    expect(store.get(alice, "photos", "2024/cat.txt") == "a small object", "SSE-C get");
    expect(store.get(alice, "photos", "big.txt", 200000, 40) == big.substr(200000, 40), "SSE-C range get");
    std::printf("SSE-C: put 2 objects, got one whole and 40 bytes of the other at offset 200000\n");

    atrest::client_key mallory(atrest::secret_bytes::random(32).bytes());
    expect_refused(atrest::errc::wrong_key, "get with another client key", [&] { (void)store.get(mallory, "photos", "big.txt"); });

    // The client rotates its key: metadata re-sealed, data file untouched.
    const auto before = posix::read_file_if_exists(store.data_path("photos", "big.txt"));
    atrest::client_key alice2(atrest::secret_bytes::random(32).bytes());
    store.rotate(alice, alice2, "photos", "big.txt");
    expect(posix::read_file_if_exists(store.data_path("photos", "big.txt")) == before, "data unchanged by rotation");
    expect(store.get(alice2, "photos", "big.txt") == big, "get after rotation");
    expect_refused(atrest::errc::wrong_key, "get with the old client key", [&] { (void)store.get(alice, "photos", "big.txt"); });

    // SSE-S3: a data key per object, sealed by a master key file.
    const auto key1 = dir / "master.key", key2 = dir / "master-2.key";
    if (!fs::exists(key1)) atrest::generate_master_key_file(key1);
    if (!fs::exists(key2)) atrest::generate_master_key_file(key2);
    atrest::kms_data_key<atrest::file_master_key<>> s3{atrest::file_master_key<>(key1)};
    store.put(s3, "logs", "day-1", "log records of day 1");
    expect(store.get(s3, "logs", "day-1") == "log records of day 1", "SSE-S3 get");
    atrest::kms_data_key<atrest::file_master_key<>> s3_new{atrest::file_master_key<>(key2)};
    store.rotate(s3, s3_new, "logs", "day-1");
    expect(store.get(s3_new, "logs", "day-1") == "log records of day 1", "SSE-S3 get after master key rotation");
    std::printf("SSE-S3: put, got, rotated to a new master key, got again\n");

    // Moved without re-sealing: refused by name.
    store.move("logs", "day-1", "day-2");
    expect_refused(atrest::errc::tampered, "get of a moved object", [&] { (void)store.get(s3_new, "logs", "day-2"); });

    // A changed byte of object data: refused, never returned.
    {
        atrest::posix_file f(store.data_path("photos", "2024/cat.txt"), atrest::open_flags::read_write);
        std::byte b{};
        (void)f.read_at(20, std::span(&b, 1));
        b ^= std::byte{0x20};
        (void)f.write_at(20, std::span(&b, 1));
    }
    expect_refused(atrest::errc::integrity, "get of a changed object", [&] { (void)store.get(alice, "photos", "2024/cat.txt"); });
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    try {
        if (argc != 3 || std::string_view(argv[1]) != "--dir") throw std::invalid_argument("--dir DIR is required");
        return run(argv[2]);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "atrest_object_store: %s\nusage: atrest_object_store --dir DIR\n", e.what());
        return 1;
    }
}
