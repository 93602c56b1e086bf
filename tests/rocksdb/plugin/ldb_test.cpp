// Debian's unmodified ldb (and sst_dump) on an encrypted database, with libatrest_rocksdb_plugin.so preloaded
// and --fs_uri=atrest[-ro]:<dir>: scan, get, checkconsistency and manifest_dump give what was
// written; without the plugin ldb cannot read the database; the error paths say what to do.
#include "plugin_support.hpp"

#include <algorithm>
#include <fstream>
#include <string>

using namespace atrest_test;

namespace {

void require_no_values(const process_result& r) {
    INFO(describe(r));
    CHECK(r.out.find(encrypted_database::prefix) == std::string::npos);
    CHECK(r.err.find(encrypted_database::prefix) == std::string::npos);
}

}  // namespace

TEST_CASE("ldb scan, get, checkconsistency and manifest_dump through the plugin", "[rocksdb][plugin][ldb]") {
    const encrypted_database d;
    const auto env = plugin_env(d.key_file);
    // The database is encrypted: no value is on disk in the clear, and ldb alone cannot open it.
    CHECK(files_containing(d.db, encrypted_database::prefix).empty());
    for (const auto& args : {std::vector<std::string>{"scan"}, {"--try_load_options=false", "scan"}, {"get", key_of(1)}}) {
        const auto plain = ldb(d.db, args, {});
        INFO(describe(plain));
        CHECK(plain.exit_code != 0);
        CHECK((plain.out + plain.err).find("Failed: ") != std::string::npos);
        require_no_values(plain);
    }

    for (const bool read_only : {true, false}) {
        INFO(d.uri(read_only));
        const std::string fs_uri = "--fs_uri=" + d.uri(read_only);
        const auto scan = ldb(d.db, {fs_uri, "scan"}, env);
        INFO(describe(scan));
        REQUIRE(scan.exit_code == 0);
        const auto rows = parse_scan(scan.out);
        REQUIRE(rows.size() == static_cast<std::size_t>(encrypted_database::total));  // SSTs and the WAL
        for (int i = 0; i < encrypted_database::total; ++i) {
            const auto& [key, value] = rows[static_cast<std::size_t>(i)];
            if (key != key_of(i) || value != value_of(i, encrypted_database::prefix)) FAIL("row " << i << ": " << key);
        }
        const auto limited = ldb(d.db, {fs_uri, "scan", "--from=" + key_of(100), "--to=" + key_of(103)}, env);
        CHECK(limited.out == key_of(100) + " : " + value_of(100, d.prefix) + "\n" + key_of(101) + " : " +
                                 value_of(101, d.prefix) + "\n" + key_of(102) + " : " + value_of(102, d.prefix) + "\n");

        for (const int i : {0, 42, encrypted_database::flushed - 1, encrypted_database::total - 1}) {
            const auto get = ldb(d.db, {fs_uri, "get", key_of(i)}, env);
            INFO(describe(get));
            CHECK(get.exit_code == 0);
            CHECK(get.out == value_of(i, encrypted_database::prefix) + "\n");
        }
        const auto missing = ldb(d.db, {fs_uri, "get", "no-such-key"}, env);
        CHECK(missing.exit_code != 0);
        CHECK((missing.out + missing.err).find("NotFound") != std::string::npos);

        const auto consistent = ldb(d.db, {fs_uri, "checkconsistency"}, env);
        INFO(describe(consistent));
        CHECK(consistent.exit_code == 0);
        CHECK(consistent.out == "OK\n");

        // manifest_dump names every SST on disk with its real size and the first key written.
        const auto manifest = ldb(d.db, {fs_uri, "manifest_dump"}, env);
        INFO(describe(manifest));
        CHECK(manifest.exit_code == 0);
        CHECK(manifest.out.find("comparator: leveldb.BytewiseComparator") != std::string::npos);
        CHECK(manifest.out.find("'" + key_of(0) + "' seq:1,") != std::string::npos);
        int ssts = 0;
        for (const auto& entry : std::filesystem::directory_iterator(d.db)) {
            if (entry.path().extension() != ".sst") continue;
            ++ssts;
            const auto number = std::stoull(entry.path().stem().string());
            const std::string line = "\n " + std::to_string(number) + ":" + std::to_string(entry.file_size()) + "[";
            INFO(line);
            CHECK(manifest.out.find(line) != std::string::npos);
        }
        CHECK(ssts >= 1);
    }
    // What the tools did left the database encrypted and complete.
    CHECK(files_containing(d.db, encrypted_database::prefix).empty());
    CHECK(parse_scan(ldb(d.db, {"--fs_uri=" + d.uri(true), "scan"}, env).out).size() ==
          static_cast<std::size_t>(encrypted_database::total));
}

