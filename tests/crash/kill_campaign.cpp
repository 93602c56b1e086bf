// The kill campaign: a child process runs every key-manager operation an engine uses — create
// and write, append, rename (onto new and existing names), link, remove, data-key rotation and
// collection — on real files from several threads, and is killed with SIGKILL, either at a random
// moment or exactly at one named step inside an operation (detail::step). After every kill the
// parent reopens the directory and checks it against what the child acknowledged: every
// acknowledged file is there and decrypts to exactly its bytes, every acknowledged removal is
// gone, a file whose operation was in flight holds one of its possible contents (a write cut
// short leaves a prefix that still decrypts), and every entry's data key exists.
//
//   atrest_kill_campaign --dir DIR [--random-kills N] [--step-kills N] [--seed S] [--threads T]
//
// --random-kills: rounds killed after a random number of acknowledgements (default 200).
// --step-kills: for each named step, rounds killed at its 1st, 2nd, … occurrence (default 3).
// The README's test command runs a short slice; docs/security.md names the long campaign.
#include <atrest/atrest.hpp>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace fs = std::filesystem;

namespace {

using manager = atrest::key_manager<atrest::memory_master_key<>>;

constexpr int names_per_worker = 6;

/// Every named step inside an operation (see key_manager.hpp); step kills stop at each of them.
constexpr std::array<const char*, 9> steps = {
    "create:file-created", "create:entry-committed", "rename:begun",         "rename:file-renamed",
    "rename:committed",    "link:entry-read",        "link:entry-committed", "link:file-linked",
    "remove:file-removed"};

enum class op_kind : std::uint8_t { create = 1, append = 2, rename = 3, link = 4, remove = 5 };

/// One line of the child's report: an intent before the operation, an acknowledgement after.
/// 32 bytes, far under PIPE_BUF, so each write(2) is atomic even from several threads.
struct message {
    std::uint8_t ack = 0;
    op_kind kind = op_kind::create;
    std::uint8_t worker = 0;
    std::uint8_t src = 0;
    std::uint8_t dst = 0;
    std::uint8_t pad[3] = {};
    std::uint64_t content_seed = 0;  ///< create/append: the bytes are generate(content_seed, length)
    std::uint32_t length = 0;
    std::uint32_t pad2 = 0;
    std::uint64_t pad3 = 0;
};
static_assert(sizeof(message) == 32);

std::vector<std::byte> generate(std::uint64_t seed, std::size_t n) {
    std::vector<std::byte> out(n);
    std::uint64_t x = seed * 0x9E3779B97F4A7C15ULL + 1;
    for (auto& b : out) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        b = static_cast<std::byte>(x);
    }
    return out;
}

std::string name_of(int worker, int index) { return "w" + std::to_string(worker) + "/f" + std::to_string(index); }

atrest::memory_master_key<> master() {
    return atrest::memory_master_key<>(atrest::secret_bytes(std::vector<std::byte>(32, std::byte{0x5a})));
}

atrest::key_manager_options options() {
    atrest::key_manager_options o;
    o.data_encryption_method = atrest::method::aes256_ctr;
    o.file_dictionary_rewrite_threshold = 40;  // compactions happen during the campaign too
    return o;
}

[[noreturn]] void fail(const std::string& why) {
    std::fprintf(stderr, "kill campaign: FAILED: %s\n", why.c_str());
    std::exit(1);
}

// ---- the child

int g_report_fd = -1;
const char* g_kill_step = nullptr;
std::atomic<int> g_kill_countdown{0};

void send(const message& m) {
    if (::write(g_report_fd, &m, sizeof m) != static_cast<ssize_t>(sizeof m)) ::_exit(3);
}

void kill_at_step(const char* step) {
    if (g_kill_step != nullptr && std::strcmp(step, g_kill_step) == 0 && --g_kill_countdown == 0) ::raise(SIGKILL);
}

