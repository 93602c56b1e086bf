#pragma once
// Shared pieces for the object-registry and plugin tests: an encrypted database written through
// the adapter under a master key *file* (what a tool finds in the environment), and Debian's
// ldb / db_bench run as subprocesses with the plugin preloaded.
#include "../rocksdb_support.hpp"
#include "subprocess.hpp"

#include <atrest/config.hpp>

#include <fstream>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#ifndef ATREST_ROCKSDB_LDB
#define ATREST_ROCKSDB_LDB "ldb"
#endif
#ifndef ATREST_ROCKSDB_DB_BENCH
#define ATREST_ROCKSDB_DB_BENCH "db_bench"
#endif
#ifndef ATREST_ROCKSDB_SST_DUMP
#define ATREST_ROCKSDB_SST_DUMP "sst_dump"
#endif

namespace atrest_test {

/// A master key file as TiKV writes it (64 hex digits, newline), mode 0600.
inline void write_master_key_file(const std::filesystem::path& path, unsigned seed) {
    std::mt19937 rng(seed);
    static constexpr char digits[] = "0123456789abcdef";
    std::string text;
    for (int i = 0; i < 64; ++i) text += digits[rng() % 16];
    text += '\n';
    { std::ofstream create(path, std::ios::binary | std::ios::trunc); }
    std::filesystem::permissions(path, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
    std::ofstream(path, std::ios::binary) << text;
}

/// A database in `dir/db` (metadata beside it) written through the adapter and closed again:
/// keys [0, flushed) in SSTs after a flush, [flushed, total) only in the WAL.
struct encrypted_database final {
    temp_dir dir;
    std::filesystem::path db = dir / "db";
    std::filesystem::path key_file = dir / "master.key";
    static constexpr int flushed = 3000;
    static constexpr int total = 3100;
    static constexpr const char* prefix = "plugin-test-value-";

    /// The settings an engine would read from its config: the master key file and `m`.
    [[nodiscard]] atrest::encryption_config config(atrest::method m = atrest::method::aes128_ctr) const {
        atrest::encryption_config c;
        c.data_encryption_method = m;
        c.master_key = atrest::master_key_config{atrest::master_key_config::kind::file, key_file, {}, {}, {}};
        return c;
    }

    /// The database open as an engine keeps it: key manager (holding the writer lock), file
    /// system, Env and DB, closed in the reverse order.
    struct live final {
        std::shared_ptr<atrest::configured_key_manager<>> keys;
        std::shared_ptr<rocksdb::FileSystem> fs;
        std::unique_ptr<rocksdb::Env> env;
        std::unique_ptr<rocksdb::DB> db;

        explicit live(const encrypted_database& d, atrest::method m = atrest::method::aes128_ctr)
            : keys(atrest::open_key_manager(d.config(m), d.db)),
              fs(atrest::rocks::make_encrypted_file_system(keys)),
              env(atrest::rocks::make_env(fs)),
              db(open_db(d.db, env.get())) {}
        ~live() {
            if (db) (void)db->Close();
        }
        live(const live&) = delete;
        live& operator=(const live&) = delete;
    };

    explicit encrypted_database(atrest::method m = atrest::method::aes128_ctr) {
        write_master_key_file(key_file, 7);
        live writer(*this, m);
        put_range(*writer.db, 0, flushed, prefix);
        REQUIRE(writer.db->Flush(rocksdb::FlushOptions()).ok());
        put_range(*writer.db, flushed, total, prefix);
    }

    [[nodiscard]] std::string uri(bool read_only = false) const {
        return std::string(read_only ? "atrest-ro:" : "atrest:") + db.string();
    }
};

/// Runs one of Debian's RocksDB tools; one that is not installed fails the test, naming the
/// package (./scripts/dev installs it).
inline process_result run_tool(const std::string& tool, const std::vector<std::string>& args,
                               const std::map<std::string, std::string>& env) {
    try {
        return run_process(tool, args, env);
    } catch (const std::exception& e) {
        FAIL(e.what() << "; Debian's package rocksdb-tools ships ldb, sst_dump and db_bench (./scripts/dev installs it)");
    }
    return {};
}

/// The environment that loads the plugin and names the master key file.
inline std::map<std::string, std::string> plugin_env(const std::filesystem::path& key_file) {
    return {{"LD_PRELOAD", ATREST_ROCKSDB_PLUGIN}, {"ATREST_MASTER_KEY_FILE", key_file.string()}};
}

inline process_result ldb(const std::filesystem::path& db, const std::vector<std::string>& args,
                          const std::map<std::string, std::string>& env) {
    std::vector<std::string> all{"--db=" + db.string()};
    all.insert(all.end(), args.begin(), args.end());
    return run_tool(ATREST_ROCKSDB_LDB, all, env);
}

/// `ldb scan` output ("key : value" per line) as pairs.
inline std::vector<std::pair<std::string, std::string>> parse_scan(const std::string& out) {
    std::vector<std::pair<std::string, std::string>> rows;
    std::istringstream in(out);
    std::string line;
    while (std::getline(in, line)) {
        const auto sep = line.find(" : ");
        REQUIRE(sep != std::string::npos);
        rows.emplace_back(line.substr(0, sep), line.substr(sep + 3));
    }
    return rows;
}

inline std::string describe(const process_result& r) {
    return "exit " + std::to_string(r.exit_code) + "\nstdout: " + r.out.substr(0, 2000) + "\nstderr: " + r.err;
}

}  // namespace atrest_test
