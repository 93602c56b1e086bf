// Key manager behaviour: file operations, persistence, rotation rules, exposure, key collection,
// master-key rotation and format conversion.
#include "catch.hpp"
#include "child_process.hpp"
#include "fault_store.hpp"
#include "key_manager_fixture.hpp"
#include "temp_dir.hpp"

#include <set>
#include <thread>

using namespace atrest_test;
using std::chrono::hours;

namespace {
using memory_key = atrest::memory_master_key<>;
using manager = atrest::key_manager<memory_key, atrest::posix_store, manual_clock>;
}  // namespace

TEST_CASE("new_file gives a fresh IV under the current key and survives reopening", "[key_manager]") {
    temp_dir dir;
    atrest::file_info a, b;
    {
        manager km(dir.path(), master(1), encrypted(atrest::method::aes256_ctr));
        a = km.new_file(dir / "db/000001.sst");
        b = km.new_file(dir / "db/000002.sst");
        CHECK(a.method == atrest::method::aes256_ctr);
        REQUIRE(a.key);
        CHECK(a.key->size() == 32);
        CHECK(a.key_id != 0);
        CHECK(a.key_id == b.key_id);
        CHECK(a.iv != b.iv);
        CHECK(km.get_file(dir / "db/000001.sst").iv == a.iv);
        CHECK(km.file_count() == 2);
    }
    manager km(dir.path(), master(1), encrypted(atrest::method::aes256_ctr));
    const auto again = km.get_file(dir / "db/000001.sst");
    CHECK(again.method == a.method);
    CHECK(again.key_id == a.key_id);
    CHECK(again.iv == a.iv);
    CHECK(*again.key == *a.key);
    CHECK(km.get_file(dir / "db/000002.sst").iv == b.iv);
}

TEST_CASE("unknown paths are plaintext and deleting them costs no I/O", "[key_manager]") {
    temp_dir dir;
    auto plan = std::make_shared<fault_plan>();
    atrest::key_manager<memory_key, fault_store> km(dir.path(), master(1), encrypted(), fault_store(plan));
    const auto info = km.get_file(dir / "never/created");
    CHECK(info.method == atrest::method::plaintext);
    CHECK_FALSE(info.encrypted());
    CHECK(info.key == nullptr);
    const std::uint64_t syncs = plan->syncs;
    km.delete_file(dir / "never/created");
    km.link_file(dir / "never/created", dir / "also/not", [] {});
    CHECK(plan->syncs == syncs);
}

TEST_CASE("deleting a directory drops every entry under it and nothing else", "[key_manager]") {
    temp_dir dir;
    manager km(dir.path(), master(1), encrypted());
    for (const char* p : {"db", "db/a.sst", "db/sub/b.sst", "db2/c.sst", "dbx"}) km.new_file(dir / p);
    km.delete_file(dir / "db");
    CHECK_FALSE(km.get_file(dir / "db").encrypted());
    CHECK_FALSE(km.get_file(dir / "db/a.sst").encrypted());
    CHECK_FALSE(km.get_file(dir / "db/sub/b.sst").encrypted());
    CHECK(km.get_file(dir / "db2/c.sst").encrypted());
    CHECK(km.get_file(dir / "dbx").encrypted());
    km.delete_file(dir / "db2/c.sst");
    CHECK(km.file_count() == 1);
}

TEST_CASE("link copies the entry, rename moves it and undoes the link if the rename fails", "[key_manager]") {
    temp_dir dir;
    manager km(dir.path(), master(1), encrypted());
    const auto src = km.new_file(dir / "wal/1.log");
    km.link_file(dir / "wal/1.log", dir / "backup/1.log", [] {});
    CHECK(km.get_file(dir / "backup/1.log").iv == src.iv);
    CHECK(km.get_file(dir / "wal/1.log").iv == src.iv);

    const auto old_dst = km.new_file(dir / "wal/2.log");
    CHECK_THROWS_AS(km.rename_file(dir / "wal/1.log", dir / "wal/2.log", [] { throw std::runtime_error("rename(2) failed"); }),
                    std::runtime_error);
    CHECK(km.get_file(dir / "wal/2.log").iv == old_dst.iv);  // restored
    CHECK(km.get_file(dir / "wal/1.log").iv == src.iv);

    bool renamed = false;
    km.rename_file(dir / "wal/1.log", dir / "wal/3.log", [&] { renamed = true; });
    CHECK(renamed);
    CHECK_FALSE(km.get_file(dir / "wal/1.log").encrypted());
    CHECK(km.get_file(dir / "wal/3.log").iv == src.iv);

    // Renaming a path onto itself keeps its entry (as rename(2) keeps the file).
    km.rename_file(dir / "wal/3.log", dir / "wal/3.log", [] {});
    CHECK(km.get_file(dir / "wal/3.log").iv == src.iv);

    // Renaming a plaintext file over an encrypted one leaves the destination plaintext.
    km.rename_file(dir / "plain.txt", dir / "wal/3.log", [] {});
    CHECK_FALSE(km.get_file(dir / "wal/3.log").encrypted());
}

