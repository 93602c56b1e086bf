// RocksDB through atrest's adapter (plaintext, aes128-ctr, sm4-ctr, aes256-ctr, and every file
// authenticated — aes256-gcm-stream — with 4, 16 and 64 KiB segments) against RocksDB's own
// EncryptedFS: a CTR provider over a BlockCipher that encrypts one 16-byte block per virtual call
// (Botan AES-128; RocksDB ships only a ROT13 sample). db_bench-like workloads, 100-byte values.
//
//   atrest_bench_rocksdb [--keys=N] [benchmark flags]      (N: 200000 by default; 1000000 for docs)
//
// readrandom uses a 1 MiB block cache, so nearly every read goes to the file system and pays for
// decryption (the worst case for encryption; a large cache hides it).
#include <atrest/master_key.hpp>
#include <atrest/rocksdb/encrypted_file_system.hpp>

#include <benchmark/benchmark.h>
#include <botan/block_cipher.h>
#include <rocksdb/cache.h>
#include <rocksdb/db.h>
#include <rocksdb/env_encryption.h>
#include <rocksdb/convenience.h>
#include <rocksdb/table.h>
#include <rocksdb/utilities/object_registry.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

namespace fs = std::filesystem;
using key_manager = atrest::key_manager<atrest::memory_master_key<>>;

std::size_t g_keys = 200'000;
constexpr std::size_t value_size = 100;

/// RocksDB's BlockCipher contract: one block per virtual call.
class botan_aes128_block final : public rocksdb::BlockCipher {
public:
    botan_aes128_block() : m_aes(Botan::BlockCipher::create_or_throw("AES-128")) {
        const std::vector<std::uint8_t> key(16, 0x5a);
        m_aes->set_key(key.data(), key.size());
    }
    static const char* kClassName() { return "AtrestBenchBotanAES128"; }
    const char* Name() const override { return kClassName(); }
    std::size_t BlockSize() override { return 16; }
    rocksdb::Status Encrypt(char* data) override {
        m_aes->encrypt(reinterpret_cast<std::uint8_t*>(data));
        return rocksdb::Status::OK();
    }
    rocksdb::Status Decrypt(char* data) override {
        m_aes->decrypt(reinterpret_cast<std::uint8_t*>(data));
        return rocksdb::Status::OK();
    }

private:
    std::unique_ptr<Botan::BlockCipher> m_aes;
};

enum class setup { plaintext, aes128, sm4, rocksdb_ctr, aes256, sealed4k, sealed16k, sealed64k };

/// A scratch directory plus the Env under test; both torn down after each benchmark.
struct environment {
    fs::path dir;
    std::shared_ptr<key_manager> keys;
    std::shared_ptr<rocksdb::FileSystem> fs;
    std::unique_ptr<rocksdb::Env> env;

    explicit environment(setup s) : dir(fs::temp_directory_path() / ("atrest-bench-rocksdb-" + std::to_string(::getpid()))) {
        fs::remove_all(dir);
        fs::create_directories(dir);
        if (s == setup::rocksdb_ctr) {
            std::shared_ptr<rocksdb::EncryptionProvider> provider;
            check(rocksdb::EncryptionProvider::CreateFromString(
                      rocksdb::ConfigOptions(), std::string("id=CTR;cipher=") + botan_aes128_block::kClassName(), &provider),
                  "CTR provider");
            fs = rocksdb::NewEncryptedFS(rocksdb::FileSystem::Default(), provider);
        } else {
            atrest::key_manager_options o;
            o.data_encryption_method = s == setup::aes128 ? atrest::method::aes128_ctr
                                       : s == setup::sm4  ? atrest::method::sm4_ctr
                                       : s == setup::plaintext ? atrest::method::plaintext
                                                          : atrest::method::aes256_ctr;
            if (s == setup::sealed4k || s == setup::sealed16k || s == setup::sealed64k) {
                o.authenticated_files = atrest::authenticated_files::all;
                o.authenticated_segment_size = s == setup::sealed4k ? 4096 : s == setup::sealed16k ? 16384 : 65536;
            }
            keys = std::make_shared<key_manager>(dir / "meta", atrest::memory_master_key<>(atrest::secret_bytes::random(32)), o);
            fs = atrest::rocks::make_encrypted_file_system(keys);
        }
        env = rocksdb::NewCompositeEnv(fs);
    }
    ~environment() {
        env.reset();
        std::error_code ec;
        fs::remove_all(dir, ec);
    }