/// One worker: operations on its own names, so the parent's model is exact per name.
void worker_loop(manager& km, const fs::path& data, int worker, std::uint64_t seed) {
    std::mt19937_64 rng(seed * 1000 + static_cast<std::uint64_t>(worker));
    std::uint64_t counter = 0;
    for (;;) {
        message m;
        m.worker = static_cast<std::uint8_t>(worker);
        m.kind = static_cast<op_kind>(1 + rng() % 5);
        m.src = static_cast<std::uint8_t>(rng() % names_per_worker);
        m.dst = static_cast<std::uint8_t>(rng() % names_per_worker);
        m.content_seed = (seed << 32) ^ (static_cast<std::uint64_t>(worker) << 24) ^ ++counter;
        m.length = static_cast<std::uint32_t>(1 + rng() % 20000);
        const fs::path src = data / name_of(worker, m.src);
        const fs::path dst = data / name_of(worker, m.dst);
        const bool src_exists = fs::exists(src);
        // Pick only operations that can succeed, so every intent is followed by its ack or a kill.
        if ((m.kind == op_kind::create && src_exists) ||
            (m.kind != op_kind::create && !src_exists) ||
            (m.kind == op_kind::link && (fs::exists(dst) || m.src == m.dst)) ||
            (m.kind == op_kind::rename && m.src == m.dst)) {
            continue;
        }
        send(m);
        const auto bytes = generate(m.content_seed, m.length);
        switch (m.kind) {
            case op_kind::create: {
                auto f = km.create(src);
                f.append(bytes);
                f.sync();
                break;
            }
            case op_kind::append: {
                auto f = km.open(src, atrest::access::append);
                f.append(bytes);
                f.sync();
                break;
            }
            case op_kind::rename: km.rename(src, dst); break;
            case op_kind::link: km.link(src, dst); break;
            case op_kind::remove: km.remove(src); break;
        }
        m.ack = 1;
        send(m);
    }
}

[[noreturn]] void run_child(const fs::path& data, int report_fd, std::uint64_t seed, int threads) {
    g_report_fd = report_fd;
    try {
        manager km(data, master(), options());
        atrest::detail::g_step_hook.store(&kill_at_step);
        std::vector<std::thread> pool;
        for (int w = 0; w < threads; ++w) pool.emplace_back([&, w] { worker_loop(km, data, w, seed); });
        // Maintenance beside the workers, as an engine's background thread would do it.
        std::mt19937_64 rng(seed);
        for (;;) {
            std::this_thread::sleep_for(std::chrono::milliseconds(2 + rng() % 8));
            if (rng() % 2 == 0) km.rotate_data_key();
            (void)km.collect_unused_keys();
        }
    } catch (const std::exception& e) {
        std::fprintf(stderr, "kill campaign child: %s\n", e.what());
        ::_exit(2);
    }
}

// ---- the parent's model

/// What a name holds: nothing, or these bytes.
using content = std::optional<std::vector<std::byte>>;

/// Names point at files; a hard link makes two names share one file (appends through either
/// show in both), as on disk.
struct model {
    using file = std::shared_ptr<std::vector<std::byte>>;
    std::map<std::string, file> files;
    /// Names whose file a kill removed before its entry: a stale entry there is allowed (it is
    /// replaced when the name is created again), an acknowledged removal's entry is not.
    std::set<std::string> may_keep_entry;

    content get(const std::string& n) const {
        const auto it = files.find(n);
        if (it == files.end() || !it->second) return std::nullopt;
        return *it->second;
    }

    void apply(const message& m) {
        const auto src = name_of(m.worker, m.src), dst = name_of(m.worker, m.dst);
        const auto bytes = generate(m.content_seed, m.length);
        // An acknowledged operation settles the entries of the names it touches.
        if (m.kind != op_kind::link) may_keep_entry.erase(src);
        if (m.kind == op_kind::link || m.kind == op_kind::rename) may_keep_entry.erase(dst);
        switch (m.kind) {
            case op_kind::create: files[src] = std::make_shared<std::vector<std::byte>>(bytes); break;
            case op_kind::append: {
                auto& f = files[src];
                if (!f) f = std::make_shared<std::vector<std::byte>>();
                f->insert(f->end(), bytes.begin(), bytes.end());
                break;
            }
            case op_kind::rename: {
                if (files[src] && files[src] == files[dst]) break;  // two links of one file: rename(2) does nothing
                auto moved = files[src];
                files[src] = nullptr;
                files[dst] = moved;
                break;
            }
            case op_kind::link: files[dst] = files[src]; break;
            case op_kind::remove: files[src] = nullptr; break;
        }
    }

