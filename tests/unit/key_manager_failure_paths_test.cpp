// The key manager's failure paths, each reproduced as it was found by an outside campaign (kills,
// a full disk, races, operator mistakes) before it was fixed.
#include "catch.hpp"
#include "child_process.hpp"
#include "fault_store.hpp"
#include "key_manager_fixture.hpp"
#include "temp_dir.hpp"

#include <atrest/config/toml_config.hpp>
#include <atrest/detail/steps.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <future>
#include <thread>

using namespace atrest_test;

namespace {
using memory_key = atrest::memory_master_key<>;
using faulty_manager = atrest::key_manager<memory_key, fault_store>;
using manager = atrest::key_manager<memory_key>;

template <class F>
concept appends_literal = requires(F& f) { f.append("a literal would carry its NUL"); };

::mode_t mode_of(const std::filesystem::path& p) {
    struct ::stat st {};
    REQUIRE(::stat(p.c_str(), &st) == 0);
    return st.st_mode & 07777;
}
}  // namespace

TEST_CASE("a compaction that fails on a full disk fails no operation and leaves the directory openable",
          "[key_manager][failure]") {
    temp_dir dir;
    auto plan = std::make_shared<fault_plan>();
    auto options = encrypted();
    options.file_dictionary_rewrite_threshold = 3;  // compaction due after every few removals
    std::map<std::string, std::array<std::byte, 16>> kept;
    {
        faulty_manager km(dir.path(), master(1), options, fault_store(plan));
        plan->fail_replace_errno = ENOSPC;  // every atomic replace fails from now on; appends still fit
        for (int i = 0; i < 30; ++i) (void)km.new_file(dir / ("f" + std::to_string(i)));
        for (int i = 0; i < 30; i += 2) km.delete_file(dir / ("f" + std::to_string(i)));  // none may throw
        for (int i = 1; i < 30; i += 2) kept["f" + std::to_string(i)] = km.get_file(dir / ("f" + std::to_string(i))).iv;
        CHECK(plan->replaces > 3);  // compactions were attempted, and failed
        // The chain in memory still matches the file: later appends verify at the next open.
        (void)km.new_file(dir / "after");
        kept["after"] = km.get_file(dir / "after").iv;
    }
    manager km(dir.path(), master(1), options);  // space is back: it opens and compacts
    for (const auto& [name, iv] : kept) {
        INFO(name);
        CHECK(km.get_file(dir / name).iv == iv);
    }
    for (int i = 0; i < 30; i += 2) CHECK_FALSE(km.get_file(dir / ("f" + std::to_string(i))).encrypted());
    CHECK(km.file_count() == kept.size());
}

TEST_CASE("an open on a full disk keeps the dictionary it cannot rewrite, cutting off a torn tail",
          "[key_manager][failure]") {
    temp_dir dir;
    atrest::file_info a;
    {
        manager km(dir.path(), master(1), encrypted());
        a = km.new_file(dir / "a");
        (void)km.new_file(dir / "b");
    }
    auto bytes = file_bytes(dir / "file.dict");
    bytes.resize(bytes.size() - 5);  // b's record torn
    {
        auto fd = atrest::detail::posix::open_file(dir / "file.dict", O_WRONLY | O_TRUNC);
        atrest::detail::posix::write_all(fd.get(), bytes, dir / "file.dict");
    }
    auto plan = std::make_shared<fault_plan>();
    plan->fail_replace_errno = ENOSPC;
    {
        faulty_manager km(dir.path(), master(1), encrypted(), fault_store(plan));
        CHECK(km.get_file(dir / "a").iv == a.iv);
        CHECK_FALSE(km.get_file(dir / "b").encrypted());
        (void)km.new_file(dir / "c");  // appends continue the existing file's chain
    }
    manager km(dir.path(), master(1), encrypted());
    CHECK(km.get_file(dir / "a").iv == a.iv);
    CHECK(km.get_file(dir / "c").encrypted());
}

TEST_CASE("a rename whose file step fails keeps the target's entry, even when recording that fails too",
          "[key_manager][failure]") {
    temp_dir dir;
    auto plan = std::make_shared<fault_plan>();
    atrest::file_info target;
    {
        faulty_manager km(dir.path(), master(1), encrypted(), fault_store(plan));
        (void)km.new_file(dir / "src");
        target = km.new_file(dir / "dst");
        CHECK_THROWS_AS(km.rename_file(dir / "src", dir / "dst",
                                       [&] {
                                           plan->fail_append_errno = ENOSPC;  // the "aborted" record will not fit
                                           throw std::runtime_error("rename(2) failed");
                                       }),
                        std::runtime_error);
        CHECK(km.get_file(dir / "dst").iv == target.iv);
        (void)km.new_file(dir / "later");  // writes the owed "aborted" record first
        CHECK(km.pending_renames().empty());
    }
    manager km(dir.path(), master(1), encrypted());
    CHECK(km.get_file(dir / "dst").iv == target.iv);
    CHECK(km.get_file(dir / "src").encrypted());
}

