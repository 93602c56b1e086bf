#pragma once
/// Errors: every failure the library reports is an `atrest::error` carrying an `atrest::errc`,
/// so callers can branch on the kind (wrong key vs corrupt metadata vs I/O) without parsing text,
/// while the message names what is wrong and where.

#include <cerrno>
#include <cstring>
#include <string>
#include <system_error>
#include <type_traits>
#include <utility>

namespace atrest {

/// Stable error kinds; values are part of the API (never renumbered).
enum class errc : int {
    invalid_argument = 1,   ///< A caller passed something the API does not accept.
    unknown_method = 2,     ///< An encryption method name or number is not one we know.
    invalid_key_size = 3,   ///< Key bytes of the wrong length for the method.
    invalid_iv_size = 4,    ///< IV bytes of the wrong length for the method.
    wrong_key = 5,          ///< Authentication failed: the key (usually the master key) is not the one used to seal.
    corrupt = 6,            ///< Stored bytes are malformed or truncated.
    unknown_version = 7,    ///< A format version this build does not understand.
    io_error = 8,           ///< The operating system reported a failure.
    key_file_format = 9,    ///< A master-key file breaks the 64-hex-digits-plus-newline rule.
    not_found = 10,         ///< A path or id that must exist does not.
    already_exists = 11,    ///< Refused to overwrite something that exists.
    insecure = 12,          ///< Refused an insecure set-up that was not explicitly allowed.
    config = 13,            ///< Invalid configuration value.
    keystream_reuse = 14,   ///< A write would reuse a CTR keystream position with new data.
    tampered = 15,          ///< Authenticated metadata does not verify: it was changed or swapped.
    kms = 16,               ///< A key-management service call failed.
    unsupported = 17,       ///< A feature is not available in this build or on this platform.
    busy = 18,              ///< Another writer holds the data directory.
    integrity = 19,         ///< Authenticated data does not verify: changed, reordered, spliced, or another key.
    truncated = 20,         ///< Authenticated data ends early: its final segment (or more) is missing.
};

/// The category behind `atrest::errc`; one instance per program.
class error_category final : public std::error_category {
public:
    [[nodiscard]] const char* name() const noexcept override { return "atrest"; }
    [[nodiscard]] std::string message(int value) const override {
        switch (static_cast<errc>(value)) {
            case errc::invalid_argument: return "invalid argument";
            case errc::unknown_method: return "unknown encryption method";
            case errc::invalid_key_size: return "invalid key size";
            case errc::invalid_iv_size: return "invalid IV size";
            case errc::wrong_key: return "wrong key (authentication failed)";
            case errc::corrupt: return "corrupt data";
            case errc::unknown_version: return "unknown format version";
            case errc::io_error: return "I/O error";
            case errc::key_file_format: return "malformed master key file";
            case errc::not_found: return "not found";
            case errc::already_exists: return "already exists";
            case errc::insecure: return "insecure configuration refused";
            case errc::config: return "invalid configuration";
            case errc::keystream_reuse: return "keystream reuse refused";
            case errc::tampered: return "authenticated metadata was tampered with";
            case errc::kms: return "key management service error";
            case errc::unsupported: return "unsupported";
            case errc::busy: return "in use by another writer";
            case errc::integrity: return "authenticated data failed to verify";
            case errc::truncated: return "authenticated data is truncated";
        }
        return "unknown atrest error";
    }
};

[[nodiscard]] inline const std::error_category& atrest_category() noexcept {
    static const error_category instance;
    return instance;
}

[[nodiscard]] inline std::error_code make_error_code(errc e) noexcept {
    return {static_cast<int>(e), atrest_category()};
}

/// The one exception type; `code()` compares equal to an `errc`, and `what()` is the message as
/// built — what failed and where — with nothing appended (std::system_error would add
/// ": <category message>" after it).
class error : public std::system_error {
public:
    error(errc e, std::string what) : std::system_error(make_error_code(e)), m_what(std::move(what)) {}
    /// For I/O failures: keeps the OS errno next to the atrest kind; the message ends with strerror.
    error(errc e, const std::string& what, int os_errno)
        : std::system_error(make_error_code(e)), m_what(what + ": " + std::strerror(os_errno)), m_os_errno(os_errno) {}

    [[nodiscard]] const char* what() const noexcept override { return m_what.c_str(); }
    [[nodiscard]] errc kind() const noexcept { return static_cast<errc>(code().value()); }
    /// The `errno` of the failing system call, or 0 when none was involved.
    [[nodiscard]] int os_errno() const noexcept { return m_os_errno; }

private:
    std::string m_what;
    int m_os_errno = 0;
};

/// Throws `errc::io_error` naming the operation and path, with the current errno.
[[noreturn]] inline void throw_io_error(const std::string& operation, const std::string& path) {
    const int saved = errno;
    throw error(errc::io_error, operation + " '" + path + "'", saved);
}

}  // namespace atrest

template <>
struct std::is_error_code_enum<atrest::errc> : std::true_type {};
