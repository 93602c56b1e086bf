#pragma once
// Shared pieces for the RocksDB adapter tests: a key manager + encrypted file system bundle,
// DB helpers, a raw scan of every file for clear text, and OpenSSL CTR as an outside reference.
#include "catch.hpp"
#include "key_manager_fixture.hpp"
#include "temp_dir.hpp"

#include <atrest/rocksdb/encrypted_file_system.hpp>

#include <openssl/evp.h>
#include <rocksdb/db.h>
#include <rocksdb/options.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

namespace atrest_test {

using test_key_manager = atrest::key_manager<atrest::memory_master_key<>>;
using test_fs = atrest::rocks::encrypted_file_system<test_key_manager>;

/// A key manager over `dir` and the encrypted file system over the default one.
struct encrypted_stack {
    std::shared_ptr<test_key_manager> keys;
    std::shared_ptr<test_fs> fs;
    std::unique_ptr<rocksdb::Env> env;

    explicit encrypted_stack(const std::filesystem::path& dir, std::uint8_t master_fill = 1,
                             atrest::method m = atrest::method::aes128_ctr)
        : keys(std::make_shared<test_key_manager>(dir, master(master_fill), encrypted(m))),
          fs(atrest::rocks::make_encrypted_file_system(keys)),
          env(atrest::rocks::make_env(fs)) {}
};

inline std::string key_of(int i) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "key%08d", i);
    return buf;
}

inline std::string value_of(int i, const std::string& prefix) { return prefix + std::to_string(i * 7919) + "-padding"; }

inline std::unique_ptr<rocksdb::DB> open_db(const std::filesystem::path& dir, rocksdb::Env* env,
                                            rocksdb::Options options = {}) {
    options.create_if_missing = true;
    options.env = env;
    rocksdb::DB* raw = nullptr;
    const auto st = rocksdb::DB::Open(options, dir.string(), &raw);
    INFO(st.ToString());
    REQUIRE(st.ok());
    return std::unique_ptr<rocksdb::DB>(raw);
}

inline void put_range(rocksdb::DB& db, int from, int to, const std::string& prefix) {
    rocksdb::WriteBatch batch;
    for (int i = from; i < to; ++i) {
        batch.Put(key_of(i), value_of(i, prefix));
        if (batch.Count() == 1000 || i + 1 == to) {
            REQUIRE(db.Write(rocksdb::WriteOptions(), &batch).ok());
            batch.Clear();
        }
    }
}

/// Iterates the whole DB and checks it holds exactly keys [from, to) with their values.
inline void expect_range(rocksdb::DB& db, int from, int to, const std::string& prefix) {
    std::unique_ptr<rocksdb::Iterator> it(db.NewIterator(rocksdb::ReadOptions()));
    int i = from;
    for (it->SeekToFirst(); it->Valid(); it->Next(), ++i) {
        REQUIRE(i < to);
        if (it->key().ToString() != key_of(i) || it->value().ToString() != value_of(i, prefix)) {
            FAIL("mismatch at " << i << ": " << it->key().ToString());
        }
    }
    REQUIRE(it->status().ok());
    REQUIRE(i == to);
}

inline std::vector<char> read_all(const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

/// Every regular file under `dir` whose raw bytes contain `needle`.
inline std::vector<std::string> files_containing(const std::filesystem::path& dir, const std::string& needle) {
    std::vector<std::string> hits;
    for (const auto& entry : std::filesystem::recursive_directory_iterator(dir)) {
        if (!entry.is_regular_file()) continue;
        const auto bytes = read_all(entry.path());
        if (std::search(bytes.begin(), bytes.end(), needle.begin(), needle.end()) != bytes.end()) {
            hits.push_back(entry.path().filename().string());
        }
    }
    return hits;
}

/// OpenSSL's AES-CTR (the outside reference): TiKV's layout is exactly EVP's aes-*-ctr.
inline std::vector<char> openssl_ctr(const atrest::file_info& info, const std::vector<char>& in) {
    const EVP_CIPHER* cipher = info.method == atrest::method::aes128_ctr   ? EVP_aes_128_ctr()
                               : info.method == atrest::method::aes256_ctr ? EVP_aes_256_ctr()
                                                                           : EVP_aes_192_ctr();
    std::vector<char> out(in.size());
    EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
    int n = 0;
    REQUIRE(EVP_EncryptInit_ex(ctx, cipher, nullptr, reinterpret_cast<const unsigned char*>(info.key->data()),
                               reinterpret_cast<const unsigned char*>(info.iv.data())) == 1);
    REQUIRE(EVP_EncryptUpdate(ctx, reinterpret_cast<unsigned char*>(out.data()), &n,
                              reinterpret_cast<const unsigned char*>(in.data()), static_cast<int>(in.size())) == 1);
    EVP_CIPHER_CTX_free(ctx);
    return out;
}

}  // namespace atrest_test
