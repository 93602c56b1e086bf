// Bad metadata on disk: each case gets a typed error naming the file, and a failed start changes
// no byte of what is stored. Also: interrupted first starts, stale temp files, metrics hooks.
#include "catch.hpp"
#include "key_manager_fixture.hpp"
#include "temp_dir.hpp"

#include <atrest/detail/endian.hpp>

#include <map>
#include <mutex>

using namespace atrest_test;

namespace {
using manager = atrest::key_manager<atrest::memory_master_key<>>;

void write_bytes(const std::filesystem::path& p, const std::vector<std::byte>& bytes) {
    auto fd = atrest::detail::posix::open_file(p, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    atrest::detail::posix::write_all(fd.get(), bytes, p);
}

/// A populated data directory.
void populate(const std::filesystem::path& dir) {
    manager km(dir, master(1), encrypted());
    for (int i = 0; i < 5; ++i) km.new_file(dir / ("f" + std::to_string(i)));
    km.delete_file(dir / "f0");
}

/// Opening fails with `kind`, names `file`, and leaves both metadata files byte-identical.
void expect_refused(const std::filesystem::path& dir, atrest::errc kind, const std::string& file) {
    const auto key_before = file_bytes(dir / "key.dict");
    const auto files_before = file_bytes(dir / "file.dict");
    const auto e = expect_error([&] { manager km(dir, master(1), encrypted()); });
    CHECK(e.code() == kind);
    CHECK(std::string(e.what()).find((dir / file).string()) != std::string::npos);
    CHECK(file_bytes(dir / "key.dict") == key_before);
    CHECK(file_bytes(dir / "file.dict") == files_before);
}
}  // namespace

TEST_CASE("a damaged key dictionary is corrupt, not a wrong key", "[key_manager][metadata]") {
    temp_dir dir;
    populate(dir.path());
    const auto good = file_bytes(dir / "key.dict");
    SECTION("a flipped bit in the sealed body") {
        auto bad = good;
        bad[30] ^= std::byte{4};
        write_bytes(dir / "key.dict", bad);
        expect_refused(dir.path(), atrest::errc::corrupt, "key.dict");
    }
    SECTION("truncated") {
        write_bytes(dir / "key.dict", std::vector<std::byte>(good.begin(), good.end() - 7));
        expect_refused(dir.path(), atrest::errc::corrupt, "key.dict");
    }
    SECTION("empty") {
        write_bytes(dir / "key.dict", {});
        expect_refused(dir.path(), atrest::errc::corrupt, "key.dict");
    }
    SECTION("an unknown version") {
        auto bad = good;
        bad[8] = std::byte{7};
        write_bytes(dir / "key.dict", bad);
        expect_refused(dir.path(), atrest::errc::unknown_version, "key.dict");
    }
    SECTION("not a key dictionary at all") {
        write_bytes(dir / "key.dict", file_bytes(dir / "file.dict"));
        expect_refused(dir.path(), atrest::errc::corrupt, "key.dict");
    }
}

TEST_CASE("a damaged or foreign file dictionary is refused with its offset", "[key_manager][metadata]") {
    temp_dir dir;
    populate(dir.path());
    {  // append records after the open-time compaction, so there is a middle to damage
        manager km(dir.path(), master(1), encrypted());
        km.new_file(dir / "g1");
        km.new_file(dir / "g2");
    }
    const auto good = file_bytes(dir / "file.dict");
    SECTION("damage in the snapshot record") {
        auto bad = good;
        bad[40] ^= std::byte{1};
        write_bytes(dir / "file.dict", bad);
        expect_refused(dir.path(), atrest::errc::corrupt, "file.dict");
    }
    SECTION("a file dictionary from another data directory") {
        temp_dir other;
        populate(other.path());
        write_bytes(dir / "file.dict", file_bytes(other / "file.dict"));
        expect_refused(dir.path(), atrest::errc::tampered, "file.dict");
    }
    SECTION("an unknown version") {
        auto bad = good;
        bad[8] = std::byte{3};
        atrest::detail::store_le(bad.data() + 12, atrest::detail::crc32c(std::span(bad).first(12)));
        write_bytes(dir / "file.dict", bad);
        expect_refused(dir.path(), atrest::errc::unknown_version, "file.dict");
    }
    SECTION("a torn last record is dropped and the rest kept") {
        write_bytes(dir / "file.dict", std::vector<std::byte>(good.begin(), good.end() - 3));
        manager km(dir.path(), master(1), encrypted());
        CHECK(km.get_file(dir / "g1").encrypted());
        CHECK_FALSE(km.get_file(dir / "g2").encrypted());  // its record was torn: never acknowledged in this story
        CHECK(km.get_file(dir / "f4").encrypted());
    }
}

TEST_CASE("missing metadata: refuse what would lose keys, restart an interrupted first start", "[key_manager][metadata]") {
    temp_dir dir;
    SECTION("key.dict gone while file.dict lists files") {
        populate(dir.path());
        std::filesystem::remove(dir / "key.dict");
        const auto e = expect_error([&] { manager km(dir.path(), master(1), encrypted()); });
        CHECK(e.code() == atrest::errc::not_found);
        CHECK(std::string(e.what()).find("4 encrypted files") != std::string::npos);
    }
    SECTION("file.dict gone while key.dict exists") {
        populate(dir.path());
        std::filesystem::remove(dir / "file.dict");
        CHECK(expect_error([&] { manager km(dir.path(), master(1), encrypted()); }).code() == atrest::errc::not_found);
        CHECK_FALSE(std::filesystem::exists(dir / "file.dict"));
    }
    SECTION("a first start that died between writing file.dict and key.dict") {
        {
            manager km(dir.path(), master(1), encrypted());
        }
        std::filesystem::remove(dir / "key.dict");
        manager km(dir.path(), master(2), encrypted());  // any master key: nothing was protected yet
        CHECK(km.new_file(dir / "x").encrypted());
    }
    SECTION("stale temp files from a crash mid-replace are removed") {
        populate(dir.path());
        write_bytes(dir / "key.dict.tmp.0123456789abcdef", std::vector<std::byte>(10, std::byte{1}));
        write_bytes(dir / "file.dict.tmp.fedcba9876543210", std::vector<std::byte>(10, std::byte{1}));
        write_bytes(dir / "key.dict.tmpfile", std::vector<std::byte>(10, std::byte{1}));  // not ours: kept
        manager km(dir.path(), master(1), encrypted());
        CHECK_FALSE(std::filesystem::exists(dir / "key.dict.tmp.0123456789abcdef"));
        CHECK_FALSE(std::filesystem::exists(dir / "file.dict.tmp.fedcba9876543210"));
        CHECK(std::filesystem::exists(dir / "key.dict.tmpfile"));
        CHECK(km.file_count() == 4);
    }
}

namespace {
/// Records every metrics call.
struct recording_metrics {
    struct state {
        std::mutex mutex;
        bool initialized = false;
        std::size_t keys = 0, files = 0;
        std::map<atrest::meta_file, std::uint64_t> sizes;
        std::map<std::pair<atrest::meta_file, atrest::meta_operation>, int> durations;
    };
    std::shared_ptr<state> s = std::make_shared<state>();
    void set_initialized(bool v) { std::lock_guard l(s->mutex); s->initialized = v; }
    void set_data_key_count(std::size_t n) { std::lock_guard l(s->mutex); s->keys = n; }
    void set_encrypted_file_count(std::size_t n) { std::lock_guard l(s->mutex); s->files = n; }
    void set_meta_file_size(atrest::meta_file f, std::uint64_t b) { std::lock_guard l(s->mutex); s->sizes[f] = b; }
    void observe_meta_duration(atrest::meta_file f, atrest::meta_operation o, std::chrono::nanoseconds) {
        std::lock_guard l(s->mutex);
        ++s->durations[{f, o}];
    }
};
static_assert(atrest::metrics_policy<recording_metrics>);
}  // namespace

TEST_CASE("metrics hooks report initialization, counts, sizes and metadata I/O", "[key_manager][metrics]") {
    temp_dir dir;
    recording_metrics metrics;
    manual_clock clock;
    atrest::key_manager<atrest::memory_master_key<>, atrest::posix_store, manual_clock, recording_metrics> km(
        dir.path(), master(1), encrypted(), {}, clock, metrics);
    km.new_file(dir / "a");
    km.new_file(dir / "b");
    clock.advance(std::chrono::hours(500));
    km.new_file(dir / "c");
    const auto& s = *metrics.s;
    CHECK(s.initialized);
    CHECK(s.keys == 2);
    CHECK(s.files == 3);
    CHECK(s.sizes.at(atrest::meta_file::key_dictionary) == std::filesystem::file_size(dir / "key.dict"));
    CHECK(s.sizes.at(atrest::meta_file::file_dictionary) == std::filesystem::file_size(dir / "file.dict"));
    CHECK(s.durations.at({atrest::meta_file::key_dictionary, atrest::meta_operation::read}) == 1);
    CHECK(s.durations.at({atrest::meta_file::file_dictionary, atrest::meta_operation::read}) == 1);
    CHECK(s.durations.at({atrest::meta_file::key_dictionary, atrest::meta_operation::write}) == 2);
    CHECK(s.durations.at({atrest::meta_file::file_dictionary, atrest::meta_operation::write}) == 4);  // open + 3
}

TEST_CASE("a read-only open changes no byte and refuses every mutation", "[key_manager][metadata]") {
    temp_dir dir;
    atrest::file_info info;
    {
        manager km(dir.path(), master(1), encrypted());
        info = km.new_file(dir / "kept");
        km.new_file(dir / "torn");
    }
    // Leave a torn tail, a stale temp file and a key dictionary due for re-seal/rotation.
    auto files = file_bytes(dir / "file.dict");
    files.resize(files.size() - 2);
    write_bytes(dir / "file.dict", files);
    write_bytes(dir / "key.dict.tmp.0123456789abcdef", std::vector<std::byte>(3, std::byte{1}));
    const auto keys = file_bytes(dir / "key.dict");
    auto options = encrypted(atrest::method::sm4_ctr);  // a method change would rotate on a normal open
    options.read_only = true;
    manager km(dir.path(), master(1), options);
    CHECK(km.get_file(dir / "kept").iv == info.iv);
    CHECK_FALSE(km.get_file(dir / "torn").encrypted());
    CHECK(km.current_key_id() == info.key_id);
    for (auto* attempt : {+[](manager& m) { m.new_file("x"); }, +[](manager& m) { m.delete_file("kept"); },
                          +[](manager& m) { m.rename_file("kept", "y", [] {}); }, +[](manager& m) { m.rotate_data_key(); },
                          +[](manager& m) { (void)m.collect_unused_keys(); }}) {
        const auto e = expect_error([&] { attempt(km); });
        CHECK(e.code() == atrest::errc::invalid_argument);
        CHECK(std::string(e.what()).find("read-only") != std::string::npos);
    }
    CHECK(file_bytes(dir / "file.dict") == files);
    CHECK(file_bytes(dir / "key.dict") == keys);
    CHECK(std::filesystem::exists(dir / "key.dict.tmp.0123456789abcdef"));
    temp_dir empty;
    CHECK(expect_error([&] { manager none(empty.path(), master(1), options); }).code() == atrest::errc::not_found);
}
