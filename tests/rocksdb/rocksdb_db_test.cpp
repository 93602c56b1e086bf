// The adapter under a real RocksDB: every file RocksDB writes is encrypted, every read path
// decrypts, and the data survives flush, compaction, reopen, key rotation and master-key rotation.
#include "rocksdb_support.hpp"

#include <set>

using namespace atrest_test;

namespace {

const std::string prefix = "ATREST-PLAINTEXT-MARKER:";

rocksdb::Options small_memtables() {
    rocksdb::Options o;
    o.write_buffer_size = 1 << 20;  // several flushes (and L0 files) from 200k keys
    return o;
}

}  // namespace

TEST_CASE("200k keys survive flush, compaction and reopen, and no value is on disk in the clear", "[rocksdb]") {
    temp_dir dir;
    const auto db_dir = dir.path() / "db";
    constexpr int n = 200'000;
    {
        encrypted_stack stack(db_dir);
        auto db = open_db(db_dir, stack.env.get(), small_memtables());
        put_range(*db, 0, n, prefix);
        REQUIRE(db->Flush(rocksdb::FlushOptions()).ok());
        REQUIRE(db->CompactRange(rocksdb::CompactRangeOptions(), nullptr, nullptr).ok());
        expect_range(*db, 0, n, prefix);
        put_range(*db, n, n + 10, prefix);  // left in the WAL only: replayed at reopen
        REQUIRE(db->Close().ok());
    }
    // The scan covers every file in the DB directory: SST, WAL, MANIFEST, CURRENT, OPTIONS,
    // IDENTITY, LOG (plaintext, but it never holds values) and the two dictionaries.
    CHECK(files_containing(db_dir, prefix).empty());
    CHECK(files_containing(db_dir, key_of(n / 2)).empty());

    encrypted_stack stack(db_dir);
    auto db = open_db(db_dir, stack.env.get());
    expect_range(*db, 0, n + 10, prefix);
    std::string v;
    REQUIRE(db->Get(rocksdb::ReadOptions(), key_of(12345), &v).ok());
    CHECK(v == value_of(12345, prefix));

    // Everything RocksDB keeps (not the LOG) has a dictionary entry with the configured method.
    std::set<std::string> entries;
    for (const auto& [path, entry] : stack.keys->files()) {
        entries.insert(path);
        CHECK(entry.method == atrest::method::aes128_ctr);
    }
    for (const auto& f : std::filesystem::directory_iterator(db_dir)) {
        const auto name = f.path().filename().string();
        if (name.starts_with("LOG") || name == "LOCK" || name.ends_with(".dict") || name == "atrest.lock") continue;
        INFO(name);
        CHECK(entries.contains(name));
    }
}

TEST_CASE("an encrypted DB cannot be opened without the adapter", "[rocksdb]") {
    temp_dir dir;
    {
        encrypted_stack stack(dir.path());
        auto db = open_db(dir.path(), stack.env.get());
        put_range(*db, 0, 100, prefix);
        REQUIRE(db->Close().ok());
    }
    rocksdb::Options o;
    rocksdb::DB* raw = nullptr;
    const auto st = rocksdb::DB::Open(o, dir.path().string(), &raw);
    delete raw;
    CHECK_FALSE(st.ok());
}

TEST_CASE("SST bytes on disk are OpenSSL AES-128-CTR of what the adapter reads", "[rocksdb]") {
    temp_dir dir;
    encrypted_stack stack(dir.path());
    auto db = open_db(dir.path(), stack.env.get());
    put_range(*db, 0, 2000, prefix);
    REQUIRE(db->Flush(rocksdb::FlushOptions()).ok());
    std::vector<rocksdb::LiveFileMetaData> live;
    db->GetLiveFilesMetaData(&live);
    REQUIRE(live.size() == 1);
    const auto sst = dir.path() / live[0].name.substr(1);
    const auto info = stack.keys->get_file(sst);
    REQUIRE(info.encrypted());

    const auto raw = read_all(sst);
    std::unique_ptr<rocksdb::FSSequentialFile> file;
    REQUIRE(stack.fs->NewSequentialFile(sst.string(), rocksdb::FileOptions(), &file, nullptr).ok());
    std::vector<char> plain(raw.size());
    rocksdb::Slice result;
    REQUIRE(file->Read(plain.size(), rocksdb::IOOptions(), &result, plain.data(), nullptr).ok());
    REQUIRE(result.size() == raw.size());
    CHECK(openssl_ctr(info, raw) == plain);
    // RocksDB's block-based table magic number, little-endian, ends every SST.
    const std::string magic("\xf7\xcf\xf4\x85\xb7\x41\xe2\x88", 8);
    CHECK(std::string(plain.end() - 8, plain.end()) == magic);
    CHECK(std::string(raw.end() - 8, raw.end()) != magic);
}

TEST_CASE("a data key rotated between flushes: both generations stay readable", "[rocksdb]") {
    temp_dir dir;
    std::uint64_t first_key = 0;
    {
        encrypted_stack stack(dir.path());
        auto db = open_db(dir.path(), stack.env.get());
        put_range(*db, 0, 5000, prefix);
        REQUIRE(db->Flush(rocksdb::FlushOptions()).ok());
        first_key = stack.keys->current_key_id();
        stack.keys->rotate_data_key();
        REQUIRE(stack.keys->current_key_id() != first_key);
        put_range(*db, 5000, 10000, prefix);
        REQUIRE(db->Flush(rocksdb::FlushOptions()).ok());

        std::set<std::uint64_t> sst_keys;
        for (const auto& [path, entry] : stack.keys->files()) {
            if (path.ends_with(".sst")) sst_keys.insert(entry.key_id);
        }
        CHECK(sst_keys == std::set<std::uint64_t>{first_key, stack.keys->current_key_id()});
        expect_range(*db, 0, 10000, prefix);
        REQUIRE(db->Close().ok());
    }
    encrypted_stack stack(dir.path());
    auto db = open_db(dir.path(), stack.env.get());
    expect_range(*db, 0, 10000, prefix);
    REQUIRE(db->CompactRange(rocksdb::CompactRangeOptions(), nullptr, nullptr).ok());  // rewrites under the new key
    expect_range(*db, 0, 10000, prefix);
}

