#pragma once
/// Thin POSIX helpers shared by every on-disk part: retry on EINTR and short writes, and turn
/// every failure into an `atrest::error` that names the operation and the path. Crash safety
/// rests on `atomic_replace` (temp file, fsync, rename, fsync of the directory).

#include <atrest/error.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

namespace atrest::detail::posix {

/// Owns a file descriptor; closes it once.
class unique_fd final {
public:
    unique_fd() noexcept = default;
    explicit unique_fd(int fd) noexcept : m_fd(fd) {}
    unique_fd(unique_fd&& other) noexcept : m_fd(std::exchange(other.m_fd, -1)) {}
    unique_fd& operator=(unique_fd&& other) noexcept {
        if (this != &other) reset(std::exchange(other.m_fd, -1));
        return *this;
    }
    unique_fd(const unique_fd&) = delete;
    unique_fd& operator=(const unique_fd&) = delete;
    ~unique_fd() { reset(); }

    [[nodiscard]] int get() const noexcept { return m_fd; }
    [[nodiscard]] explicit operator bool() const noexcept { return m_fd >= 0; }
    int release() noexcept { return std::exchange(m_fd, -1); }
    void reset(int fd = -1) noexcept {
        if (m_fd >= 0) ::close(m_fd);
        m_fd = fd;
    }

private:
    int m_fd = -1;
};

/// open(2) with O_CLOEXEC; a missing file is `errc::not_found`, an existing one with O_EXCL
/// is `errc::already_exists`, anything else `errc::io_error`.
[[nodiscard]] inline unique_fd open_file(const std::filesystem::path& path, int flags, ::mode_t mode = 0644) {
    int fd;
    do {
        fd = ::open(path.c_str(), flags | O_CLOEXEC, mode);
    } while (fd < 0 && errno == EINTR);
    if (fd < 0) {
        const int saved = errno;
        if (saved == ENOENT) throw error(errc::not_found, "open '" + path.string() + "'", saved);
        if (saved == EEXIST) throw error(errc::already_exists, "open '" + path.string() + "'", saved);
        throw error(errc::io_error, "open '" + path.string() + "'", saved);
    }
    return unique_fd(fd);
}

/// Writes everything at the current position, continuing after short writes.
inline void write_all(int fd, std::span<const std::byte> data, const std::filesystem::path& path) {
    while (!data.empty()) {
        const ::ssize_t n = ::write(fd, data.data(), data.size());
        if (n < 0) {
            if (errno == EINTR) continue;
            throw_io_error("write", path.string());
        }
        data = data.subspan(static_cast<std::size_t>(n));
    }
}

/// Writes everything at `offset`, continuing after short writes.
inline void pwrite_all(int fd, std::span<const std::byte> data, std::uint64_t offset, const std::filesystem::path& path) {
    while (!data.empty()) {
        const ::ssize_t n = ::pwrite(fd, data.data(), data.size(), static_cast<::off_t>(offset));
        if (n < 0) {
            if (errno == EINTR) continue;
            throw_io_error("pwrite", path.string());
        }
        data = data.subspan(static_cast<std::size_t>(n));
        offset += static_cast<std::uint64_t>(n);
    }
}

/// Reads up to `out.size()` bytes at `offset`; returns fewer only at end of file.
[[nodiscard]] inline std::size_t pread_full(int fd, std::span<std::byte> out, std::uint64_t offset,
                                            const std::filesystem::path& path) {
    std::size_t done = 0;
    while (done < out.size()) {
        const ::ssize_t n = ::pread(fd, out.data() + done, out.size() - done, static_cast<::off_t>(offset + done));
        if (n < 0) {
            if (errno == EINTR) continue;
            throw_io_error("pread", path.string());
        }
        if (n == 0) break;
        done += static_cast<std::size_t>(n);
    }
    return done;
}

inline void fsync_fd(int fd, const std::filesystem::path& path) {
    if (::fsync(fd) != 0) throw_io_error("fsync", path.string());
}

/// Makes a rename or create inside `dir` durable.
inline void fsync_dir(const std::filesystem::path& dir) {
    const auto d = open_file(dir.empty() ? std::filesystem::path(".") : dir, O_RDONLY | O_DIRECTORY);
    fsync_fd(d.get(), dir);
}

[[nodiscard]] inline std::uint64_t file_size(int fd, const std::filesystem::path& path) {
    struct ::stat st {};
    if (::fstat(fd, &st) != 0) throw_io_error("fstat", path.string());
    return static_cast<std::uint64_t>(st.st_size);
}

inline void truncate_fd(int fd, std::uint64_t size, const std::filesystem::path& path) {
    if (::ftruncate(fd, static_cast<::off_t>(size)) != 0) throw_io_error("ftruncate", path.string());
}

/// The whole file, or nullopt when it does not exist.
[[nodiscard]] inline std::optional<std::vector<std::byte>> read_file_if_exists(const std::filesystem::path& path) {
    unique_fd fd;
    try {
        fd = open_file(path, O_RDONLY);
    } catch (const error& e) {
        if (e.kind() == errc::not_found) return std::nullopt;
        throw;
    }
    std::vector<std::byte> out(file_size(fd.get(), path));
    out.resize(pread_full(fd.get(), out, 0, path));
    return out;
}

/// The name of the temporary file `atomic_replace` writes next to `target`; stale ones are
/// removed at open by their owners.
[[nodiscard]] inline std::filesystem::path temp_path_for(const std::filesystem::path& target) {
    return std::filesystem::path(target.string() + ".tmp");
}

/// Replaces `target` so that after a crash it holds either the old or the new contents, never a
/// mix: write a temp file, fsync it, rename over the target, fsync the directory.
inline void atomic_replace(const std::filesystem::path& target, std::span<const std::byte> contents,
                           ::mode_t mode = 0600) {
    const auto temp = temp_path_for(target);
    {
        auto fd = open_file(temp, O_WRONLY | O_CREAT | O_TRUNC, mode);
        write_all(fd.get(), contents, temp);
        fsync_fd(fd.get(), temp);
    }
    if (::rename(temp.c_str(), target.c_str()) != 0) throw_io_error("rename to '" + target.string() + "' from", temp.string());
    fsync_dir(target.parent_path());
}

}  // namespace atrest::detail::posix
