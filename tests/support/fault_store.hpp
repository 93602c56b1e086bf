#pragma once
// A dictionary store that fails on request: ENOSPC or EIO on append, EIO on fsync, a short write
// followed by a failure, or a "crash" after N more bytes (the rest of that write is lost and every
// later call fails, as if the process had died). The state is shared so a test keeps a handle
// after moving the store into a key manager.
#include <atrest/dict/posix_store.hpp>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <thread>
#include <cstdint>
#include <atomic>
#include <memory>
#include <utility>

namespace atrest_test {

struct fault_plan {
    int fail_append_errno = 0;           // next append fails with this errno after writing nothing
    int fail_sync_errno = 0;             // next sync fails with this errno
    std::int64_t short_write_bytes = -1; // next append writes only this many bytes, then fails with ENOSPC
    std::int64_t crash_after_bytes = -1; // after this many more appended/replaced bytes, "crash"
    bool fail_truncate = false;          // truncate fails with EIO (cleanup after a failed append fails too)
    int fail_replace_errno = 0;          // every replace (compaction, key.dict) fails with this errno until cleared
    std::chrono::milliseconds sync_delay{0};  // a slow disk: every fsync takes this long
    bool crashed = false;
    std::atomic<std::uint64_t> appends{0}, syncs{0}, replaces{0};
};

class fault_store final {
public:
    explicit fault_store(std::shared_ptr<fault_plan> plan = std::make_shared<fault_plan>())
        : m_plan(std::move(plan)) {}

    [[nodiscard]] std::optional<std::vector<std::byte>> read(const std::filesystem::path& p) const {
        check_alive();
        return m_inner->read(p);
    }

    void replace(const std::filesystem::path& p, std::span<const std::byte> data) {
        check_alive();
        ++m_plan->replaces;
        if (crash_within(data.size())) {
            // A crash mid-replace leaves a partial temp file and the old target untouched.
            const auto keep = static_cast<std::size_t>(m_plan->crash_after_bytes);
            auto [fd, temp] = atrest::detail::posix::create_temp_next_to(p, 0600);
            atrest::detail::posix::write_all(fd.get(), data.first(keep), temp);
            crash();
        }
        if (m_plan->fail_replace_errno != 0) {
            const int e = m_plan->fail_replace_errno;  // stays armed: a full disk stays full
            throw atrest::error(atrest::errc::io_error, "write temp file for '" + p.string() + "' (injected)", e);
        }
        consume(data.size());
        m_inner->replace(p, data);
    }

    void append(const std::filesystem::path& p, std::span<const std::byte> data) {
        check_alive();
        ++m_plan->appends;
        if (m_plan->fail_append_errno != 0) {
            const int e = std::exchange(m_plan->fail_append_errno, 0);
            throw atrest::error(atrest::errc::io_error, "write '" + p.string() + "' (injected)", e);
        }
        if (m_plan->short_write_bytes >= 0) {
            const auto keep = std::min<std::size_t>(static_cast<std::size_t>(m_plan->short_write_bytes), data.size());
            m_plan->short_write_bytes = -1;
            m_inner->append(p, data.first(keep));
            throw atrest::error(atrest::errc::io_error, "write '" + p.string() + "' (injected short write)", ENOSPC);
        }
        if (crash_within(data.size())) {
            m_inner->append(p, data.first(static_cast<std::size_t>(m_plan->crash_after_bytes)));
            crash();
        }
        consume(data.size());
        m_inner->append(p, data);
    }

    void sync(const std::filesystem::path& p) {
        check_alive();
        ++m_plan->syncs;
        if (m_plan->sync_delay.count() > 0) std::this_thread::sleep_for(m_plan->sync_delay);
        if (m_plan->fail_sync_errno != 0) {
            const int e = std::exchange(m_plan->fail_sync_errno, 0);
            throw atrest::error(atrest::errc::io_error, "fsync '" + p.string() + "' (injected)", e);
        }
        m_inner->sync(p);
    }

    void truncate(const std::filesystem::path& p, std::uint64_t size) {
        check_alive();
        if (m_plan->fail_truncate) throw atrest::error(atrest::errc::io_error, "ftruncate '" + p.string() + "' (injected)", EIO);
        m_inner->truncate(p, size);
    }

    void remove_temporaries(const std::filesystem::path& p) {
        check_alive();
        m_inner->remove_temporaries(p);
    }

    [[nodiscard]] fault_plan& plan() noexcept { return *m_plan; }

private:
    bool crash_within(std::size_t n) const {
        return m_plan->crash_after_bytes >= 0 && static_cast<std::uint64_t>(m_plan->crash_after_bytes) < n;
    }
    void consume(std::size_t n) {
        if (m_plan->crash_after_bytes >= 0) m_plan->crash_after_bytes -= static_cast<std::int64_t>(n);
    }
    [[noreturn]] void crash() {
        m_plan->crashed = true;
        throw atrest::error(atrest::errc::io_error, "simulated crash");
    }
    void check_alive() const {
        if (m_plan->crashed) throw atrest::error(atrest::errc::io_error, "simulated crash: the process is gone");
    }

    std::shared_ptr<fault_plan> m_plan;
    std::unique_ptr<atrest::posix_store> m_inner = std::make_unique<atrest::posix_store>();
};

static_assert(atrest::dictionary_store<fault_store>);

}  // namespace atrest_test
