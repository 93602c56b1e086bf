#pragma once
/// What the RocksDB adapter needs from a key manager. A concept rather than `key_manager<...>`
/// itself so the adapter works with any master-key source, store, clock and metrics policy (and
/// with test doubles that inject failures), and so it needs no RocksDB header to be checked.

#include <atrest/dict/key_manager.hpp>

#include <concepts>
#include <filesystem>
#include <string>

namespace atrest {

/// The file half of `key_manager`: per-file {method, key, IV}, the one rule that names a file
/// (`name_of`), and the crash-safe bookkeeping of creates, deletes, links and renames.
/// `new_file` must be durable when it returns; `link_file(src, dst, fn)` and
/// `rename_file(src, dst, fn)` must run `fn` between their dictionary steps as documented on
/// `key_manager`, since the adapter's crash-safety argument (docs/rocksdb.md) rests on them.
template <class K>
concept file_key_manager = requires(K& k, const K& ck, const std::filesystem::path& path, void (*fn)()) {
    { k.new_file(path) } -> std::same_as<file_info>;
    { ck.get_file(path) } -> std::same_as<file_info>;
    { ck.name_of(path) } -> std::convertible_to<std::string>;
    k.delete_file(path);
    k.link_file(path, path, fn);
    k.rename_file(path, path, fn);
    { ck.options() } -> std::convertible_to<const key_manager_options&>;
    { ck.data_dir() } -> std::convertible_to<const std::filesystem::path&>;
};

}  // namespace atrest