TEST_CASE("data keys rotate after the period and when the clock goes backwards", "[key_manager][rotation]") {
    temp_dir dir;
    manual_clock clock;
    auto options = encrypted();
    options.data_key_rotation_period = hours(168);
    manager km(dir.path(), master(1), options, {}, clock);
    const auto first = km.new_file(dir / "a").key_id;
    clock.advance(hours(167));
    CHECK_FALSE(km.rotate_if_due());
    CHECK(km.new_file(dir / "b").key_id == first);
    clock.advance(hours(1));
    const auto second = km.new_file(dir / "c").key_id;
    CHECK(second != first);
    CHECK(km.data_keys().size() == 2);
    CHECK(km.get_file(dir / "a").key_id == first);  // old files keep their key
    clock.advance(-hours(1));
    CHECK(km.rotate_if_due());
    CHECK(km.current_key_id() != second);
    CHECK(km.data_keys().size() == 3);
    km.rotate_data_key();
    CHECK(km.data_keys().size() == 4);
}

TEST_CASE("changing the method rotates at open, old files stay readable", "[key_manager][rotation]") {
    temp_dir dir;
    std::uint64_t aes_key = 0;
    {
        manager km(dir.path(), master(1), encrypted(atrest::method::aes128_ctr));
        aes_key = km.new_file(dir / "old.sst").key_id;
    }
    manager km(dir.path(), master(1), encrypted(atrest::method::sm4_ctr));
    CHECK(km.current_key_id() != aes_key);
    const auto fresh = km.new_file(dir / "new.sst");
    CHECK(fresh.method == atrest::method::sm4_ctr);
    CHECK(fresh.key->size() == 16);
    const auto old = km.get_file(dir / "old.sst");
    CHECK(old.method == atrest::method::aes128_ctr);
    CHECK(old.key_id == aes_key);
}

TEST_CASE("turning encryption off records new files as plaintext and drops stale entries", "[key_manager]") {
    temp_dir dir;
    {
        manager km(dir.path(), master(1), encrypted());
        km.new_file(dir / "a.sst");
        km.new_file(dir / "b.sst");
    }
    manager km(dir.path(), master(1), atrest::key_manager_options{});
    CHECK(km.get_file(dir / "a.sst").encrypted());  // still readable
    const auto recreated = km.new_file(dir / "b.sst");
    CHECK_FALSE(recreated.encrypted());
    CHECK_FALSE(km.get_file(dir / "b.sst").encrypted());
    CHECK_THROWS_AS(km.rotate_data_key(), atrest::error);
}

TEST_CASE("a plaintext master key is refused for encryption unless allowed, and its keys count as exposed",
          "[key_manager][exposure]") {
    temp_dir dir;
    CHECK(expect_error([&] { atrest::key_manager<atrest::plaintext_master_key> km(dir.path(), {}, encrypted()); })
              .code() == atrest::errc::insecure);
    CHECK_FALSE(std::filesystem::exists(dir / "key.dict"));  // nothing written when refusing
    auto insecure = encrypted();
    insecure.allow_insecure_master_key = true;
    std::uint64_t exposed_id = 0;
    {
        atrest::key_manager<atrest::plaintext_master_key> km(dir.path(), {}, insecure);
        exposed_id = km.new_file(dir / "a").key_id;
        REQUIRE(km.data_keys().size() == 1);
        CHECK(km.data_keys()[0].was_exposed);
    }
    // A secure master key (with the plaintext one as previous): the exposed key is replaced at once.
    using upgraded = atrest::with_previous<memory_key, atrest::plaintext_master_key>;
    {
        atrest::key_manager<upgraded> km(dir.path(), upgraded(master(5), {}), encrypted());
        CHECK(km.current_key_id() != exposed_id);
        for (const auto& k : km.data_keys()) CHECK(k.was_exposed == (k.id == exposed_id));
        CHECK(km.get_file(dir / "a").key_id == exposed_id);
    }
    manager km(dir.path(), master(5), encrypted());  // re-sealed: the new key alone opens it
    CHECK(km.get_file(dir / "a").encrypted());
}