TEST_CASE("a rename onto an existing file is settled by where the file is after a kill at any step",
          "[key_manager][failure]") {
    // The child renames src onto dst (RocksDB's CURRENT update) and kills itself at each step.
    for (const char* step : {"rename:begun", "rename:file-renamed", "rename:committed"}) {
        INFO(step);
        temp_dir dir;
        {
            manager km(dir.path(), master(1), encrypted());
            auto f = km.create(dir / "CURRENT");
            f.append(std::string_view("MANIFEST-000001\n"));
            f.sync();
            auto g = km.create(dir / "CURRENT.dbtmp");
            g.append(std::string_view("MANIFEST-000002\n"));
            g.sync();
        }
        static const char* kill_step = nullptr;
        kill_step = step;
        const int code = exit_code_in_child([&] {
            manager km(dir.path(), master(1), encrypted());
            atrest::detail::g_step_hook.store(+[](const char* s) {
                if (std::string_view(s) == kill_step) ::_exit(99);  // as abrupt as SIGKILL for the files
            });
            km.rename(dir / "CURRENT.dbtmp", dir / "CURRENT");
            return 0;
        });
        CHECK(code == 99);
        manager km(dir.path(), master(1), encrypted());
        const auto current = km.open(dir / "CURRENT");
        std::string text(16, '\0');
        REQUIRE(current.read(0, text) == 16);
        const bool renamed = !std::filesystem::exists(dir / "CURRENT.dbtmp");
        CHECK(text == (renamed ? "MANIFEST-000002\n" : "MANIFEST-000001\n"));
        CHECK(renamed == (std::string_view(step) != "rename:begun"));
        CHECK(km.pending_renames().empty());
        if (!renamed) {
            std::string tmp(16, '\0');
            REQUIRE(km.open(dir / "CURRENT.dbtmp").read(0, tmp) == 16);
            CHECK(tmp == "MANIFEST-000002\n");
        }
    }
}

TEST_CASE("link and rename cannot race with collect_unused_keys into an entry without its key",
          "[key_manager][failure][threads]") {
    temp_dir dir;
    manual_clock clock;
    atrest::key_manager<memory_key, atrest::posix_store, manual_clock> km(dir.path(), master(1), encrypted(), {}, clock);
    auto f = km.create(dir / "old");
    f.append(std::string_view("written under the first key"));
    f.sync();
    const auto old_key = km.get_file(dir / "old").key_id;
    km.rotate_data_key();  // "old" is now the only user of its key

    // Between reading old's entry and committing the link's entry, another thread drops old's
    // entry and collects keys. The link holds the collection lock, so the collection waits for it.
    static std::function<void()> in_window;
    std::future<std::size_t> collected;
    in_window = [&] {
        collected = std::async(std::launch::async, [&] {
            km.delete_file(dir / "old");  // old's entry goes: its key is now used by no entry but the link's
            return km.collect_unused_keys();
        });
        CHECK(collected.wait_for(std::chrono::milliseconds(200)) == std::future_status::timeout);
    };
    atrest::detail::g_step_hook.store(+[](const char* s) {
        if (std::string_view(s) == "link:entry-read" && in_window) std::exchange(in_window, nullptr)();
    });
    km.link(dir / "old", dir / "linked");
    atrest::detail::g_step_hook.store(nullptr);
    CHECK(collected.get() == 0);  // "linked" still uses the key
    const auto linked = km.get_file(dir / "linked");  // would be errc::not_found had the key gone
    CHECK(linked.key_id == old_key);
    std::string text(27, '\0');
    CHECK(km.open(dir / "linked").read(0, text) == 27);
    CHECK(text == "written under the first key");
}