TEST_CASE("ldb writes through atrest: and the writes stay encrypted", "[rocksdb][plugin][ldb]") {
    const encrypted_database d(atrest::method::aes256_ctr);
    const auto env = plugin_env(d.key_file);
    const std::string fs_uri = "--fs_uri=" + d.uri();
    const std::string value = "written-by-ldb-through-atrest";
    const auto put = ldb(d.db, {fs_uri, "put", "ldb-key", value}, env);
    INFO(describe(put));
    REQUIRE(put.exit_code == 0);
    const auto compact = ldb(d.db, {fs_uri, "compact"}, env);  // a flush and a full compaction
    INFO(describe(compact));
    REQUIRE(compact.exit_code == 0);
    CHECK(ldb(d.db, {"--fs_uri=" + d.uri(true), "get", "ldb-key"}, env).out == value + "\n");
    CHECK(ldb(d.db, {"--fs_uri=" + d.uri(true), "get", key_of(7)}, env).out == value_of(7, d.prefix) + "\n");
    CHECK(files_containing(d.db, value).empty());
    CHECK(files_containing(d.db, encrypted_database::prefix).empty());
    // The tool kept the database's method (ATREST_METHOD unset): every file is aes256-ctr.
    auto peek = d.config();
    peek.read_only = true;
    const auto keys = atrest::open_key_manager(peek, d.db);
    REQUIRE(!keys->files().empty());
    for (const auto& [path, entry] : keys->files()) {
        INFO(path);
        CHECK(entry.method == atrest::method::aes256_ctr);
    }
}

TEST_CASE("the plugin's errors say what is wrong and what to do", "[rocksdb][plugin][ldb]") {
    const encrypted_database d;
    const auto env = plugin_env(d.key_file);
    auto fails_with = [&](const std::vector<std::string>& args, const std::map<std::string, std::string>& e,
                          const std::string& needle) {
        const auto r = ldb(d.db, args, e);
        INFO(describe(r));
        CHECK(r.exit_code != 0);
        CHECK((r.out + r.err).find(needle) != std::string::npos);
        require_no_values(r);
    };
    const std::string rw = "--fs_uri=" + d.uri();
    const std::string ro = "--fs_uri=" + d.uri(true);

    // No master key in the environment: both variables are named.
    fails_with({ro, "scan"}, {{"LD_PRELOAD", ATREST_ROCKSDB_PLUGIN}}, "set ATREST_CONFIG");
    fails_with({ro, "scan"}, {{"LD_PRELOAD", ATREST_ROCKSDB_PLUGIN}}, "ATREST_MASTER_KEY_FILE");
    // Another master key: the key dictionary does not open.
    write_master_key_file(d.dir / "other.key", 8);
    fails_with({ro, "scan"}, plugin_env(d.dir / "other.key"), "wrong key");
    // A mistyped directory: an error, and no metadata is created there.
    fails_with({"--fs_uri=atrest:" + (d.dir / "typo").string(), "scan"}, env, "ATREST_CREATE_IF_MISSING=1");
    CHECK(!std::filesystem::exists(d.dir / "typo"));
    // atrest-ro: refuses writes, and says it is read-only.
    fails_with({ro, "put", "k", "v"}, env, "opened read-only");
    auto bad_method = env;
    bad_method["ATREST_METHOD"] = "aes512-ctr";
    fails_with({rw, "scan"}, bad_method, "ATREST_METHOD");

    // Beside a live writer (an engine holding the key manager's lock): atrest: is refused with
    // the way out, atrest-ro: reads.
    {
        const encrypted_database::live engine(d);
        fails_with({rw, "scan"}, env, "is locked");
        fails_with({rw, "scan"}, env, "atrest-ro:");
        const auto scan = ldb(d.db, {ro, "scan"}, env);
        INFO(describe(scan));
        CHECK(scan.exit_code == 0);
        CHECK(parse_scan(scan.out).size() == static_cast<std::size_t>(encrypted_database::total));
    }
    CHECK(ldb(d.db, {rw, "get", key_of(5)}, env).out == value_of(5, d.prefix) + "\n");  // the lock is free again
}

