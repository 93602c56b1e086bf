// Debian's unmodified db_bench with --fs_uri=atrest:<dir> and the plugin preloaded: a tiny
// fillseq + flush + readrandom runs, finds every key, and leaves files that hold no value in the
// clear; the same run without atrest (db_bench is deterministic for fillseq) holds the same data,
// read back by ldb through the plugin, and its files do show the values (so the scan can fail).
#include "plugin_support.hpp"

#include <set>
#include <string>

using namespace atrest_test;

namespace {

constexpr int keys = 5000;

std::vector<std::string> db_bench_args(const std::filesystem::path& db) {
    return {"--db=" + db.string(), "--benchmarks=fillseq,flush,readrandom", "--num=" + std::to_string(keys),
            "--compression_type=none", "--seed=1", "--threads=1", "--statistics=false"};
}

/// The byte string a `0x...` hex value of `ldb scan --hex` stands for.
std::string unhex(const std::string& text) {
    REQUIRE(text.starts_with("0x"));
    std::string out;
    for (std::size_t i = 2; i + 1 < text.size(); i += 2) {
        out += static_cast<char>(std::stoi(text.substr(i, 2), nullptr, 16));
    }
    return out;
}

}  // namespace

TEST_CASE("db_bench fillseq and readrandom through --fs_uri=atrest: leave no value in the clear",
          "[rocksdb][plugin][db_bench]") {
    const temp_dir dir;
    const auto key_file = dir / "master.key";
    write_master_key_file(key_file, 11);
    const auto encrypted = dir / "encrypted";
    const auto plain = dir / "plain";

    auto env = plugin_env(key_file);
    env["ATREST_CREATE_IF_MISSING"] = "1";
    auto args = db_bench_args(encrypted);
    args.push_back("--fs_uri=atrest:" + encrypted.string());
    const auto run = run_tool(ATREST_ROCKSDB_DB_BENCH, args, env);
    INFO(describe(run));
    REQUIRE(run.exit_code == 0);
    CHECK(run.out.find("(" + std::to_string(keys) + " of " + std::to_string(keys) + " found)") != std::string::npos);
    CHECK(std::filesystem::exists(encrypted / "key.dict"));

    const auto baseline = run_tool(ATREST_ROCKSDB_DB_BENCH, db_bench_args(plain), {});
    INFO(describe(baseline));
    REQUIRE(baseline.exit_code == 0);

    // The same rows in both databases, the encrypted one read through the plugin.
    const auto plain_scan = ldb(plain, {"scan", "--hex"}, {});
    const auto encrypted_scan = ldb(encrypted, {"--fs_uri=atrest-ro:" + encrypted.string(), "scan", "--hex"}, env);
    REQUIRE(plain_scan.exit_code == 0);
    REQUIRE(encrypted_scan.exit_code == 0);
    const auto rows = parse_scan(plain_scan.out);
    CHECK(rows.size() == static_cast<std::size_t>(keys));
    CHECK(encrypted_scan.out == plain_scan.out);

    // Every 100-byte value of every 100th row: in the plaintext run's files, nowhere in ours.
    std::set<std::string> checked;
    for (std::size_t i = 0; i < rows.size(); i += 100) {
        const std::string value = unhex(rows[i].second);
        REQUIRE(value.size() == 100);
        if (!checked.insert(value).second) continue;
        INFO("row " << i);
        CHECK(!files_containing(plain, value).empty());
        CHECK(files_containing(encrypted, value).empty());
    }
    CHECK(checked.size() > 10);
    // Without the plugin the encrypted run cannot be read at all.
    const auto without = ldb(encrypted, {"scan", "--hex"}, {});
    CHECK(without.exit_code != 0);
}
