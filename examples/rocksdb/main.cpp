// atrest_rocksdb_demo: an encrypted RocksDB in a few lines. Creates (or opens) a database whose
// encryption metadata lives beside it, writes N keys, flushes, compacts, reopens, verifies every
// key and checks that no value is on disk in the clear.
//
//   atrest_rocksdb_demo --db DIR --master-key-file FILE [--method aes128-ctr] [--keys N]
//                       [--value-prefix STR] [--create-master-key]
#include <atrest/master_key.hpp>
#include <atrest/rocksdb/encrypted_file_system.hpp>

#include <CLI/CLI.hpp>
#include <rocksdb/db.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <memory>
#include <stdexcept>
#include <string>

namespace {

using key_manager = atrest::key_manager<atrest::file_master_key<>>;
namespace fs = std::filesystem;

struct demo_failure : std::runtime_error {
    using std::runtime_error::runtime_error;
};

void check(const rocksdb::Status& s, const std::string& what) {
    if (!s.ok()) throw demo_failure(what + ": " + s.ToString());
}

std::string key_of(std::uint64_t i) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "key%010llu", static_cast<unsigned long long>(i));
    return buf;
}

std::string value_of(std::uint64_t i, const std::string& prefix) { return prefix + std::to_string(i); }

/// One open of the database: key manager, encrypted file system, Env and DB, closed in order.
class encrypted_db final {
public:
    encrypted_db(const fs::path& dir, const fs::path& master_key_file, atrest::method m) {
        atrest::key_manager_options options;
        options.data_encryption_method = m;
        m_keys = std::make_shared<key_manager>(dir, atrest::file_master_key<>(master_key_file), options);
        m_fs = atrest::rocks::make_encrypted_file_system(m_keys);
        m_env = atrest::rocks::make_env(m_fs);
        rocksdb::Options db_options;
        db_options.create_if_missing = true;
        db_options.env = m_env.get();
        rocksdb::DB* raw = nullptr;
        check(rocksdb::DB::Open(db_options, dir.string(), &raw), "open " + dir.string());
        m_db.reset(raw);
    }
    ~encrypted_db() {
        if (m_db) (void)m_db->Close();
    }
    encrypted_db(const encrypted_db&) = delete;
    encrypted_db& operator=(const encrypted_db&) = delete;

    rocksdb::DB& db() { return *m_db; }
    key_manager& keys() { return *m_keys; }

private:
    std::shared_ptr<key_manager> m_keys;
    std::shared_ptr<rocksdb::FileSystem> m_fs;
    std::unique_ptr<rocksdb::Env> m_env;
    std::unique_ptr<rocksdb::DB> m_db;
};

std::size_t files_with_clear_text(const fs::path& dir, const std::string& needle) {
    std::size_t hits = 0;
    for (const auto& entry : fs::recursive_directory_iterator(dir)) {
        if (!entry.is_regular_file()) continue;
        std::ifstream in(entry.path(), std::ios::binary);
        const std::string bytes{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
        if (bytes.find(needle) != std::string::npos) {
            std::cout << "  clear text found in " << entry.path().string() << "\n";
            ++hits;
        }
    }
    return hits;
}

int run(const fs::path& dir, const fs::path& key_file, atrest::method m, std::uint64_t n, const std::string& prefix) {
    const auto start = std::chrono::steady_clock::now();
    {
        encrypted_db edb(dir, key_file, m);
        rocksdb::WriteBatch batch;
        for (std::uint64_t i = 0; i < n; ++i) {
            batch.Put(key_of(i), value_of(i, prefix));
            if (batch.Count() == 1000 || i + 1 == n) {
                check(edb.db().Write(rocksdb::WriteOptions(), &batch), "write");
                batch.Clear();
            }
        }
        check(edb.db().Flush(rocksdb::FlushOptions()), "flush");
        check(edb.db().CompactRange(rocksdb::CompactRangeOptions(), nullptr, nullptr), "compact");
    }
    const auto written = std::chrono::steady_clock::now();

    encrypted_db edb(dir, key_file, m);  // reopen: everything is read back through decryption
    std::uint64_t verified = 0;
    std::unique_ptr<rocksdb::Iterator> it(edb.db().NewIterator(rocksdb::ReadOptions()));
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
        const auto key = it->key().ToString();
        if (key.rfind("key", 0) != 0) continue;
        const std::uint64_t i = std::stoull(key.substr(3));
        if (i < n && it->value().ToString() != value_of(i, prefix)) throw demo_failure("wrong value for " + key);
        if (i < n) ++verified;
    }
    check(it->status(), "iterate");
    if (verified != n) throw demo_failure("verified " + std::to_string(verified) + " of " + std::to_string(n) + " keys");
    const auto done = std::chrono::steady_clock::now();

    std::size_t encrypted = 0;
    for (const auto& [path, entry] : edb.keys().files()) encrypted += entry.method != atrest::method::plaintext;
    const auto ms = [](auto d) { return std::chrono::duration_cast<std::chrono::milliseconds>(d).count(); };
    std::cout << "database:        " << dir.string() << "\n"
              << "method:          " << atrest::to_string(m) << "\n"
              << "keys written:    " << n << " (flushed, compacted) in " << ms(written - start) << " ms\n"
              << "keys verified:   " << verified << " after reopen in " << ms(done - written) << " ms\n"
              << "encrypted files: " << encrypted << " in the file dictionary, " << edb.keys().data_keys().size()
              << " data key(s), current id " << edb.keys().current_key_id() << "\n";
    const std::size_t leaks = m == atrest::method::plaintext ? 0 : files_with_clear_text(dir, prefix);
    if (m != atrest::method::plaintext) {
        std::cout << "clear-text scan: " << leaks << " files contain \"" << prefix << "\"\n";
    }
    return leaks == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"Writes, compacts, reopens and verifies an encrypted RocksDB (atrest)"};
    std::string db_dir, key_file, method_name = "aes128-ctr", prefix = "atrest-demo-value-";
    std::uint64_t keys = 100'000;
    bool create_key = false;
    app.add_option("--db", db_dir, "Database directory (the encryption metadata goes there too)")->required();
    app.add_option("--master-key-file", key_file, "Master key: 64 hex digits and a newline")->required();
    app.add_option("--method", method_name, "plaintext, aes128-ctr, aes192-ctr, aes256-ctr or sm4-ctr")
        ->capture_default_str();
    app.add_option("--keys", keys, "Number of keys to write")->capture_default_str()->check(CLI::PositiveNumber);
    app.add_option("--value-prefix", prefix, "Every value starts with this (then searched for on disk)")
        ->capture_default_str()
        ->check([](const std::string& s) { return s.size() >= 4 ? std::string() : "must be at least 4 bytes"; });
    app.add_flag("--create-master-key", create_key, "Generate the master key file (mode 0600) if it does not exist");
    CLI11_PARSE(app, argc, argv);

    try {
        const atrest::method m = atrest::parse_method(method_name);
        if (!fs::exists(key_file)) {
            if (!create_key) {
                throw demo_failure("master key file '" + key_file +
                                   "' does not exist; pass --create-master-key to generate one");
            }
            if (const auto parent = fs::path(key_file).parent_path(); !parent.empty()) fs::create_directories(parent);
            atrest::generate_master_key_file(key_file);
            std::cout << "generated master key file " << key_file << "\n";
        }
        return run(db_dir, key_file, m, keys, prefix);
    } catch (const std::exception& e) {
        std::cerr << "atrest_rocksdb_demo: " << e.what() << "\n";
        return 1;
    }
}
