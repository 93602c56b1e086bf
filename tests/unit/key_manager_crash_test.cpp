// SIGKILL a child process at random moments of a heavy multi-threaded create/delete/rename
// workload, many times over the same directory. After each kill: the manager starts, and every
// entry whose operation was acknowledged is present and correct. The child reports an intent
// before and an acknowledgement after each operation through a pipe (one atomic write each), so
// only paths with an operation in flight at the kill are left unchecked; the parent kills after
// a random number of acknowledgements, so the kill lands mid-workload however loaded the machine.
#include "catch.hpp"
#include "key_manager_fixture.hpp"
#include "temp_dir.hpp"

#include <csignal>
#include <cstring>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <thread>

#include <sys/wait.h>
#include <unistd.h>

using namespace atrest_test;

namespace {

using manager = atrest::key_manager<atrest::memory_master_key<>>;
constexpr int workers = 4;
constexpr int paths_per_worker = 12;

enum class op_kind : std::uint8_t { create = 1, remove = 2, rename = 3 };

struct message {  // 48 bytes: well under PIPE_BUF, so each write is atomic
    std::uint8_t ack = 0;  // 0: intent, 1: done
    op_kind kind = op_kind::create;
    std::uint8_t worker = 0;
    std::uint8_t src = 0, dst = 0;
    std::array<std::byte, 16> iv{};
    char pad[27] = {};
};
static_assert(sizeof(message) <= 64);

std::string path_of(int worker, int index) { return "w" + std::to_string(worker) + "/f" + std::to_string(index); }

[[noreturn]] void run_child(const std::filesystem::path& dir, int pipe_fd, unsigned seed) {
    try {
        manager km(dir, master(9), encrypted());
        std::vector<std::thread> pool;
        for (int w = 0; w < workers; ++w) {
            pool.emplace_back([&, w] {
                std::mt19937 rng(seed * 31 + static_cast<unsigned>(w));
                for (;;) {
                    message m;
                    m.worker = static_cast<std::uint8_t>(w);
                    m.kind = static_cast<op_kind>(1 + rng() % 3);
                    m.src = static_cast<std::uint8_t>(rng() % paths_per_worker);
                    m.dst = static_cast<std::uint8_t>(rng() % paths_per_worker);
                    if (::write(pipe_fd, &m, sizeof m) != sizeof m) ::_exit(3);
                    const auto src = path_of(w, m.src), dst = path_of(w, m.dst);
                    if (m.kind == op_kind::create) m.iv = km.new_file(dir / src).iv;
                    if (m.kind == op_kind::remove) km.delete_file(dir / src);
                    if (m.kind == op_kind::rename) km.rename_file(dir / src, dir / dst, [] {});
                    m.ack = 1;
                    if (::write(pipe_fd, &m, sizeof m) != sizeof m) ::_exit(3);
                }
            });
        }
        for (auto& t : pool) t.join();
    } catch (...) {
        ::_exit(2);
    }
    ::_exit(0);
}

using model = std::map<std::string, std::optional<std::array<std::byte, 16>>>;

}  // namespace

TEST_CASE("SIGKILL at random points never loses an acknowledged entry", "[key_manager][crash][threads]") {
    temp_dir dir;
    model expected;  // path -> IV of its entry, or nullopt
    std::mt19937 rng(4242);
    const int rounds = 40;
    int killed_mid_operation = 0;
    for (int round = 0; round < rounds; ++round) {
        int fds[2];
        REQUIRE(::pipe(fds) == 0);
        const pid_t pid = ::fork();
        REQUIRE(pid >= 0);
        if (pid == 0) {
            ::close(fds[0]);
            run_child(dir.path(), fds[1], static_cast<unsigned>(round));
        }
        ::close(fds[1]);
        std::map<int, message> in_flight;  // worker -> intent without an ack
        const auto apply = [&](const message& m) {
            if (m.ack == 0) {
                in_flight[m.worker] = m;
                return;
            }
            in_flight.erase(m.worker);
            const auto src = path_of(m.worker, m.src), dst = path_of(m.worker, m.dst);
            switch (m.kind) {
                case op_kind::create: expected[src] = m.iv; break;
                case op_kind::remove: expected[src] = std::nullopt; break;
                case op_kind::rename: {
                    const auto moved = expected[src];
                    expected[dst] = moved;
                    if (src != dst) expected[src] = std::nullopt;
                    break;
                }
            }
        };
        // Kill after a random amount of progress (not time), so a loaded machine still kills
        // the child in the middle of its workload.
        const int kill_after_acks = 1 + static_cast<int>(rng() % 300);
        message m;
        for (int acks = 0; acks < kill_after_acks && ::read(fds[0], &m, sizeof m) == static_cast<ssize_t>(sizeof m);) {
            apply(m);
            acks += m.ack;
        }
        ::kill(pid, SIGKILL);
        int status = 0;
        ::waitpid(pid, &status, 0);
        REQUIRE(WIFSIGNALED(status));  // the child never stops by itself
        while (::read(fds[0], &m, sizeof m) == static_cast<ssize_t>(sizeof m)) apply(m);
        ::close(fds[0]);
        std::set<std::string> uncertain;
        for (const auto& [w, intent] : in_flight) {
            uncertain.insert(path_of(w, intent.src));
            uncertain.insert(path_of(w, intent.dst));
        }
        killed_mid_operation += in_flight.empty() ? 0 : 1;

        manager km(dir.path(), master(9), encrypted());  // must start after every kill
        for (const auto& path : uncertain) {  // either outcome is fine; learn which one happened
            const auto info = km.get_file(dir / path);
            expected[path] = info.encrypted() ? std::optional(info.iv) : std::nullopt;
        }
        for (auto& [path, iv] : expected) {
            if (uncertain.contains(path)) continue;
            const auto info = km.get_file(dir / path);
            INFO("round " << round << " path " << path);
            REQUIRE(info.encrypted() == iv.has_value());
            if (iv) REQUIRE(info.iv == *iv);
        }
    }
    CHECK(killed_mid_operation > rounds / 2);
    CHECK(expected.size() > 10);
}
