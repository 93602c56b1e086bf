#pragma once
/// Key bytes live only in `secret_bytes`: page-backed memory that is excluded from core dumps
/// (MADV_DONTDUMP), locked against swap where RLIMIT_MEMLOCK allows (mlock), scrubbed before it
/// is freed or moved from, compared in constant time, and impossible to print.

#include <atrest/detail/botan_compat.hpp>
#include <atrest/detail/posix.hpp>
#include <atrest/detail/random.hpp>
#include <atrest/error.hpp>

#include <cstddef>
#include <cstring>
#include <iosfwd>
#include <new>
#include <span>
#include <utility>

namespace atrest {

class secret_bytes final {
public:
    secret_bytes() noexcept = default;

    /// `n` zero bytes.
    explicit secret_bytes(std::size_t n) { allocate(n); }

    explicit secret_bytes(std::span<const std::byte> src) {
        allocate(src.size());
        if (!src.empty()) std::memcpy(m_data, src.data(), src.size());
    }

    /// `n` bytes from the operating system's CSPRNG.
    [[nodiscard]] static secret_bytes random(std::size_t n) {
        secret_bytes s(n);
        detail::fill_random(s.mutable_bytes());
        return s;
    }

    secret_bytes(const secret_bytes&) = delete;
    secret_bytes& operator=(const secret_bytes&) = delete;

    secret_bytes(secret_bytes&& other) noexcept
        : m_data(std::exchange(other.m_data, nullptr)),
          m_size(std::exchange(other.m_size, 0)),
          m_mapped(std::exchange(other.m_mapped, 0)),
          m_locked(std::exchange(other.m_locked, false)) {}

    secret_bytes& operator=(secret_bytes&& other) noexcept {
        if (this != &other) {
            release();
            m_data = std::exchange(other.m_data, nullptr);
            m_size = std::exchange(other.m_size, 0);
            m_mapped = std::exchange(other.m_mapped, 0);
            m_locked = std::exchange(other.m_locked, false);
        }
        return *this;
    }

    ~secret_bytes() { release(); }

    /// The only way to copy a secret: visible at the call site.
    [[nodiscard]] secret_bytes clone() const { return secret_bytes(bytes()); }

    [[nodiscard]] std::span<const std::byte> bytes() const noexcept { return {m_data, m_size}; }
    [[nodiscard]] std::span<std::byte> mutable_bytes() noexcept { return {m_data, m_size}; }
    [[nodiscard]] const std::byte* data() const noexcept { return m_data; }
    [[nodiscard]] std::size_t size() const noexcept { return m_size; }
    [[nodiscard]] bool empty() const noexcept { return m_size == 0; }
    /// Whether mlock succeeded; it fails (harmlessly) once RLIMIT_MEMLOCK is used up.
    [[nodiscard]] bool locked() const noexcept { return m_locked; }

    /// Constant time in the length, so comparing keys leaks nothing through timing.
    friend bool operator==(const secret_bytes& a, const secret_bytes& b) noexcept {
        if (a.m_size != b.m_size) return false;
        if (a.m_size == 0) return true;
        return detail::botan_compat::constant_time_equal(reinterpret_cast<const std::uint8_t*>(a.m_data),
                                                         reinterpret_cast<const std::uint8_t*>(b.m_data), a.m_size);
    }

private:
    void allocate(std::size_t n) {
        if (n == 0) return;
        const auto pages = detail::posix::map_secret_pages(n);
        m_data = pages.data;
        m_size = n;
        m_mapped = pages.mapped;
        m_locked = pages.locked;
    }

    void release() noexcept {
        if (m_data == nullptr) return;
        detail::botan_compat::secure_scrub(m_data, m_mapped);
        detail::posix::unmap_secret_pages({m_data, m_mapped, m_locked});
        m_data = nullptr;
        m_size = m_mapped = 0;
        m_locked = false;
    }

    std::byte* m_data = nullptr;
    std::size_t m_size = 0;
    std::size_t m_mapped = 0;
    bool m_locked = false;
};

/// Printing a key must not compile.
std::ostream& operator<<(std::ostream&, const secret_bytes&) = delete;

/// Turns off core dumps for this process (RLIMIT_CORE = 0, PR_SET_DUMPABLE = 0): TiKV leaves this
/// to the operator; keys in memory can otherwise end up in a core file. Side effect of
/// PR_SET_DUMPABLE = 0: same-user ptrace attach and /proc/<pid>/mem access are refused too.
inline void harden_process() { detail::posix::disable_core_dumps(); }

}  // namespace atrest
