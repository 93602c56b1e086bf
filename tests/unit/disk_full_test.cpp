// A real full disk: a 2 MiB tmpfs (mounted as root in a mount namespace of the test's own, so it
// vanishes with the test) filled until ENOSPC hits data appends, dictionary appends and the
// compactions that fall due. Then space is freed: everything acknowledged reads back and the
// directory opens. The test command runs as root; where mounting is refused the test fails and
// says so — it is never skipped.
#include "catch.hpp"
#include "child_process.hpp"
#include "key_manager_fixture.hpp"
#include "temp_dir.hpp"

#include <sched.h>
#include <sys/mount.h>

#include <cstdio>
#include <map>
#include <random>

using namespace atrest_test;

namespace {

using manager = atrest::key_manager<atrest::memory_master_key<>>;

atrest::key_manager_options disk_full_options() {
    auto o = encrypted(atrest::method::aes256_ctr);
    o.file_dictionary_rewrite_threshold = 4;  // compactions fall due all the time
    return o;
}

std::vector<std::byte> pattern(std::size_t n, unsigned seed) {
    std::vector<std::byte> v(n);
    std::mt19937 rng(seed);
    for (auto& b : v) b = static_cast<std::byte>(rng());
    return v;
}

bool is_enospc(const atrest::error& e) { return e.os_errno() == ENOSPC; }

/// The body, in the child: returns 0 or a code after printing why.
int fill_free_and_check(const std::filesystem::path& mount_point) {
    const auto fail = [](const std::string& why, int code) {
        std::fprintf(stderr, "disk full test: %s\n", why.c_str());
        return code;
    };
    if (::unshare(CLONE_NEWNS) != 0) return fail(std::string("unshare(CLONE_NEWNS): ") + std::strerror(errno), 10);
    if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) {
        return fail(std::string("making / private: ") + std::strerror(errno), 11);
    }
    if (::mount("tmpfs", mount_point.c_str(), "tmpfs", 0, "size=2m") != 0) {
        return fail(std::string("mount -t tmpfs (the test needs root): ") + std::strerror(errno), 12);
    }
    const auto data = mount_point / "data";
    std::filesystem::create_directories(data);
    {  // ballast, freed at the end
        auto f = atrest::posix_file(mount_point / "ballast", atrest::open_flags::create_exclusive);
        const auto bytes = pattern(256 * 1024, 1);
        std::size_t done = 0;
        while (done < bytes.size()) done += f.write_at(done, std::span(bytes).subspan(done));
        f.sync();
    }
    std::map<std::string, std::vector<std::byte>> acked;  // name -> synced bytes
    int data_enospc = 0, dict_enospc = 0;
    {
        manager km(data, master(4), disk_full_options());
        std::mt19937 rng(7);
        for (int i = 0; i < 400; ++i) {
            const std::string name = "seg" + std::to_string(i);
            try {
                auto f = km.create(data / name);
                acked[name] = {};
                for (int block = 0; block < 4; ++block) {
                    const auto bytes = pattern(8 * 1024 + rng() % 8192, static_cast<unsigned>(i * 8 + block));
                    try {
                        f.append(bytes);
                        f.sync();
                        acked[name].insert(acked[name].end(), bytes.begin(), bytes.end());
                    } catch (const atrest::error& e) {
                        if (!is_enospc(e)) throw;
                        ++data_enospc;
                        break;
                    }
                }
            } catch (const atrest::error& e) {
                if (!is_enospc(e)) return fail(std::string("unexpected error: ") + e.what(), 13);
                ++dict_enospc;
            }
            // Dictionary work while full: removals (which make compactions due) and renames.
            if (i % 3 == 2 && acked.size() > 2) {
                const auto victim = std::next(acked.begin(), static_cast<long>(rng() % acked.size()))->first;
                try {
                    km.remove(data / victim);
                    acked.erase(victim);
                } catch (const atrest::error& e) {
                    if (!is_enospc(e)) return fail(std::string("remove: ") + e.what(), 14);
                    ++dict_enospc;
                    if (!std::filesystem::exists(data / victim)) acked.erase(victim);  // the file went first
                }
                const auto from = std::next(acked.begin(), static_cast<long>(rng() % acked.size()))->first;
                const auto to = "renamed" + std::to_string(i);
                try {
                    km.rename(data / from, data / to);
                    acked[to] = acked[from];
                    acked.erase(from);
                } catch (const atrest::error& e) {
                    if (!is_enospc(e)) return fail(std::string("rename: ") + e.what(), 15);
                    ++dict_enospc;
                    if (!std::filesystem::exists(data / from)) {  // the file moved; its entry followed in memory
                        acked[to] = acked[from];
                        acked.erase(from);
                    }
                }
            }
        }
    }
    if (data_enospc == 0) return fail("no data append ever hit ENOSPC", 16);
    if (dict_enospc == 0) return fail("no dictionary write ever hit ENOSPC", 17);
    // Compactions fell due (threshold 4) and could not be written: the log kept growing.
    const auto log = atrest::detail::file_dict::parse_file(file_bytes(data / "file.dict"), {}, "file.dict");
    std::fprintf(stderr, "disk full test: %d data and %d dictionary ENOSPC, %llu removals past the last compaction\n",
                 data_enospc, dict_enospc, static_cast<unsigned long long>(log.removals));

    std::filesystem::remove(mount_point / "ballast");  // space is back
    manager km(data, master(4), disk_full_options());
    for (const auto& [name, bytes] : acked) {
        const auto f = km.open(data / name);
        std::vector<std::byte> back(bytes.size());
        if (f.read(0, back) != bytes.size() || back != bytes) {
            return fail("'" + name + "' does not read back the " + std::to_string(bytes.size()) + " acknowledged bytes", 18);
        }
    }
    for (const auto& [name, entry] : km.files()) {
        try {
            (void)km.get_file(km.path_of(name));
        } catch (const atrest::error& e) {
            return fail(std::string("an entry without its key: ") + e.what(), 19);
        }
    }
    (void)km.create(data / "after-space-freed");
    std::fprintf(stderr, "disk full test: %zu acknowledged files read back after space was freed\n", acked.size());
    return 0;
}

}  // namespace

TEST_CASE("a real full disk (tmpfs) loses nothing acknowledged, and the directory opens once space is freed",
          "[key_manager][disk_full]") {
    temp_dir dir;
    const int code = exit_code_in_child([&] { return fill_free_and_check(dir.path()); });
    CHECK(code == 0);
}
