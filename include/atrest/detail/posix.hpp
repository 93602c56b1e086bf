#pragma once
/// Every operating-system call the library makes lives here (the project's `os_utils`): retry on
/// EINTR and short writes, and turn every failure into an `atrest::error` that names the
/// operation and the path. Crash safety rests on `atomic_replace` (a fresh temp file, fsync,
/// rename, fsync of the directory); secrets rest on `create_secret_file` and `secret_pages`.

#include <atrest/error.hpp>

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <new>
#include <optional>
#include <span>
#include <string>
#include <string_view>
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

/// One pwrite(2), retried only on EINTR; may be short. Returns the bytes written; the error
/// (with errno) is left to the caller, who knows what to call the file.
[[nodiscard]] inline ::ssize_t pwrite_once(int fd, std::span<const std::byte> data, std::uint64_t offset) noexcept {
    for (;;) {
        const ::ssize_t n = ::pwrite(fd, data.data(), data.size(), static_cast<::off_t>(offset));
        if (n >= 0 || errno != EINTR) return n;
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

/// Makes a rename, link, create or unlink inside `dir` durable.
inline void fsync_dir(const std::filesystem::path& dir) {
    const auto d = open_file(dir.empty() ? std::filesystem::path(".") : dir, O_RDONLY | O_DIRECTORY);
    fsync_fd(d.get(), dir);
}

[[nodiscard]] inline struct ::stat stat_fd(int fd, const std::filesystem::path& path) {
    struct ::stat st {};
    if (::fstat(fd, &st) != 0) throw_io_error("fstat", path.string());
    return st;
}

[[nodiscard]] inline std::uint64_t file_size(int fd, const std::filesystem::path& path) {
    return static_cast<std::uint64_t>(stat_fd(fd, path).st_size);
}

inline void truncate_fd(int fd, std::uint64_t size, const std::filesystem::path& path) {
    if (::ftruncate(fd, static_cast<::off_t>(size)) != 0) throw_io_error("ftruncate", path.string());
}

/// "a FIFO", "a directory"…: what a non-regular file is, for messages.
[[nodiscard]] inline std::string_view file_type_name(::mode_t mode) noexcept {
    if (S_ISDIR(mode)) return "a directory";
    if (S_ISFIFO(mode)) return "a FIFO";
    if (S_ISSOCK(mode)) return "a socket";
    if (S_ISCHR(mode)) return "a character device";
    if (S_ISBLK(mode)) return "a block device";
    if (S_ISLNK(mode)) return "a symbolic link";
    return "not a regular file";
}

/// Opens an existing file for reading without ever blocking on it: O_NONBLOCK keeps a FIFO (or a
/// device) from hanging the open, and anything but a regular file is refused with a message
/// naming `what` (e.g. "master key file") and the path. A missing file is `errc::not_found`.
[[nodiscard]] inline unique_fd open_regular_for_reading(const std::filesystem::path& path, std::string_view what) {
    auto fd = open_file(path, O_RDONLY | O_NONBLOCK);
    const auto st = stat_fd(fd.get(), path);
    if (!S_ISREG(st.st_mode)) {
        throw error(errc::io_error, std::string(what) + " '" + path.string() + "' is " +
                                        std::string(file_type_name(st.st_mode)) + ", not a regular file");
    }
    const int flags = ::fcntl(fd.get(), F_GETFL);
    if (flags >= 0) (void)::fcntl(fd.get(), F_SETFL, flags & ~O_NONBLOCK);
    return fd;
}

/// The whole regular file, or nullopt when it does not exist. A FIFO, directory or device is an
/// error naming `what` and the path, never a hang.
[[nodiscard]] inline std::optional<std::vector<std::byte>> read_file_if_exists(const std::filesystem::path& path,
                                                                               std::string_view what = "file") {
    unique_fd fd;
    try {
        fd = open_regular_for_reading(path, what);
    } catch (const error& e) {
        if (e.kind() == errc::not_found) return std::nullopt;
        throw;
    }
    std::vector<std::byte> out(file_size(fd.get(), path));
    out.resize(pread_full(fd.get(), out, 0, path));
    return out;
}

/// Where a file lives on disk: the same (device, inode) means the same file, whatever its name.
struct file_identity {
    std::uint64_t device = 0;
    std::uint64_t inode = 0;
    friend bool operator==(const file_identity&, const file_identity&) = default;
};

/// The identity of the file at `path` itself (a symbolic link is not followed), or nullopt if
/// there is nothing at `path`.
[[nodiscard]] inline std::optional<file_identity> identity_of(const std::filesystem::path& path) {
    struct ::stat st {};
    if (::lstat(path.c_str(), &st) != 0) {
        if (errno == ENOENT || errno == ENOTDIR) return std::nullopt;
        throw_io_error("lstat", path.string());
    }
    return file_identity{static_cast<std::uint64_t>(st.st_dev), static_cast<std::uint64_t>(st.st_ino)};
}

/// The process's working directory, for making relative paths absolute.
[[nodiscard]] inline std::filesystem::path current_directory() {
    std::error_code ec;
    auto dir = std::filesystem::current_path(ec);
    if (ec) throw error(errc::io_error, "getcwd: " + ec.message());
    return dir;
}

/// `path` with symbolic links resolved as far as it exists (std::filesystem::weakly_canonical).
[[nodiscard]] inline std::filesystem::path resolved(const std::filesystem::path& path) {
    std::error_code ec;
    auto out = std::filesystem::weakly_canonical(path, ec);
    return ec ? path : out;
}

/// Creates `dir` and its parents (mkdir -p).
inline void create_directories(const std::filesystem::path& dir) {
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) throw error(errc::io_error, "create directory '" + dir.string() + "': " + ec.message());
}

/// Whether anything (file, directory, link) is at `path`.
[[nodiscard]] inline bool exists(const std::filesystem::path& path) { return identity_of(path).has_value(); }

/// rename(2); a missing source is `errc::not_found`.
inline void rename_path(const std::filesystem::path& from, const std::filesystem::path& to) {
    if (::rename(from.c_str(), to.c_str()) != 0) {
        const int saved = errno;
        throw error(saved == ENOENT ? errc::not_found : errc::io_error,
                    "rename '" + from.string() + "' to '" + to.string() + "'", saved);
    }
}

/// link(2): never replaces; an existing `to` is `errc::already_exists`.
inline void link_path(const std::filesystem::path& from, const std::filesystem::path& to) {
    if (::link(from.c_str(), to.c_str()) != 0) {
        const int saved = errno;
        const errc kind = saved == EEXIST ? errc::already_exists : saved == ENOENT ? errc::not_found : errc::io_error;
        throw error(kind, "link '" + from.string() + "' to '" + to.string() + "'", saved);
    }
}

/// unlink(2); returns false when nothing was there.
inline bool unlink_path(const std::filesystem::path& path) {
    if (::unlink(path.c_str()) == 0) return true;
    if (errno == ENOENT) return false;
    throw_io_error("unlink", path.string());
}

/// An exclusive, non-blocking flock(2) on `path` (created empty, 0600 if missing). flock, not
/// fcntl: a second holder in the same process is refused too, and closing another descriptor of
/// the file does not drop it. Returns the descriptor holding the lock, or an empty one when
/// another holder has it.
[[nodiscard]] inline unique_fd try_lock_file(const std::filesystem::path& path) {
    auto fd = open_file(path, O_RDWR | O_CREAT | O_NONBLOCK | O_NOFOLLOW, 0600);
    const auto st = stat_fd(fd.get(), path);
    if (!S_ISREG(st.st_mode)) {
        throw error(errc::io_error, "lock file '" + path.string() + "' is " + std::string(file_type_name(st.st_mode)) +
                                        ", not a regular file");
    }
    if (::flock(fd.get(), LOCK_EX | LOCK_NB) != 0) {
        if (errno == EWOULDBLOCK) return {};
        throw_io_error("flock", path.string());
    }
    return fd;
}

/// 16 lower-case hex digits from getrandom(2), for temp names: unique, not secret.
[[nodiscard]] inline std::string temp_suffix() {
    unsigned char bytes[8] = {};
    std::size_t got = 0;
    while (got < sizeof bytes) {
        const ::ssize_t n = ::getrandom(bytes + got, sizeof bytes - got, 0);
        if (n < 0) {
            if (errno == EINTR) continue;
            throw_io_error("getrandom for", "a temporary file name");
        }
        got += static_cast<std::size_t>(n);
    }
    static constexpr char digits[] = "0123456789abcdef";
    std::string out;
    for (unsigned b : bytes) {
        out += digits[b >> 4];
        out += digits[b & 15];
    }
    return out;
}

/// The prefix of every temporary file written next to `target` ("key.dict.tmp."): what
/// `remove_temporaries` removes after a crash.
[[nodiscard]] inline std::string temp_prefix_for(const std::filesystem::path& target) {
    return target.filename().string() + ".tmp.";
}

/// Creates a new file next to `target` that nobody else can have opened: a fresh name
/// (prefix + 16 random hex digits) opened with O_CREAT | O_EXCL | O_NOFOLLOW and `mode`, so a
/// name planted by another user is never reused.
[[nodiscard]] inline std::pair<unique_fd, std::filesystem::path> create_temp_next_to(const std::filesystem::path& target,
                                                                                     ::mode_t mode) {
    for (int attempt = 0;; ++attempt) {
        auto temp = target.parent_path() / (temp_prefix_for(target) + temp_suffix());
        try {
            return {open_file(temp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, mode), std::move(temp)};
        } catch (const error& e) {
            if (e.kind() != errc::already_exists || attempt >= 16) throw;
        }
    }
}

/// Removes the temporary files a crash mid-`atomic_replace` (or mid-`create_secret_file`) left
/// next to `target`. Call only while holding the directory's writer lock.
inline void remove_temporaries(const std::filesystem::path& target) {
    const auto dir_path = target.parent_path().empty() ? std::filesystem::path(".") : target.parent_path();
    const std::string prefix = temp_prefix_for(target);
    DIR* dir = ::opendir(dir_path.c_str());
    if (dir == nullptr) {
        if (errno == ENOENT) return;
        throw_io_error("opendir", dir_path.string());
    }
    std::vector<std::string> stale;
    while (const ::dirent* entry = ::readdir(dir)) {
        const std::string_view name = entry->d_name;
        if (name.starts_with(prefix)) stale.emplace_back(name);
    }
    ::closedir(dir);
    for (const auto& name : stale) (void)unlink_path(dir_path / name);
}

/// Replaces `target` so that after a crash it holds either the old or the new contents, never a
/// mix: write a fresh temp file, fsync it, rename over the target, fsync the directory. The new
/// file keeps what the operator chose for the old one where that is stricter: its mode is the
/// old mode masked by `mode` (a `chmod 400` stays 0400), and its owner and group are the old
/// file's (so a tool run as root does not take metadata away from the engine's user).
inline void atomic_replace(const std::filesystem::path& target, std::span<const std::byte> contents,
                           ::mode_t mode = 0600) {
    std::optional<struct ::stat> old;
    {
        struct ::stat st {};
        if (::stat(target.c_str(), &st) == 0) {
            old = st;
        } else if (errno != ENOENT) {
            throw_io_error("stat", target.string());
        }
    }
    const ::mode_t new_mode = old ? (old->st_mode & mode & 07777) : mode;
    auto [fd, temp] = create_temp_next_to(target, new_mode);
    try {
        if (::fchmod(fd.get(), new_mode) != 0) throw_io_error("fchmod", temp.string());
        if (old && (old->st_uid != ::geteuid() || old->st_gid != ::getegid())) {
            (void)::fchown(fd.get(), old->st_uid, old->st_gid);  // only root may; others keep their own
        }
        write_all(fd.get(), contents, temp);
        fsync_fd(fd.get(), temp);
        fd.reset();
        rename_path(temp, target);
    } catch (...) {
        (void)::unlink(temp.c_str());
        throw;
    }
    fsync_dir(target.parent_path());
}

/// Writes a new secret file at `path` that no other user can ever hold a descriptor to, and
/// never overwrites: the contents go into an unnamed O_TMPFILE (mode 0600) that is fsynced and
/// then linked in with linkat (which fails if `path` exists). Where the file system has no
/// O_TMPFILE, a fresh O_EXCL temp name (mode 0600) is linked instead. `path` is absent or
/// complete at every instant. `errc::already_exists` if `path` exists.
inline void create_secret_file(const std::filesystem::path& path, std::span<const std::byte> contents,
                               bool allow_tmpfile = true) {
    const auto dir = path.parent_path().empty() ? std::filesystem::path(".") : path.parent_path();
    const auto exists_error = [&] {
        return error(errc::already_exists, "'" + path.string() + "' already exists; refusing to overwrite it");
    };
    if (posix::exists(path)) throw exists_error();
    int fd_raw = -1;
    if (allow_tmpfile) {
        do {
            fd_raw = ::open(dir.c_str(), O_TMPFILE | O_WRONLY | O_CLOEXEC, 0600);
        } while (fd_raw < 0 && errno == EINTR);
        if (fd_raw < 0 && errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL) {
            const int saved = errno;
            throw error(saved == ENOENT ? errc::not_found : errc::io_error, "open O_TMPFILE in '" + dir.string() + "'",
                        saved);
        }
    }
    if (fd_raw >= 0) {
        unique_fd fd(fd_raw);
        if (::fchmod(fd.get(), 0600) != 0) throw_io_error("fchmod 0600", path.string());
        write_all(fd.get(), contents, path);
        fsync_fd(fd.get(), path);
        const std::string proc = "/proc/self/fd/" + std::to_string(fd.get());
        if (::linkat(AT_FDCWD, proc.c_str(), AT_FDCWD, path.c_str(), AT_SYMLINK_FOLLOW) != 0) {
            const int saved = errno;
            if (saved == EEXIST) throw exists_error();
            if (saved != ENOENT) throw error(errc::io_error, "linkat '" + path.string() + "'", saved);
            // No /proc: fall through to a named temp file.
        } else {
            fsync_dir(dir);
            return;
        }
    }
    auto [fd, temp] = create_temp_next_to(path, 0600);
    try {
        if (::fchmod(fd.get(), 0600) != 0) throw_io_error("fchmod 0600", temp.string());
        write_all(fd.get(), contents, temp);
        fsync_fd(fd.get(), temp);
        fd.reset();
        link_path(temp, path);
    } catch (const error& e) {
        (void)::unlink(temp.c_str());
        if (e.kind() == errc::already_exists) throw exists_error();
        throw;
    }
    (void)::unlink(temp.c_str());
    fsync_dir(dir);
}

// ---- process memory and process settings

/// Anonymous private pages for secrets: excluded from core dumps (MADV_DONTDUMP, best effort) and
/// locked against swap where RLIMIT_MEMLOCK allows. `locked` reports whether mlock succeeded.
struct secret_pages {
    std::byte* data = nullptr;
    std::size_t mapped = 0;
    bool locked = false;
};

[[nodiscard]] inline secret_pages map_secret_pages(std::size_t n) {
    const auto page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
    const std::size_t mapped = (n + page - 1) / page * page;
    void* p = ::mmap(nullptr, mapped, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) throw std::bad_alloc();
#ifdef MADV_DONTDUMP
    (void)::madvise(p, mapped, MADV_DONTDUMP);  // best effort: kernels before 3.4 lack it
#endif
    const bool locked = ::mlock(p, mapped) == 0;
    return {static_cast<std::byte*>(p), mapped, locked};
}

/// Unlocks and unmaps pages from `map_secret_pages` (scrub them first).
inline void unmap_secret_pages(const secret_pages& pages) noexcept {
    if (pages.data == nullptr) return;
    if (pages.locked) (void)::munlock(pages.data, pages.mapped);
    (void)::munmap(pages.data, pages.mapped);
}

/// RLIMIT_CORE = 0 and PR_SET_DUMPABLE = 0 for this process.
inline void disable_core_dumps() {
    const ::rlimit none{0, 0};
    if (::setrlimit(RLIMIT_CORE, &none) != 0) throw_io_error("setrlimit(RLIMIT_CORE, 0) for", "this process");
    if (::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0) throw_io_error("prctl(PR_SET_DUMPABLE, 0) for", "this process");
}

}  // namespace atrest::detail::posix
