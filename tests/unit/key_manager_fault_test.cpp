// I/O faults during metadata writes: ENOSPC and EIO on append, EIO on fsync, short writes, a
// failing cleanup, and a crash after every possible number of bytes. After each, the next
// operation works, the next start works, and every acknowledged entry is there.
#include "catch.hpp"
#include "fault_store.hpp"
#include "key_manager_fixture.hpp"
#include "temp_dir.hpp"

#include <map>
#include <optional>

using namespace atrest_test;

namespace {
using memory_key = atrest::memory_master_key<>;
using faulty_manager = atrest::key_manager<memory_key, fault_store>;
using clean_manager = atrest::key_manager<memory_key>;

/// What the test was told is durable: path -> IV (nullopt: deleted).
using acknowledged = std::map<std::string, std::optional<std::array<std::byte, 16>>>;

void check_after_restart(const std::filesystem::path& dir, const acknowledged& acked) {
    clean_manager km(dir, master(1), encrypted());
    if (acked.contains("renaming")) {
        // Crashed mid-rename: the entry is wherever the file is, and only there.
        const bool moved = std::filesystem::exists(dir / "g2");
        CHECK(moved != std::filesystem::exists(dir / "f2"));
        CHECK(km.get_file(dir / (moved ? "g2" : "f2")).encrypted());
        CHECK_FALSE(km.get_file(dir / (moved ? "f2" : "g2")).encrypted());
    }
    for (const auto& [path, iv] : acked) {
        INFO(path);
        const auto info = km.get_file(dir / path);
        if (iv) {
            REQUIRE(info.encrypted());
            CHECK(info.iv == *iv);
        } else {
            CHECK_FALSE(info.encrypted());
        }
    }
}
}  // namespace

TEST_CASE("a failed append is not acknowledged and does not stop the next operation or start", "[key_manager][faults]") {
    struct scenario {
        const char* name;
        void (*arm)(fault_plan&);
    };
    const scenario scenarios[] = {
        {"ENOSPC before any byte", [](fault_plan& p) { p.fail_append_errno = ENOSPC; }},
        {"EIO on write", [](fault_plan& p) { p.fail_append_errno = EIO; }},
        {"short write then ENOSPC", [](fault_plan& p) { p.short_write_bytes = 11; }},
        {"EIO on fsync", [](fault_plan& p) { p.fail_sync_errno = EIO; }},
        {"short write and the cleanup truncate fails",
         [](fault_plan& p) {
             p.short_write_bytes = 5;
             p.fail_truncate = true;
         }},
    };
    for (const auto& s : scenarios) {
        SECTION(s.name) {
            temp_dir dir;
            auto plan = std::make_shared<fault_plan>();
            acknowledged acked;
            {
                faulty_manager km(dir.path(), master(1), encrypted(), fault_store(plan));
                acked["before"] = km.new_file(dir / "before").iv;
                s.arm(*plan);
                const auto e = expect_error([&] { km.new_file(dir / "failed"); });
                CHECK(e.code() == atrest::errc::io_error);
                CHECK(e.os_errno() != 0);
                CHECK_FALSE(km.get_file(dir / "failed").encrypted());  // not acknowledged, not visible
                plan->fail_truncate = false;
                acked["after"] = km.new_file(dir / "after").iv;  // the next operation works
                km.delete_file(dir / "before");
                acked["before"] = std::nullopt;
            }
            check_after_restart(dir.path(), acked);
            clean_manager km(dir.path(), master(1), encrypted());
            CHECK_FALSE(km.get_file(dir / "failed").encrypted());
        }
    }
}

TEST_CASE("a crash after any number of bytes never loses an acknowledged entry or blocks the next start",
          "[key_manager][faults]") {
    // Measure how many bytes the workload writes without faults, then crash at every cut point.
    auto workload = [](faulty_manager& km, acknowledged& acked, const std::filesystem::path& dir) {
        for (int i = 0; i < 4; ++i) {
            const auto name = "f" + std::to_string(i);
            atrest::posix_file(dir / name, atrest::open_flags::create);  // a real file, so a rename can be settled
            acked[name] = km.new_file(dir / name).iv;
        }
        km.delete_file(dir / "f1");
        acked["f1"] = std::nullopt;
        // While the rename is in flight its outcome is open; after a crash the entry must follow the
        // file to wherever it is (checked below), and after the call returns it is at g2.
        const auto moving = acked["f2"];
        acked.erase("f2");
        acked["renaming"] = std::nullopt;  // a name with no entry, marking the open outcome
        km.rename_file(dir / "f2", dir / "g2", [&] { std::filesystem::rename(dir / "f2", dir / "g2"); });
        acked.erase("renaming");
        acked["g2"] = moving;
        acked["f2"] = std::nullopt;
        km.rotate_data_key();
        acked["h"] = km.new_file(dir / "h").iv;
    };
    std::int64_t total = 0;
    {
        temp_dir dir;
        auto plan = std::make_shared<fault_plan>();
        plan->crash_after_bytes = std::int64_t{1} << 40;
        acknowledged acked;
        faulty_manager km(dir.path(), master(1), encrypted(), fault_store(plan));
        workload(km, acked, dir.path());
        total = (std::int64_t{1} << 40) - plan->crash_after_bytes;
    }
    REQUIRE(total > 0);
    int crashes = 0;
    for (std::int64_t cut = 0; cut <= total; cut += (cut < 400 ? 3 : 17)) {
        temp_dir dir;
        auto plan = std::make_shared<fault_plan>();
        plan->crash_after_bytes = cut;
        acknowledged acked;
        try {
            faulty_manager km(dir.path(), master(1), encrypted(), fault_store(plan));
            workload(km, acked, dir.path());
        } catch (const atrest::error&) {
            REQUIRE(plan->crashed);
            ++crashes;
        }
        INFO("crash after " << cut << " of " << total << " bytes");
        check_after_restart(dir.path(), acked);
    }
    CHECK(crashes > 10);
}
