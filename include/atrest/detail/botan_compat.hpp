#pragma once
/// The single place that knows which Botan major version we build against (2.19 on Debian 12,
/// 3.x from Conan). Everything else calls these helpers and uses only the (pointer, length)
/// calls both versions share, so a Botan upgrade touches one file.

#include <botan/aead.h>
#include <botan/block_cipher.h>
#include <botan/hash.h>
#include <botan/mac.h>
#include <botan/mem_ops.h>
#include <botan/system_rng.h>
#include <botan/version.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>

#if !defined(BOTAN_VERSION_MAJOR) || (BOTAN_VERSION_MAJOR < 2) || \
    (BOTAN_VERSION_MAJOR == 2 && BOTAN_VERSION_MINOR < 19)
#error "atrest needs Botan 2.19 or newer (2.x or 3.x)"
#endif

namespace atrest::detail::botan_compat {

inline constexpr int botan_major = BOTAN_VERSION_MAJOR;

// ---- Botan objects that are safe to destroy at any point of process exit
//
// Botan keeps key schedules in `secure_vector`s backed by a locked-memory pool that is a
// function-local static of the Botan library. A Botan object destroyed after that static (say,
// inside a key manager held by a `static std::shared_ptr`, as RocksDB's tools hold their Env)
// scrubs and frees into unmapped pages: SIGSEGV in Botan::deallocate_memory, on Botan 2 and 3.
// So every Botan object the library keeps goes through `owned<T>`: an exit handler, registered
// right after the pool exists (so it runs before the pool's destructor), marks the process as
// exiting; an `owned<T>` destroyed after that mark is parked instead of freed (the process is
// ending; Botan's pool teardown scrubs the pages those objects' keys live in).

namespace exit_guard {

inline std::atomic<bool> g_exiting{false};

/// Objects parked at exit stay reachable from here (so leak checkers see no leak). Constant-
/// initialised with a trivial destructor: it is never torn down.
struct parked final {
    void* object;
    parked* next;
};
inline std::atomic<parked*> g_parked{nullptr};

inline void mark_exiting() noexcept { g_exiting.store(true, std::memory_order_release); }

/// Creates Botan's locked-memory pool (if this build of Botan has one) and then registers
/// `mark_exiting`, once per process, so the mark runs before the pool is destroyed.
inline void arm() {
    static const bool armed = [] {
        { Botan::secure_vector<std::uint8_t> touch(1); }  // Botan's mlock_allocator singleton exists now
        return std::atexit(mark_exiting) == 0;
    }();
    (void)armed;
}

}  // namespace exit_guard

/// Deletes normally; once the process is exiting, parks the object instead (see above).
struct exit_safe_delete final {
    template <class T>
    void operator()(T* p) const noexcept {
        if (p == nullptr) return;
        if (!exit_guard::g_exiting.load(std::memory_order_acquire)) {
            delete p;
            return;
        }
        auto* node = new (std::nothrow) exit_guard::parked{p, exit_guard::g_parked.load()};
        if (node == nullptr) return;
        while (!exit_guard::g_parked.compare_exchange_weak(node->next, node)) {
        }
    }
};

/// How the library owns a Botan object.
template <class T>
using owned = std::unique_ptr<T, exit_safe_delete>;

template <class T>
[[nodiscard]] owned<T> own(std::unique_ptr<T> p) {
    exit_guard::arm();
    return owned<T>(p.release());
}

/// A block cipher with no key yet; throws Botan's exception when the algorithm is missing.
[[nodiscard]] inline owned<Botan::BlockCipher> make_block_cipher(const std::string& name) {
    return own(Botan::BlockCipher::create_or_throw(name));
}

/// An AEAD mode object; the direction enum was renamed in Botan 3.
[[nodiscard]] inline owned<Botan::AEAD_Mode> make_aead(const std::string& name, bool encrypt) {
#if BOTAN_VERSION_MAJOR >= 3
    return own(Botan::AEAD_Mode::create_or_throw(name, encrypt ? Botan::Cipher_Dir::Encryption
                                                               : Botan::Cipher_Dir::Decryption));
#else
    return own(Botan::AEAD_Mode::create_or_throw(name, encrypt ? Botan::ENCRYPTION : Botan::DECRYPTION));
#endif
}

[[nodiscard]] inline owned<Botan::MessageAuthenticationCode> make_mac(const std::string& name) {
    return own(Botan::MessageAuthenticationCode::create_or_throw(name));
}

[[nodiscard]] inline owned<Botan::HashFunction> make_hash(const std::string& name) {
    return own(Botan::HashFunction::create_or_throw(name));
}

/// The operating system's CSPRNG (getrandom/urandom); stateless, so one shared instance is fine.
[[nodiscard]] inline Botan::RandomNumberGenerator& system_rng() { return Botan::system_rng(); }

/// Zeroes memory in a way the optimiser may not remove.
inline void secure_scrub(void* p, std::size_t n) noexcept { Botan::secure_scrub_memory(p, n); }

/// Constant-time comparison for tags and MACs.
[[nodiscard]] inline bool constant_time_equal(const std::uint8_t* a, const std::uint8_t* b, std::size_t n) noexcept {
    return Botan::constant_time_compare(a, b, n);
}

}  // namespace atrest::detail::botan_compat
