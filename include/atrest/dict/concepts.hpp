#pragma once
/// The dictionary family's concepts: where the key manager keeps its two metadata files
/// (`dictionary_store`, optionally `lockable_store`) and what time it is (`clock_policy`).
/// Policies rather than hard-wired POSIX calls and the system clock so tests can inject ENOSPC,
/// EIO, short writes and crashes at any byte, engines with their own I/O layer can route metadata
/// through it, and data-key rotation can be tested without waiting a week. Models:
/// posix_store.hpp, system_clock.hpp; checks: tests/static/dict_static.cpp.

#include <chrono>
#include <concepts>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <vector>

namespace atrest {

/// What the key manager needs from metadata storage. Every call names the file; failures throw
/// `atrest::error`. `replace` must be atomic (old or new contents after a crash, never a mix);
/// `append` + `sync` must make the appended bytes durable before `sync` returns. `read` of
/// something that is not a regular file (a FIFO, a directory) is an error, never a hang.
template <class S>
concept dictionary_store = requires(S& s, const std::filesystem::path& p, std::span<const std::byte> data,
                                    std::uint64_t size) {
    { s.read(p) } -> std::same_as<std::optional<std::vector<std::byte>>>;  // nullopt: file does not exist
    s.replace(p, data);          // atomic: temp file, fsync, rename, fsync directory
    s.append(p, data);           // at the current end of the file
    s.sync(p);                   // durability barrier for earlier appends
    s.truncate(p, size);         // drop a failed append's partial bytes
    s.remove_temporaries(p);     // what an interrupted `replace` of p left behind (writable open, under the lock)
};

/// Optional: a store that can lock the data directory for one writer. The key manager calls
/// `lock(path)` on a writable open when the store has it; the lock lasts as long as the store.
template <class S>
concept lockable_store = requires(S& s, const std::filesystem::path& p) { s.lock(p); };

/// Data-key rotation depends on wall-clock time: key age, and a clock that went backwards.
template <class C>
concept clock_policy = requires(const C& c) {
    { c.now() } -> std::convertible_to<std::chrono::system_clock::time_point>;
};

}  // namespace atrest