TEST_CASE("collect_unused_keys removes keys no file uses, never the current one", "[key_manager][rotation]") {
    temp_dir dir;
    manual_clock clock;
    manager km(dir.path(), master(1), encrypted(), {}, clock);
    km.new_file(dir / "gen1");
    clock.advance(hours(200));
    km.new_file(dir / "gen2");
    clock.advance(hours(200));
    const auto current = km.new_file(dir / "gen3").key_id;
    CHECK(km.collect_unused_keys() == 0);
    km.delete_file(dir / "gen1");
    km.delete_file(dir / "gen2");
    CHECK(km.collect_unused_keys() == 2);
    REQUIRE(km.data_keys().size() == 1);
    CHECK(km.data_keys()[0].id == current);
    km.delete_file(dir / "gen3");
    CHECK(km.collect_unused_keys() == 0);  // current stays
}

TEST_CASE("master-key rotation: the previous key is tried only on wrong_key, then re-sealed", "[key_manager][master]") {
    temp_dir dir;
    atrest::file_info info;
    {
        manager km(dir.path(), master(1, "old key"), encrypted());
        info = km.new_file(dir / "a");
    }
    const auto before = file_bytes(dir / "key.dict");
    const auto wrong = expect_error([&] { manager km(dir.path(), master(2, "new key"), encrypted()); });
    CHECK(wrong.code() == atrest::errc::wrong_key);
    CHECK(file_bytes(dir / "key.dict") == before);  // a failed open changes nothing

    using rotating = atrest::with_previous<memory_key, memory_key>;
    {
        atrest::key_manager<rotating> km(dir.path(), rotating(master(2, "new key"), master(1, "old key")), encrypted());
        CHECK(*km.get_file(dir / "a").key == *info.key);
    }
    CHECK(file_bytes(dir / "key.dict") != before);
    {
        manager km(dir.path(), master(2, "new key"), encrypted());  // no previous key needed any more
        CHECK(*km.get_file(dir / "a").key == *info.key);
    }  // one writer at a time: the next opens need the directory's lock
    CHECK(expect_error([&] { manager old(dir.path(), master(1, "old key"), encrypted()); }).code() ==
          atrest::errc::wrong_key);
    const auto both = expect_error(
        [&] { atrest::key_manager<rotating> r(dir.path(), rotating(master(3, "key three"), master(4, "key four")), encrypted()); });
    CHECK(both.code() == atrest::errc::wrong_key);
    CHECK(std::string(both.what()).find("key three") != std::string::npos);
    CHECK(std::string(both.what()).find("key four") != std::string::npos);
}

TEST_CASE("switching the file dictionary log off and on converts the format both ways", "[key_manager][format]") {
    temp_dir dir;
    auto options = encrypted();
    std::vector<atrest::file_info> infos;
    {
        manager km(dir.path(), master(1), options);
        for (int i = 0; i < 5; ++i) infos.push_back(km.new_file(dir / ("f" + std::to_string(i))));
    }
    CHECK(static_cast<int>(file_bytes(dir / "file.dict")[8]) == 2);
    options.enable_file_dictionary_log = false;
    {
        manager km(dir.path(), master(1), options);
        CHECK(static_cast<int>(file_bytes(dir / "file.dict")[8]) == 1);
        km.delete_file(dir / "f0");
        infos.push_back(km.new_file(dir / "f5"));
        const auto parsed = atrest::detail::file_dict::parse_file(file_bytes(dir / "file.dict"), {}, "f");
        CHECK(parsed.appended_records == 0);  // snapshot-only: rewritten whole
        CHECK(parsed.entries.size() == 5);
    }
    options.enable_file_dictionary_log = true;
    manager km(dir.path(), master(1), options);
    CHECK(static_cast<int>(file_bytes(dir / "file.dict")[8]) == 2);
    CHECK_FALSE(km.get_file(dir / "f0").encrypted());
    for (std::size_t i = 1; i < infos.size(); ++i) CHECK(km.get_file(dir / ("f" + std::to_string(i))).iv == infos[i].iv);
}

