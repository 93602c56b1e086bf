// The adapter with authenticated data files (aes256-gcm-stream): a DB whose every file, or only
// its WAL and MANIFEST, is sealed works through put, get, flush, compaction, reopen and WAL
// replay; a flipped byte in an SST or in the WAL is a Corruption status, never different data.
#include "rocksdb_support.hpp"

#include <fstream>
#include <set>

using namespace atrest_test;

namespace {

const std::string prefix = "ATREST-SEALED-MARKER:";

struct sealed_stack {
    std::shared_ptr<test_key_manager> keys;
    std::shared_ptr<test_fs> fs;
    std::unique_ptr<rocksdb::Env> env;

    sealed_stack(const std::filesystem::path& dir, atrest::method m, atrest::authenticated_files rule)
        : keys(std::make_shared<test_key_manager>(dir, master(1), options(m, rule))),
          fs(atrest::rocks::make_encrypted_file_system(keys)),
          env(atrest::rocks::make_env(fs)) {}

    static atrest::key_manager_options options(atrest::method m, atrest::authenticated_files rule) {
        auto o = encrypted(m);
        o.authenticated_files = rule;
        return o;
    }
};

rocksdb::Options small_memtables() {
    rocksdb::Options o;
    o.write_buffer_size = 256 << 10;
    return o;
}

void flip_byte(const std::filesystem::path& p, std::uint64_t at) {
    std::fstream f(p, std::ios::in | std::ios::out | std::ios::binary);
    f.seekg(static_cast<std::streamoff>(at));
    char c = 0;
    f.read(&c, 1);
    c = static_cast<char>(c ^ 0x04);
    f.seekp(static_cast<std::streamoff>(at));
    f.write(&c, 1);
}

std::vector<std::filesystem::path> files_ending(const std::filesystem::path& dir, std::string_view suffix) {
    std::vector<std::filesystem::path> out;
    for (const auto& e : std::filesystem::directory_iterator(dir)) {
        if (e.path().filename().string().ends_with(suffix)) out.push_back(e.path());
    }
    std::sort(out.begin(), out.end());
    return out;
}

}  // namespace

TEST_CASE("a DB of authenticated files survives flush, compaction, reopen and WAL replay", "[rocksdb][authenticated]") {
    const auto rule = GENERATE(atrest::authenticated_files::all, atrest::authenticated_files::logs);
    const auto m = GENERATE(atrest::method::aes256_ctr, atrest::method::aes256_gcm_stream);
    INFO("rule " << static_cast<int>(rule) << " method " << atrest::to_string(m));
    temp_dir dir;
    const auto db_dir = dir.path() / "db";
    constexpr int n = 30'000;
    {
        sealed_stack stack(db_dir, m, rule);
        auto db = open_db(db_dir, stack.env.get(), small_memtables());
        put_range(*db, 0, n, prefix);
        REQUIRE(db->Flush(rocksdb::FlushOptions()).ok());
        REQUIRE(db->CompactRange(rocksdb::CompactRangeOptions(), nullptr, nullptr).ok());
        expect_range(*db, 0, n, prefix);
        put_range(*db, n, n + 10, prefix);  // in the WAL only: replayed at reopen
        REQUIRE(db->Close().ok());
    }
    CHECK(files_containing(db_dir, prefix).empty());
    sealed_stack stack(db_dir, m, rule);
    {
        auto db = open_db(db_dir, stack.env.get());
        expect_range(*db, 0, n + 10, prefix);
        std::string v;
        REQUIRE(db->Get(rocksdb::ReadOptions(), key_of(4321), &v).ok());
        CHECK(v == value_of(4321, prefix));
        REQUIRE(db->Close().ok());
    }
    // The methods the dictionary recorded: sealed where the rule (or the method) says.
    const bool all = rule == atrest::authenticated_files::all || atrest::is_authenticated(m);
    int sealed_ssts = 0;
    for (const auto& [path, entry] : stack.keys->files()) {
        INFO(path);
        const bool log = atrest::is_log_file_name(path);
        CHECK(atrest::is_authenticated(entry.method) == (all || log));
        if (path.ends_with(".sst") && atrest::is_authenticated(entry.method)) ++sealed_ssts;
    }
    CHECK((sealed_ssts > 0) == all);
}

TEST_CASE("a flipped byte in a sealed SST or WAL is a Corruption status, not data", "[rocksdb][authenticated]") {
    temp_dir dir;
    const auto db_dir = dir.path() / "db";
    {
        sealed_stack stack(db_dir, atrest::method::aes256_ctr, atrest::authenticated_files::all);
        auto db = open_db(db_dir, stack.env.get());
        put_range(*db, 0, 5000, prefix);
        REQUIRE(db->Flush(rocksdb::FlushOptions()).ok());
        put_range(*db, 5000, 5100, prefix);  // these stay in the WAL
        REQUIRE(db->Close().ok());
    }
    const auto ssts = files_ending(db_dir, ".sst");
    REQUIRE(ssts.size() == 1);
    const auto copy = dir.path() / "copy";
    std::filesystem::copy(db_dir, copy);

    SECTION("SST: a read of the changed segment fails; the DB opens, the scan reports Corruption") {
        flip_byte(ssts[0], std::filesystem::file_size(ssts[0]) / 3);
        sealed_stack stack(db_dir, atrest::method::aes256_ctr, atrest::authenticated_files::all);
        rocksdb::Options o;
        o.env = stack.env.get();
        o.paranoid_checks = false;
        rocksdb::DB* raw = nullptr;
        auto st = rocksdb::DB::Open(o, db_dir.string(), &raw);
        std::unique_ptr<rocksdb::DB> db(raw);
        if (st.ok()) {
            std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions()));
            int seen = 0;
            for (it->SeekToFirst(); it->Valid(); it->Next()) {
                const int i = seen++;
                REQUIRE(it->value().ToString() == value_of(std::stoi(it->key().ToString().substr(3)), prefix));
                (void)i;
            }
            st = it->status();
        }
        INFO(st.ToString());
        CHECK(st.IsCorruption());
        CHECK(st.ToString().find(".sst") != std::string::npos);
        CHECK(st.ToString().find("segment") != std::string::npos);
    }
    SECTION("WAL: replay reports Corruption naming the log, or (point in time) stops before it") {
        const auto logs = files_ending(db_dir, ".log");
        REQUIRE(!logs.empty());
        flip_byte(logs.back(), 100);
        sealed_stack stack(db_dir, atrest::method::aes256_ctr, atrest::authenticated_files::all);
        {
            rocksdb::Options o;
            o.env = stack.env.get();
            o.wal_recovery_mode = rocksdb::WALRecoveryMode::kAbsoluteConsistency;
            rocksdb::DB* raw = nullptr;
            const auto st = rocksdb::DB::Open(o, db_dir.string(), &raw);
            std::unique_ptr<rocksdb::DB> db(raw);
            INFO(st.ToString());
            CHECK(st.IsCorruption());
            CHECK(st.ToString().find(".log") != std::string::npos);
            CHECK(st.ToString().find("segment 0") != std::string::npos);
        }
        // RocksDB's default mode treats a WAL that stops verifying as its end, as for a bad CRC:
        // the sealed keys before it (in the SST) are there, the WAL's are dropped, none is wrong.
        auto db = open_db(db_dir, stack.env.get());
        expect_range(*db, 0, 5000, prefix);
    }
    // The untouched copy opens and holds everything.
    sealed_stack stack(copy, atrest::method::aes256_ctr, atrest::authenticated_files::all);
    auto db = open_db(copy, stack.env.get());
    expect_range(*db, 0, 5100, prefix);
}