    /// Learns what an interrupted operation left: `src` and `dst` as found on disk.
    void settle(const message& m, const content& now_src, const content& now_dst) {
        const auto src = name_of(m.worker, m.src), dst = name_of(m.worker, m.dst);
        if (m.kind == op_kind::rename && !now_src && now_dst) {
            apply(m);  // it happened
        } else if (m.kind == op_kind::link && now_dst) {
            apply(m);
        } else if (m.kind == op_kind::append && now_src) {
            *files[src] = *now_src;  // in place: every link to the file sees it
        } else if (m.kind == op_kind::create) {
            files[src] = now_src ? std::make_shared<std::vector<std::byte>>(*now_src) : nullptr;
        } else if (m.kind == op_kind::remove && !now_src) {
            files[src] = nullptr;  // else the name still points at its file (and its other links)
        }
        if (!now_src) may_keep_entry.insert(src);
        if (!now_dst) may_keep_entry.insert(dst);
    }
};

/// The file's bytes through the key manager (decrypted), or nullopt if it does not exist.
content read_back(const manager& km, const fs::path& path) {
    if (!fs::exists(path)) return std::nullopt;
    const auto f = km.open(path);
    std::vector<std::byte> out(f.size());
    out.resize(f.read(0, out));
    return out;
}

bool is_prefix(const std::vector<std::byte>& p, const std::vector<std::byte>& whole) {
    return p.size() <= whole.size() && std::equal(p.begin(), p.end(), whole.begin());
}

/// After a kill: settles in-flight operations from what is on disk, then checks everything.
void check(model& expected, const std::map<int, message>& in_flight, const fs::path& data, const std::string& round) {
    manager km(data, master(), options());  // must open after every kill
    for (const auto& [name, entry] : km.files()) {
        try {
            (void)km.get_file(km.path_of(name));
        } catch (const atrest::error& e) {
            fail(round + ": entry '" + name + "' lost its data key: " + e.what());
        }
    }
    std::set<std::string> settled;
    for (const auto& [worker, m] : in_flight) {
        const auto src = name_of(m.worker, m.src), dst = name_of(m.worker, m.dst);
        const auto before_src = expected.get(src), before_dst = expected.get(dst);
        const auto now_src = read_back(km, data / src);
        const auto now_dst = read_back(km, data / dst);
        const auto bytes = generate(m.content_seed, m.length);
        bool ok = false;
        switch (m.kind) {
            case op_kind::create:  // absent, or a prefix of what was being written (the entry came first)
                ok = !now_src || is_prefix(*now_src, bytes);
                break;
            case op_kind::append: {  // the old bytes, then a prefix of the new ones
                const auto old = before_src.value_or(std::vector<std::byte>{});
                ok = now_src && is_prefix(old, *now_src) &&
                     is_prefix(std::vector<std::byte>(now_src->begin() + static_cast<std::ptrdiff_t>(old.size()),
                                                      now_src->end()),
                               bytes);
                break;
            }
            case op_kind::rename:
                ok = (now_src == before_src && now_dst == before_dst) || (!now_src && now_dst == before_src);
                break;
            case op_kind::link: ok = now_src == before_src && (!now_dst || now_dst == before_src); break;
            case op_kind::remove: ok = !now_src || now_src == before_src; break;
        }
        if (!ok) {
            fail(round + ": operation " + std::to_string(static_cast<int>(m.kind)) + " on " + src + " -> " + dst +
                 " was in flight and left a state it cannot have (src " +
                 (now_src ? std::to_string(now_src->size()) + " bytes" : "absent") + ", dst " +
                 (now_dst ? std::to_string(now_dst->size()) + " bytes" : "absent") + "; before: src " +
                 (before_src ? std::to_string(before_src->size()) + " bytes" : "absent") + ", dst " +
                 (before_dst ? std::to_string(before_dst->size()) + " bytes" : "absent") + ")");
        }
        expected.settle(m, now_src, now_dst);
        settled.insert(src);
        settled.insert(dst);
    }
    for (const auto& [name, file] : expected.files) {
        if (settled.contains(name)) continue;
        const content want = file ? content(*file) : std::nullopt;
        const auto got = read_back(km, data / name);
        if (got != want) {
            fail(round + ": acknowledged state of '" + name + "' is lost: expected " +
                 (want ? std::to_string(want->size()) + " bytes" : "no file") + ", found " +
                 (got ? std::to_string(got->size()) + " bytes" + (want && got->size() == want->size() ? " that differ" : "")
                      : "no file"));
        }
        if (!want && !expected.may_keep_entry.contains(name) && km.get_file(data / name).encrypted()) fail(round + ": a removed file '" + name + "' kept its entry");
    }
}