TEST_CASE("empty paths are invalid, '/', the data directory and trailing slashes are what they say",
          "[key_manager][failure]") {
    temp_dir dir;
    manager km(dir.path(), master(1), encrypted());
    (void)km.new_file(dir / "db/a");
    (void)km.new_file("/elsewhere/abs-1");
    (void)km.new_file("/elsewhere/abs-2");
    CHECK(expect_error([&] { km.delete_file(""); }).code() == atrest::errc::invalid_argument);
    CHECK(expect_error([&] { (void)km.new_file(""); }).code() == atrest::errc::invalid_argument);
    CHECK(expect_error([&] { (void)km.new_file(dir.path()); }).code() == atrest::errc::invalid_argument);
    CHECK(km.file_count() == 3);
    km.delete_file(dir.path().string() + "/db/");  // a trailing slash names the directory db
    CHECK_FALSE(km.get_file(dir / "db/a").encrypted());
    km.delete_file("/");  // the root: every absolute entry, and nothing inside the data directory
    (void)km.new_file(dir / "kept");
    CHECK(km.file_count() == 1);
    km.delete_file(dir.path());  // the data directory itself: every relative entry
    CHECK(km.file_count() == 0);
}

TEST_CASE("a FIFO as key.dict, file.dict, the lock file or a config file is an error, never a hang",
          "[key_manager][failure]") {
    // In a child with an alarm: a hang kills it, and the test reports it as the failure it is.
    for (const char* name : {"key.dict", "file.dict", "atrest.lock", "config.toml"}) {
        INFO(name);
        temp_dir dir;
        if (std::string_view(name) != "config.toml") {
            manager km(dir.path(), master(1), encrypted());
        }
        std::filesystem::remove(dir / name);
        REQUIRE(::mkfifo((dir / name).c_str(), 0600) == 0);
        const int code = exit_code_in_child([&] {
            ::alarm(10);
            try {
                if (std::string_view(name) == "config.toml") {
                    (void)atrest::load_toml_config(dir / name);
                } else {
                    manager km(dir.path(), master(1), encrypted());
                }
            } catch (const atrest::error& e) {
                const std::string what = e.what();
                return what.find("FIFO") != std::string::npos && what.find(name) != std::string::npos ? 0 : 3;
            }
            return 4;
        });
        CHECK(code == 0);
    }
}

TEST_CASE("a rewrite keeps an operator's stricter mode on key.dict and file.dict", "[key_manager][failure]") {
    temp_dir dir;
    { manager km(dir.path(), master(1), encrypted()); }
    CHECK(mode_of(dir / "file.dict") == 0600);
    std::filesystem::permissions(dir / "file.dict", std::filesystem::perms::owner_read);
    std::filesystem::permissions(dir / "key.dict", std::filesystem::perms::owner_read);
    {
        manager km(dir.path(), master(1), encrypted());  // rewrites file.dict at open
        km.rotate_data_key();                             // rewrites key.dict
    }
    CHECK(mode_of(dir / "file.dict") == 0400);
    CHECK(mode_of(dir / "key.dict") == 0400);
    std::filesystem::permissions(dir / "file.dict", std::filesystem::perms::all);  // 0777: too loose
    { manager km(dir.path(), master(1), encrypted()); }
    CHECK(mode_of(dir / "file.dict") == 0600);  // never looser than 0600
}

TEST_CASE("create never replaces an existing file's entry, the owning file reads and appends strings",
          "[key_manager][file]") {
    temp_dir dir;
    manager km(dir.path(), master(1), encrypted());
    {
        auto f = km.create(dir / "log");
        f.append(std::string("hello, "));
        f.append(std::string_view("world"));
        f.sync();
        CHECK(f.size() == 12);
    }
    const auto before = km.get_file(dir / "log");
    CHECK(expect_error([&] { (void)km.create(dir / "log"); }).code() == atrest::errc::already_exists);
    CHECK(km.get_file(dir / "log").iv == before.iv);  // the README's old order replaced it here
    {
        auto f = km.open(dir / "log", atrest::access::append);
        f.append(std::vector<char>{'!'});
        f.sync();
    }
    const auto r = km.open(dir / "log");
    std::string text(13, '\0');
    CHECK(r.read(0, text) == 13);
    CHECK(text == "hello, world!");
    std::vector<std::byte> tail(20);
    CHECK(r.read(7, tail) == 6);
    CHECK(expect_error([&] { auto w = km.open(dir / "log"); w.append(std::string("x")); }).code() ==
          atrest::errc::invalid_argument);
    static_assert(!appends_literal<atrest::data_file>);
    CHECK(km.remove(dir / "log"));
    CHECK_FALSE(km.get_file(dir / "log").encrypted());
    CHECK_FALSE(km.remove(dir / "log"));
}
