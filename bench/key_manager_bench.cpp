// Key manager throughput with real fsyncs: new_file + delete_file pairs from 1 and 8 threads on
// dictionaries of 100 and 100,000 entries (per-operation cost must not grow with the dictionary),
// the time to open a 100,000-entry dictionary, and the floor: one raw append + fsync per op.
#include <atrest/dict.hpp>
#include <atrest/master_key.hpp>

#include <benchmark/benchmark.h>

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace {

using manager = atrest::key_manager<atrest::memory_master_key<>>;

std::filesystem::path bench_dir(const std::string& name) {
    const char* base = std::getenv("ATREST_BENCH_DIR");
    auto dir = std::filesystem::path(base != nullptr ? base : std::filesystem::temp_directory_path().string()) /
               ("atrest-bench-" + name);
    std::filesystem::remove_all(dir);
    return dir;
}

atrest::key_manager_options options() {
    atrest::key_manager_options o;
    o.data_encryption_method = atrest::method::aes128_ctr;
    return o;
}

atrest::memory_master_key<> master() {
    return atrest::memory_master_key<>(atrest::secret_bytes(std::vector<std::byte>(32, std::byte{1})));
}

/// A manager whose dictionary already lists `entries` files.
std::unique_ptr<manager> prefilled(const std::filesystem::path& dir, std::int64_t entries) {
    auto km = std::make_unique<manager>(dir, master(), options());
    std::vector<std::thread> pool;
    constexpr int fillers = 64;  // group commit makes a big fill cheap
    for (int t = 0; t < fillers; ++t) {
        pool.emplace_back([&, t] {
            for (std::int64_t i = t; i < entries; i += fillers) km->new_file(dir / "data" / (std::to_string(i) + ".sst"));
        });
    }
    for (auto& th : pool) th.join();
    return km;
}

void new_and_delete(benchmark::State& state) {
    const auto threads = static_cast<int>(state.range(0));
    const auto entries = state.range(1);
    const auto dir = bench_dir("ops");
    auto km = prefilled(dir, entries);
    constexpr int pairs_per_thread = 32;
    for (auto _ : state) {
        std::vector<std::thread> pool;
        for (int t = 0; t < threads; ++t) {
            pool.emplace_back([&, t] {
                for (int i = 0; i < pairs_per_thread; ++i) {
                    const auto path = dir / "tmp" / (std::to_string(t) + "-" + std::to_string(i));
                    km->new_file(path);
                    km->delete_file(path);
                }
            });
        }
        for (auto& th : pool) th.join();
    }
    state.SetItemsProcessed(state.iterations() * threads * pairs_per_thread * 2);
    state.counters["dictionary_entries"] = static_cast<double>(km->file_count());
    km.reset();
    std::filesystem::remove_all(dir);
}

void open_dictionary(benchmark::State& state) {
    const auto dir = bench_dir("open");
    prefilled(dir, state.range(0)).reset();
    for (auto _ : state) {
        manager km(dir, master(), options());
        benchmark::DoNotOptimize(km.file_count());
    }
    state.counters["file_dict_bytes"] = static_cast<double>(std::filesystem::file_size(dir / "file.dict"));
    std::filesystem::remove_all(dir);
}

/// The floor for a durable metadata op: append one 64-byte record and fsync, no dictionary.
void raw_append_fsync(benchmark::State& state) {
    const auto threads = static_cast<int>(state.range(0));
    const auto dir = bench_dir("raw");
    std::filesystem::create_directories(dir);
    atrest::posix_store store;
    store.replace(dir / "log", {});
    const std::vector<std::byte> record(64, std::byte{7});
    constexpr int ops_per_thread = 64;
    for (auto _ : state) {
        std::vector<std::thread> pool;
        for (int t = 0; t < threads; ++t) {
            pool.emplace_back([&] {
                for (int i = 0; i < ops_per_thread; ++i) {
                    store.append(dir / "log", record);
                    store.sync(dir / "log");
                }
            });
        }
        for (auto& th : pool) th.join();
    }
    state.SetItemsProcessed(state.iterations() * threads * ops_per_thread);
    std::filesystem::remove_all(dir);
}

}  // namespace

BENCHMARK(new_and_delete)->ArgNames({"threads", "entries"})->ArgsProduct({{1, 8}, {100, 100000}})->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(raw_append_fsync)->ArgName("threads")->Arg(1)->Arg(8)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(open_dictionary)->ArgName("entries")->Arg(100)->Arg(100000)->Unit(benchmark::kMillisecond);

BENCHMARK_MAIN();