/// One round: a child works until it is killed; then the parent checks.
void round(model& expected, const fs::path& data, std::uint64_t seed, int threads, const char* kill_step,
           int kill_occurrence, int kill_after_acks, const std::string& label, int& in_flight_kills) {
    int fds[2];
    if (::pipe(fds) != 0) fail("pipe");
    g_kill_step = kill_step;
    g_kill_countdown = kill_occurrence;
    const pid_t pid = ::fork();
    if (pid < 0) fail("fork");
    if (pid == 0) {
        ::close(fds[0]);
        run_child(data, fds[1], seed, threads);
    }
    ::close(fds[1]);
    std::map<int, message> in_flight;
    const auto take = [&](const message& m) {
        if (std::getenv("KC_DEBUG")) std::fprintf(stderr, "%s: ack=%d kind=%d w=%d src=%d dst=%d len=%u\n", label.c_str(), m.ack, (int)m.kind, m.worker, m.src, m.dst, m.length);
        if (m.ack == 0) {
            in_flight[m.worker] = m;
            return;
        }
        in_flight.erase(m.worker);
        expected.apply(m);
    };
    message m;
    int acks = 0;
    while ((kill_step != nullptr || acks < kill_after_acks) && ::read(fds[0], &m, sizeof m) == sizeof m) {
        take(m);
        acks += m.ack;
        if (kill_step != nullptr && acks > 3000) break;  // the step never came: kill anyway
    }
    ::kill(pid, SIGKILL);
    int status = 0;
    ::waitpid(pid, &status, 0);
    if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGKILL) {
        fail(label + ": the child stopped by itself (status " + std::to_string(status) + ")");
    }
    while (::read(fds[0], &m, sizeof m) == sizeof m) take(m);
    ::close(fds[0]);
    in_flight_kills += in_flight.empty() ? 0 : 1;
    check(expected, in_flight, data, label);
}

}  // namespace

int main(int argc, char** argv) {
    fs::path dir;
    int random_kills = 200, step_kills = 3, threads = 3;
    std::uint64_t seed = 1;
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string_view arg = argv[i];
        if (arg == "--dir") dir = argv[i + 1];
        else if (arg == "--random-kills") random_kills = std::stoi(argv[i + 1]);
        else if (arg == "--step-kills") step_kills = std::stoi(argv[i + 1]);
        else if (arg == "--seed") seed = std::stoull(argv[i + 1]);
        else if (arg == "--threads") threads = std::stoi(argv[i + 1]);
        else fail("unknown option " + std::string(arg));
    }
    if (dir.empty()) fail("usage: atrest_kill_campaign --dir DIR [--random-kills N] [--step-kills N] [--seed S] [--threads T]");
    fs::remove_all(dir);
    const fs::path data = dir / "data";
    for (int w = 0; w < threads; ++w) fs::create_directories(data / ("w" + std::to_string(w)));
    model expected;
    std::mt19937_64 rng(seed);
    int in_flight_kills = 0, rounds = 0;
    // Step kills: one worker, so "the n-th time this step runs" is one well-defined moment.
    for (const char* step : steps) {
        for (int n = 1; n <= step_kills; ++n) {
            round(expected, data, rng(), 1, step, n, 0, std::string("kill at ") + step + " #" + std::to_string(n),
                  in_flight_kills);
            ++rounds;
        }
    }
    for (int r = 0; r < random_kills; ++r) {
        round(expected, data, rng(), threads, nullptr, 0, 1 + static_cast<int>(rng() % 60),
              "random kill " + std::to_string(r), in_flight_kills);
        ++rounds;
    }
    std::size_t present = 0;
    for (const auto& [n, f] : expected.files) present += f ? 1 : 0;
    std::printf("kill campaign: %d kills (%zu steps x %d, %d random), %d with an operation in flight; %zu files "
                "checked byte for byte after each; passed\n",
                rounds, steps.size(), step_kills, random_kills, in_flight_kills, present);
    return in_flight_kills * 2 >= rounds ? 0 : (fail("too few kills landed mid-operation"), 1);
}
