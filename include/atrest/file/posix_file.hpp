#pragma once
/// The default file policy: one descriptor, pread/pwrite/fsync/ftruncate, nothing buffered, so
/// what `write_at` reports written is exactly what the kernel accepted.

#include <atrest/detail/posix.hpp>
#include <atrest/error.hpp>
#include <atrest/file/concepts.hpp>

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>

namespace atrest {

/// How `posix_file` opens its path.
enum class open_flags {
    read_only,         ///< O_RDONLY; the file must exist.
    read_write,        ///< O_RDWR; the file must exist.
    create,            ///< O_RDWR | O_CREAT; existing contents are kept.
    create_exclusive,  ///< O_RDWR | O_CREAT | O_EXCL; `errc::already_exists` if present.
};

class posix_file final {
public:
    explicit posix_file(std::filesystem::path path, open_flags flags = open_flags::read_only, ::mode_t mode = 0644)
        : m_path(std::move(path)), m_fd(detail::posix::open_file(m_path, to_posix(flags), mode)) {}

    /// Reads until `out` is full or the file ends (EINTR and short reads are retried).
    [[nodiscard]] std::size_t read_at(std::uint64_t offset, std::span<std::byte> out) const {
        try {
            return detail::posix::pread_full(m_fd.get(), out, offset, m_path);
        } catch (const error& e) {
            throw error(e.kind(), where("pread", out.size(), offset), e.os_errno());
        }
    }

    /// One pwrite(2), retried only on EINTR; may be short.
    [[nodiscard]] std::size_t write_at(std::uint64_t offset, std::span<const std::byte> data) {
        const ::ssize_t n = detail::posix::pwrite_once(m_fd.get(), data, offset);
        if (n < 0) {
            const int saved = errno;
            throw error(errc::io_error, where("pwrite", data.size(), offset), saved);
        }
        return static_cast<std::size_t>(n);
    }

    void sync() { detail::posix::fsync_fd(m_fd.get(), m_path); }
    void truncate(std::uint64_t size) { detail::posix::truncate_fd(m_fd.get(), size, m_path); }
    [[nodiscard]] std::uint64_t size() const { return detail::posix::file_size(m_fd.get(), m_path); }

    [[nodiscard]] std::string_view name() const noexcept { return m_path.native(); }
    [[nodiscard]] const std::filesystem::path& path() const noexcept { return m_path; }
    [[nodiscard]] int fd() const noexcept { return m_fd.get(); }

private:
    static int to_posix(open_flags flags) noexcept {
        switch (flags) {
            case open_flags::read_only: return O_RDONLY;
            case open_flags::read_write: return O_RDWR;
            case open_flags::create: return O_RDWR | O_CREAT;
            case open_flags::create_exclusive: return O_RDWR | O_CREAT | O_EXCL;
        }
        return O_RDONLY;
    }

    [[nodiscard]] std::string where(std::string_view op, std::size_t n, std::uint64_t offset) const {
        return std::string(op) + " " + std::to_string(n) + " bytes at offset " + std::to_string(offset) + " of '" +
               m_path.string() + "'";
    }

    std::filesystem::path m_path;
    detail::posix::unique_fd m_fd;
};

static_assert(writable_file<posix_file>);

}  // namespace atrest
