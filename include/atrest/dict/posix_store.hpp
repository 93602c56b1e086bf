#pragma once
/// `atrest::posix_store`: the default dictionary store (dict/concepts.hpp), metadata on a POSIX
/// file system.

#include <atrest/detail/posix.hpp>
#include <atrest/dict/concepts.hpp>
#include <atrest/error.hpp>

#include <cerrno>
#include <concepts>
#include <cstdint>
#include <filesystem>
#include <map>
#include <mutex>
#include <optional>
#include <span>
#include <vector>

namespace atrest {

/// Metadata on a POSIX file system. Keeps one append descriptor per file so an append is one
/// write(2) and a commit one fsync(2). Thread-safe.
class posix_store final {
public:
    posix_store() = default;
    posix_store(posix_store&& other) noexcept
        : m_append_fds(std::move(other.m_append_fds)), m_lock_fd(std::move(other.m_lock_fd)) {}
    posix_store& operator=(posix_store&&) = delete;
    posix_store(const posix_store&) = delete;
    posix_store& operator=(const posix_store&) = delete;
    ~posix_store() = default;

    [[nodiscard]] std::optional<std::vector<std::byte>> read(const std::filesystem::path& path) const {
        return detail::posix::read_file_if_exists(path, "atrest metadata file");
    }

    void replace(const std::filesystem::path& path, std::span<const std::byte> data) {
        std::lock_guard lock(m_mutex);
        m_append_fds.erase(path);  // the old inode is gone after the rename
        detail::posix::atomic_replace(path, data);
    }

    void append(const std::filesystem::path& path, std::span<const std::byte> data) {
        std::lock_guard lock(m_mutex);
        detail::posix::write_all(append_fd(path), data, path);
    }

    void sync(const std::filesystem::path& path) {
        std::lock_guard lock(m_mutex);
        detail::posix::fsync_fd(append_fd(path), path);
    }

    void truncate(const std::filesystem::path& path, std::uint64_t size) {
        std::lock_guard lock(m_mutex);
        const int fd = append_fd(path);
        detail::posix::truncate_fd(fd, size, path);
        detail::posix::fsync_fd(fd, path);
    }

    void remove_temporaries(const std::filesystem::path& path) { detail::posix::remove_temporaries(path); }

    /// An exclusive flock(2) on `path` (created empty, 0600), held until the store is destroyed.
    /// flock, not fcntl: a second writer in the same process is refused too, and closing some
    /// other descriptor of the file does not drop the lock. Advisory: it stops a second key
    /// manager or atrest-ctl, not unrelated programs.
    void lock(const std::filesystem::path& path) {
        std::lock_guard guard(m_mutex);
        auto fd = detail::posix::try_lock_file(path);
        if (!fd) {
            throw error(errc::busy, "'" + path.string() + "' is locked: another key manager (an engine or a "
                                    "writing atrest-ctl command) has this data directory open for writing");
        }
        m_lock_fd = std::move(fd);
    }

private:
    int append_fd(const std::filesystem::path& path) {
        auto it = m_append_fds.find(path);
        if (it == m_append_fds.end()) {
            it = m_append_fds.emplace(path, detail::posix::open_file(path, O_WRONLY | O_APPEND | O_NONBLOCK)).first;
        }
        return it->second.get();
    }

    std::mutex m_mutex;
    std::map<std::filesystem::path, detail::posix::unique_fd> m_append_fds;
    detail::posix::unique_fd m_lock_fd;
};

static_assert(dictionary_store<posix_store>);
static_assert(lockable_store<posix_store>);

}  // namespace atrest