    std::unique_ptr<rocksdb::DB> open() {
        rocksdb::Options o;
        o.create_if_missing = true;
        o.env = env.get();
        rocksdb::BlockBasedTableOptions t;
        t.block_cache = rocksdb::NewLRUCache(1 << 20);
        o.table_factory.reset(rocksdb::NewBlockBasedTableFactory(t));
        rocksdb::DB* raw = nullptr;
        check(rocksdb::DB::Open(o, (dir / "db").string(), &raw), "open");
        return std::unique_ptr<rocksdb::DB>(raw);
    }

    static void check(const rocksdb::Status& s, const char* what) {
        if (!s.ok()) throw std::runtime_error(std::string(what) + ": " + s.ToString());
    }
};

std::string key_of(std::uint64_t i) {
    char buf[24];
    std::snprintf(buf, sizeof buf, "%016llu", static_cast<unsigned long long>(i));
    return buf;
}

void fill(rocksdb::DB& db, bool random, std::uint64_t seed) {
    std::mt19937_64 rng(seed);
    const std::string value(value_size, 'v');
    for (std::size_t i = 0; i < g_keys; ++i) {
        const std::uint64_t k = random ? rng() % g_keys : i;
        environment::check(db.Put(rocksdb::WriteOptions(), key_of(k), value), "put");
    }
    environment::check(db.Flush(rocksdb::FlushOptions()), "flush");
}

void bm_fill(benchmark::State& state, setup s, bool random) {
    for (auto _ : state) {
        state.PauseTiming();
        environment e(s);
        auto db = e.open();
        state.ResumeTiming();
        fill(*db, random, 42);
        state.PauseTiming();
        db.reset();
        state.ResumeTiming();
    }
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * g_keys));
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * g_keys * (value_size + 16)));
}

void bm_readrandom(benchmark::State& state, setup s) {
    environment e(s);
    {
        auto db = e.open();
        fill(*db, false, 0);
        environment::check(db->CompactRange(rocksdb::CompactRangeOptions(), nullptr, nullptr), "compact");
    }
    auto db = e.open();
    std::mt19937_64 rng(7);
    std::string value;
    std::size_t found = 0;
    for (auto _ : state) {
        for (std::size_t i = 0; i < g_keys; ++i) found += db->Get(rocksdb::ReadOptions(), key_of(rng() % g_keys), &value).ok();
    }
    if (found != state.iterations() * g_keys) state.SkipWithError("a key written was not found");
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * g_keys));
}

}  // namespace

int main(int argc, char** argv) {
    std::vector<char*> args;
    for (int i = 0; i < argc; ++i) {
        if (std::strncmp(argv[i], "--keys=", 7) == 0) {
            g_keys = std::stoull(argv[i] + 7);
        } else {
            args.push_back(argv[i]);
        }
    }
    rocksdb::ObjectLibrary::Default()->AddFactory<rocksdb::BlockCipher>(
        botan_aes128_block::kClassName(),
        [](const std::string&, std::unique_ptr<rocksdb::BlockCipher>* guard, std::string*) {
            guard->reset(new botan_aes128_block());
            return guard->get();
        });
    const std::pair<const char*, setup> setups[] = {{"plaintext", setup::plaintext},
                                                    {"atrest_aes128_ctr", setup::aes128},
                                                    {"atrest_sm4_ctr", setup::sm4},
                                                    {"rocksdb_ctr_aes128", setup::rocksdb_ctr},
                                                    {"atrest_aes256_ctr", setup::aes256},
                                                    {"atrest_aes256_gcm_stream_4k", setup::sealed4k},
                                                    {"atrest_aes256_gcm_stream_16k", setup::sealed16k},
                                                    {"atrest_aes256_gcm_stream_64k", setup::sealed64k}};
    for (const auto& [name, s] : setups) {
        const std::string suffix = std::string(name) + "/keys:" + std::to_string(g_keys);
        benchmark::RegisterBenchmark(("fillseq/" + suffix).c_str(), bm_fill, s, false)->Iterations(1)->Unit(benchmark::kMillisecond)->UseRealTime();
        benchmark::RegisterBenchmark(("fillrandom/" + suffix).c_str(), bm_fill, s, true)->Iterations(1)->Unit(benchmark::kMillisecond)->UseRealTime();
        benchmark::RegisterBenchmark(("readrandom/" + suffix).c_str(), bm_readrandom, s)->Iterations(1)->Unit(benchmark::kMillisecond)->UseRealTime();
    }
    int n = static_cast<int>(args.size());
    benchmark::Initialize(&n, args.data());
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
}