TEST_CASE("ATREST_CONFIG: the plugin reads TiKV's [security.encryption] from a TOML file", "[rocksdb][plugin][ldb]") {
    const encrypted_database d;
    const auto config = d.dir / "tikv.toml";
    std::ofstream(config) << "[server]\naddr = \"127.0.0.1:20160\"\n\n[security.encryption]\n"
                             "data-encryption-method = \"aes128-ctr\"\n\n[security.encryption.master-key]\n"
                             "type = \"file\"\npath = \""
                          << d.key_file.string() << "\"\n";
    const std::map<std::string, std::string> env{{"LD_PRELOAD", ATREST_ROCKSDB_PLUGIN}, {"ATREST_CONFIG", config.string()}};
    const auto get = ldb(d.db, {"--fs_uri=" + d.uri(), "get", key_of(2999)}, env);
    INFO(describe(get));
    CHECK(get.exit_code == 0);
    CHECK(get.out == value_of(2999, d.prefix) + "\n");
    // Both sources at once is ambiguous.
    auto both = env;
    both["ATREST_MASTER_KEY_FILE"] = d.key_file.string();
    const auto r = ldb(d.db, {"--fs_uri=" + d.uri(true), "scan"}, both);
    CHECK(r.exit_code != 0);
    CHECK((r.out + r.err).find("both ATREST_CONFIG") != std::string::npos);
}

TEST_CASE("sst_dump scans and verifies an encrypted SST through the plugin", "[rocksdb][plugin][sst_dump]") {
    const encrypted_database d;
    std::filesystem::path sst;
    for (const auto& entry : std::filesystem::directory_iterator(d.db)) {
        if (entry.path().extension() == ".sst") sst = entry.path();
    }
    REQUIRE(!sst.empty());
    const std::string file = "--file=" + sst.string();
    const auto scan = run_tool(ATREST_ROCKSDB_SST_DUMP, {"--fs_uri=" + d.uri(true), file, "--command=scan"},
                               plugin_env(d.key_file));
    INFO(describe(scan));
    REQUIRE(scan.exit_code == 0);
    for (const int i : {0, 1500, encrypted_database::flushed - 1}) {
        CHECK(scan.out.find("'" + key_of(i) + "' seq:" + std::to_string(i + 1) + ", type:1 => " +
                            value_of(i, d.prefix) + "\n") != std::string::npos);
    }
    const auto verify = run_tool(ATREST_ROCKSDB_SST_DUMP, {"--fs_uri=" + d.uri(true), file, "--command=verify"},
                                 plugin_env(d.key_file));
    CHECK(verify.out.find("The file is ok") != std::string::npos);
    const auto plain = run_tool(ATREST_ROCKSDB_SST_DUMP, {file, "--command=verify"}, {});
    INFO(describe(plain));
    CHECK(plain.exit_code != 0);
    CHECK((plain.out + plain.err).find("Corruption") != std::string::npos);
}