TEST_CASE("reopen with a new master key plus the previous one, then with the new one alone", "[rocksdb]") {
    temp_dir dir;
    {
        encrypted_stack stack(dir.path(), 1);
        auto db = open_db(dir.path(), stack.env.get());
        put_range(*db, 0, 3000, prefix);
        REQUIRE(db->Close().ok());
    }
    using rotating = atrest::key_manager<atrest::with_previous<atrest::memory_master_key<>, atrest::memory_master_key<>>>;
    {
        auto keys = std::make_shared<rotating>(
            dir.path(), atrest::with_previous(master(2, "new"), master(1, "old")), encrypted());
        auto fs = atrest::rocks::make_encrypted_file_system(keys);
        auto env = atrest::rocks::make_env(fs);
        auto db = open_db(dir.path(), env.get());
        expect_range(*db, 0, 3000, prefix);
        put_range(*db, 3000, 4000, prefix);
        REQUIRE(db->Close().ok());
    }
    CHECK(expect_error([&] { test_key_manager(dir.path(), master(1), encrypted()); }).kind() == atrest::errc::wrong_key);
    encrypted_stack stack(dir.path(), 2);
    auto db = open_db(dir.path(), stack.env.get());
    expect_range(*db, 0, 4000, prefix);
}

TEST_CASE("mmap reads are copied out of the mapping and decrypted", "[rocksdb]") {
    temp_dir dir;
    {
        encrypted_stack stack(dir.path());
        auto db = open_db(dir.path(), stack.env.get());
        put_range(*db, 0, 5000, prefix);
        REQUIRE(db->Close().ok());
    }
    encrypted_stack stack(dir.path());
    rocksdb::Options o;
    o.allow_mmap_reads = true;
    auto db = open_db(dir.path(), stack.env.get(), o);
    REQUIRE(db->Flush(rocksdb::FlushOptions()).ok());
    expect_range(*db, 0, 5000, prefix);
}

TEST_CASE("recycled WAL files get a fresh IV and replay after reopen", "[rocksdb]") {
    temp_dir dir;
    rocksdb::Options o;
    o.recycle_log_file_num = 2;
    {
        encrypted_stack stack(dir.path());
        auto db = open_db(dir.path(), stack.env.get(), o);
        for (int round = 0; round < 6; ++round) {
            put_range(*db, round * 500, round * 500 + 500, prefix);
            REQUIRE(db->Flush(rocksdb::FlushOptions()).ok());
        }
        put_range(*db, 3000, 3100, prefix);  // WAL only
        REQUIRE(db->Close().ok());
    }
    CHECK(files_containing(dir.path(), prefix).empty());
    encrypted_stack stack(dir.path());
    auto db = open_db(dir.path(), stack.env.get(), o);
    expect_range(*db, 0, 3100, prefix);
}

TEST_CASE("direct writes are refused with a message naming the option", "[rocksdb]") {
    temp_dir dir;
    encrypted_stack stack(dir.path());
    rocksdb::Options o;
    o.use_direct_io_for_flush_and_compaction = true;
    auto db = open_db(dir.path(), stack.env.get(), o);
    put_range(*db, 0, 10, prefix);
    const auto st = db->Flush(rocksdb::FlushOptions());
    REQUIRE_FALSE(st.ok());
    CHECK_THAT(st.ToString(), Catch::Contains("direct writes"));
}

TEST_CASE("sm4-ctr and aes256-ctr databases round-trip", "[rocksdb]") {
    const auto m = GENERATE(atrest::method::sm4_ctr, atrest::method::aes256_ctr);
    temp_dir dir;
    {
        encrypted_stack stack(dir.path(), 1, m);
        auto db = open_db(dir.path(), stack.env.get());
        put_range(*db, 0, 3000, prefix);
        REQUIRE(db->Flush(rocksdb::FlushOptions()).ok());
        REQUIRE(db->Close().ok());
    }
    CHECK(files_containing(dir.path(), prefix).empty());
    encrypted_stack stack(dir.path(), 1, m);
    auto db = open_db(dir.path(), stack.env.get());
    expect_range(*db, 0, 3000, prefix);
}

TEST_CASE("with method plaintext the adapter passes files through, and the scan sees the values", "[rocksdb]") {
    temp_dir dir;
    {
        encrypted_stack stack(dir.path(), 1, atrest::method::plaintext);
        auto db = open_db(dir.path(), stack.env.get());
        put_range(*db, 0, 100, prefix);
        REQUIRE(db->Flush(rocksdb::FlushOptions()).ok());
        REQUIRE(db->Close().ok());
        CHECK(stack.keys->file_count() == 0);
    }
    CHECK_FALSE(files_containing(dir.path(), prefix).empty());
    rocksdb::DB* raw = nullptr;
    REQUIRE(rocksdb::DB::Open(rocksdb::Options(), dir.path().string(), &raw).ok());  // plain RocksDB reads it
    delete raw;
}
