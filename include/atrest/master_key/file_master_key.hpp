#pragma once
/// A master key read from a file in TiKV's format: exactly 65 bytes, 64 hex digits then "\n",
/// nothing else. Every way a file can break that rule gets its own message naming the path and
/// the rule (never the content). The hex is read into secret memory and the key kept there.

#include <atrest/detail/posix.hpp>
#include <atrest/master_key/sealed_blob.hpp>
#include <atrest/master_key/memory_master_key.hpp>

#include <cstdio>
#include <filesystem>
#include <string>
#include <utility>

namespace atrest {

namespace detail {

inline constexpr std::size_t master_key_hex_digits = 64;
inline constexpr std::size_t master_key_file_size = master_key_hex_digits + 1;

[[nodiscard]] inline int hex_value(std::byte b) noexcept {
    const auto c = static_cast<char>(b);
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

[[noreturn]] inline void bad_key_file(const std::filesystem::path& path, const std::string& why) {
    throw error(errc::key_file_format, "master key file '" + path.string() + "' " + why +
                                           "; it must hold exactly 64 hex digits followed by one newline (65 bytes)");
}

/// Applies the format rule to `content` (the whole file) and decodes the key.
[[nodiscard]] inline secret_bytes parse_master_key_file(std::span<const std::byte> content, const std::filesystem::path& path) {
    if (content.empty()) bad_key_file(path, "is empty");
    std::size_t newline = 0;
    while (newline < content.size() && content[newline] != std::byte{'\n'}) ++newline;
    const std::size_t digits_end = (newline > 0 && content[newline - 1] == std::byte{'\r'}) ? newline - 1 : newline;
    for (std::size_t i = 0; i < digits_end; ++i) {
        if (hex_value(content[i]) < 0) bad_key_file(path, "has a non-hex character at byte " + std::to_string(i));
    }
    if (newline == content.size()) {
        bad_key_file(path, "has " + std::to_string(digits_end) + " hex digits and no newline at the end");
    }
    if (digits_end != newline) bad_key_file(path, "ends its line with \\r\\n (a Windows line ending)");
    if (newline != master_key_hex_digits) {
        bad_key_file(path, "has " + std::to_string(newline) + " hex digits instead of 64");
    }
    if (content.size() > master_key_file_size) {
        bad_key_file(path, "has " + std::to_string(content.size() - master_key_file_size) +
                               " bytes after the newline");
    }
    secret_bytes key(master_key_hex_digits / 2);
    auto out = key.mutable_bytes();
    for (std::size_t i = 0; i < out.size(); ++i) {
        out[i] = static_cast<std::byte>(hex_value(content[2 * i]) << 4 | hex_value(content[2 * i + 1]));
    }
    return key;
}

/// Opens first and checks the opened file (no window between check and read), reading at most a
/// little more than a valid file, into secret memory. O_NONBLOCK keeps a FIFO from hanging us.
[[nodiscard]] inline secret_bytes read_master_key_file(const std::filesystem::path& path, const diagnostic_sink& warn) {
    posix::unique_fd fd;
    try {
        fd = posix::open_file(path, O_RDONLY | O_NONBLOCK);
    } catch (const error& e) {
        if (e.kind() != errc::not_found) throw;
        throw error(errc::not_found, "master key file '" + path.string() + "' does not exist");
    }
    const auto st = posix::stat_fd(fd.get(), path);
    if (S_ISDIR(st.st_mode)) bad_key_file(path, "is a directory");
    if (!S_ISREG(st.st_mode)) bad_key_file(path, "is not a regular file");
    if ((st.st_mode & 077) != 0 && warn) {
        char mode[8];
        std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
        warn("master key file '" + path.string() + "' is accessible by group or others (mode " + mode +
             "); restrict it with chmod 600");
    }
    secret_bytes buffer(4096);  // enough for a precise message about any plausible mistake
    const auto n = posix::pread_full(fd.get(), buffer.mutable_bytes(), 0, path);
    if (n == buffer.size()) {
        bad_key_file(path, "is " + std::to_string(posix::file_size(fd.get(), path)) + " bytes long");
    }
    return parse_master_key_file(buffer.bytes().first(n), path);
}

}  // namespace detail

template <key_wrap_policy Wrap = aes256_gcm_wrap>
class file_master_key final {
public:
    /// Reads and validates the file now, so a bad key file stops a start before anything is
    /// opened. `warn` receives a message if the file is readable by group or others.
    explicit file_master_key(std::filesystem::path path, const diagnostic_sink& warn = {})
        : m_path(std::move(path)),
          m_key(detail::read_master_key_file(m_path, warn), "master key file '" + m_path.string() + "'") {}

    [[nodiscard]] std::vector<std::byte> seal(std::span<const std::byte> data, std::span<const std::byte> aad) {
        return m_key.seal(data, aad);
    }
    [[nodiscard]] unsealed open(std::span<const std::byte> sealed, std::span<const std::byte> aad) {
        return m_key.open(sealed, aad);
    }
    [[nodiscard]] std::string describe() const { return m_key.describe(); }
    [[nodiscard]] bool is_secure() const noexcept { return true; }
    [[nodiscard]] const std::filesystem::path& path() const noexcept { return m_path; }

private:
    std::filesystem::path m_path;
    memory_master_key<Wrap> m_key;
};

/// Writes a new master key file: 32 bytes from the system RNG as lowercase hex and "\n", mode
/// 0600 (whatever the umask). No other user can ever hold a descriptor to it, and it never
/// overwrites: the text goes into an unnamed temp file (O_TMPFILE, or where the file system lacks
/// it a fresh O_EXCL name) that is fsynced and then linked to `path` (link fails atomically if
/// `path` exists), so `path` is either absent or complete. errc::already_exists if `path` exists.
inline void generate_master_key_file(const std::filesystem::path& path) {
    const auto key = secret_bytes::random(detail::master_key_hex_digits / 2);
    secret_bytes text(detail::master_key_file_size);
    static constexpr char digits[] = "0123456789abcdef";
    auto out = text.mutable_bytes();
    for (std::size_t i = 0; i < key.size(); ++i) {
        const auto b = static_cast<unsigned>(key.bytes()[i]);
        out[2 * i] = static_cast<std::byte>(digits[b >> 4]);
        out[2 * i + 1] = static_cast<std::byte>(digits[b & 15]);
    }
    out[detail::master_key_hex_digits] = std::byte{'\n'};
    try {
        detail::posix::create_secret_file(path, text.bytes());
    } catch (const error& e) {
        if (e.kind() != errc::already_exists) throw;
        throw error(errc::already_exists, "master key file '" + path.string() + "' already exists; refusing to overwrite it");
    }
}

}  // namespace atrest
