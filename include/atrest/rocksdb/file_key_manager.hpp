#pragma once
/// What the RocksDB adapter needs from a key manager. A concept rather than `key_manager<...>`
/// itself so the adapter works with any master-key source, store, clock and metrics policy (and
/// with test doubles that inject failures), and so it needs no RocksDB header to be checked.

#include <atrest/dict/key_manager.hpp>

#include <concepts>
#include <filesystem>
#include <string_view>

namespace atrest {

/// The file half of `key_manager`: per-file {method, key, IV} and the crash-safe bookkeeping of
/// creates, deletes, links and renames. `new_file` must be durable when it returns, and
/// `rename_file(src, dst, fn)` must link, run `fn`, then drop `src` (restoring `dst` if `fn`
/// throws), since the adapter's crash-safety argument (docs/rocksdb.md) rests on both.
template <class K>
concept file_key_manager = requires(K& k, const K& ck, std::string_view path, void (*rename)()) {
    { k.new_file(path) } -> std::same_as<file_info>;
    { ck.get_file(path) } -> std::same_as<file_info>;
    k.delete_file(path);
    k.link_file(path, path);
    k.rename_file(path, path, rename);
    { ck.options() } -> std::convertible_to<const key_manager_options&>;
    { ck.data_dir() } -> std::convertible_to<const std::filesystem::path&>;
};

}  // namespace atrest
