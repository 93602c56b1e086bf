#pragma once
/// The file policy family: the raw I/O under `encrypted_file`. A policy rather than hard-wired
/// POSIX calls so the encrypted layer is a compile-time wrapper (no virtual call per read) over
/// whatever the engine uses, and so tests can inject short writes and I/O errors at any byte.

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

namespace atrest {

/// Positional reads. `read_at` fills `out` from `offset` and returns fewer bytes only at end of
/// file; it is const so that many threads can read one file (as RocksDB does). `name` says which
/// file an error message is about (a path, or any label).
template <class F>
concept random_access_file = requires(const F& f, std::uint64_t offset, std::span<std::byte> out) {
    { f.read_at(offset, out) } -> std::same_as<std::size_t>;
    { f.size() } -> std::same_as<std::uint64_t>;
    { f.name() } -> std::convertible_to<std::string_view>;
};

/// Positional writes on top of reads. `write_at` has pwrite(2)'s contract, which the cipher
/// position relies on (TiKV #15080): it either writes a prefix of `data` and returns its length
/// (possibly short, never more), or throws `atrest::error` having written nothing of this call.
/// `sync` makes written bytes durable; `truncate` sets the size.
template <class F>
concept writable_file = random_access_file<F> &&
                        requires(F& f, std::uint64_t offset, std::span<const std::byte> data, std::uint64_t size) {
                            { f.write_at(offset, data) } -> std::same_as<std::size_t>;
                            f.sync();
                            f.truncate(size);
                        };

}  // namespace atrest