TEST_CASE("the log is compacted when removals pass the threshold", "[key_manager][format]") {
    temp_dir dir;
    auto options = encrypted();
    options.file_dictionary_rewrite_threshold = 3;
    manager km(dir.path(), master(1), options);
    for (int i = 0; i < 6; ++i) km.new_file(dir / ("f" + std::to_string(i)));
    for (int i = 0; i < 3; ++i) km.delete_file(dir / ("f" + std::to_string(i)));
    CHECK(atrest::detail::file_dict::parse_file(file_bytes(dir / "file.dict"), {}, "f").removals == 3);
    km.delete_file(dir / "f3");  // the fourth removal passes the threshold
    const auto parsed = atrest::detail::file_dict::parse_file(file_bytes(dir / "file.dict"), {}, "f");
    CHECK(parsed.appended_records == 0);
    CHECK(parsed.entries.size() == 2);
}

TEST_CASE("concurrent writers share fsyncs and every acknowledged entry is kept", "[key_manager][concurrency][threads]") {
    temp_dir dir;
    auto plan = std::make_shared<fault_plan>();
    constexpr int threads = 8, per_thread = 40;
    plan->sync_delay = std::chrono::milliseconds(20);  // while the leader syncs, the others must queue
    std::vector<std::vector<atrest::file_info>> made(threads);
    {
        atrest::key_manager<memory_key, fault_store> km(dir.path(), master(1), encrypted(), fault_store(plan));
        const std::uint64_t syncs_before = plan->syncs;
        std::vector<std::thread> pool;
        for (int t = 0; t < threads; ++t) {
            pool.emplace_back([&, t] {
                for (int i = 0; i < per_thread; ++i) {
                    made[t].push_back(km.new_file(dir / ("t" + std::to_string(t) + "/" + std::to_string(i))));
                    (void)km.get_file(dir / ("t" + std::to_string((t + 1) % threads) + "/0"));
                }
            });
        }
        for (auto& th : pool) th.join();
        const auto syncs = plan->syncs - syncs_before;
        INFO("fsyncs for " << threads * per_thread << " new_file calls: " << syncs);
        CHECK(syncs < static_cast<std::uint64_t>(threads * per_thread / 2));  // one fsync each would be 320
        CHECK(km.file_count() == threads * per_thread);
    }
    manager km(dir.path(), master(1), encrypted());
    for (int t = 0; t < threads; ++t)
        for (int i = 0; i < per_thread; ++i)
            REQUIRE(km.get_file(dir / ("t" + std::to_string(t) + "/" + std::to_string(i))).iv == made[t][i].iv);
}

TEST_CASE("one writer per data directory, readers and the next writer after it are not blocked", "[key_manager][lock]") {
    temp_dir dir;
    auto writer = std::make_unique<manager>(dir.path(), master(1), encrypted());
    const auto info = writer->new_file(dir / "db/000001.sst");

    const auto second = expect_error([&] { manager again(dir.path(), master(1), encrypted()); });
    CHECK(second.code() == atrest::errc::busy);
    CHECK(std::string(second.what()).find((dir.path() / "atrest.lock").string()) != std::string::npos);

    // Another process is refused the same way (flock is per open file, not per process).
    const int child = exit_code_in_child([&] {
        try {
            manager again(dir.path(), master(1), encrypted());
        } catch (const atrest::error& e) {
            return e.code() == atrest::errc::busy ? 0 : 2;
        }
        return 1;
    });
    CHECK(child == 0);

    auto read_only = encrypted();
    read_only.read_only = true;
    manager reader(dir.path(), master(1), read_only);
    CHECK(reader.get_file(dir / "db/000001.sst").iv == info.iv);

    writer.reset();  // the lock goes with the writer
    manager next(dir.path(), master(1), encrypted());
    CHECK(next.get_file(dir / "db/000001.sst").iv == info.iv);
}
