#pragma once
/// atrest's file system in RocksDB's object registry, so anything that takes a file-system URI
/// (`FileSystem::CreateFromString`, `Env::CreateFromUri`, the `--fs_uri` flag of `ldb` and
/// `db_bench`) can open an encrypted database as `atrest:<data dir>` or `atrest-ro:<data dir>`
/// (grammar and environment: file_system_uri.hpp). `register_file_system` is a RocksDB
/// `RegistrarFunc`; the preloadable plugin (tools/rocksdb-plugin) calls it on
/// `ObjectLibrary::Default()` when it is loaded. Targets: `atrest::rocksdb` and `atrest::config`.

#include <atrest/config/open_key_manager.hpp>
#include <atrest/error.hpp>
#include <atrest/rocksdb/encrypted_file_system.hpp>
#include <atrest/rocksdb/file_system_uri.hpp>

#include <rocksdb/file_system.h>
#include <rocksdb/utilities/object_registry.h>

#include <exception>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>

namespace atrest::rocks {

/// What a registry factory hands out: a named wrapper over the shared encrypted file system (the
/// registry's guard must own a unique object; several tool-side owners share one key manager).
class registered_file_system final : public ::rocksdb::FileSystemWrapper {
public:
    explicit registered_file_system(std::shared_ptr<::rocksdb::FileSystem> encrypted)
        : FileSystemWrapper(std::move(encrypted)) {}
    static const char* kClassName() { return "AtrestFileSystem"; }
    const char* Name() const override { return kClassName(); }
};

/// Opens `uri`'s key manager with `settings` (read-only for `atrest-ro:`) and the encrypted file
/// system over RocksDB's default one. A writable open takes the key manager's writer lock, so it
/// fails with `errc::busy` beside a live engine, and creates metadata in a directory without
/// `key.dict` only when `settings.create_if_missing` (else `errc::not_found`, naming the
/// directory: a mistyped path must not become a fresh, empty set of keys).
[[nodiscard]] inline std::shared_ptr<::rocksdb::FileSystem> open_file_system(const file_system_uri& uri,
                                                                            const tool_settings& settings,
                                                                            const diagnostic_sink& warn = {}) {
    const auto key_dict = uri.data_dir / configured_key_manager<>::key_dictionary_name;
    if (!uri.read_only && !settings.create_if_missing && !std::filesystem::exists(key_dict)) {
        throw error(errc::not_found, uri.to_string() + ": '" + key_dict.string() +
                                         "' does not exist; name the directory that holds the database's atrest "
                                         "metadata, or set " + tool_environment::create_if_missing +
                                         "=1 to create it for a new database");
    }
    auto config = settings.config;
    config.read_only = uri.read_only;
    config.create_if_missing = settings.create_if_missing;
    return make_encrypted_file_system(open_key_manager(config, uri.data_dir, warn));
}

namespace detail {

/// One encrypted file system per (directory, mode) while any owner keeps it: a tool that resolves
/// the same URI twice must not take the writer lock twice.
[[nodiscard]] inline std::shared_ptr<::rocksdb::FileSystem> shared_file_system(const file_system_uri& uri) {
    static std::mutex mutex;
    static std::map<std::pair<std::string, bool>, std::weak_ptr<::rocksdb::FileSystem>> open;
    std::lock_guard lock(mutex);
    auto& slot = open[{uri.data_dir.string(), uri.read_only}];
    if (auto fs = slot.lock()) return fs;
    auto fs = open_file_system(uri, settings_from_environment(uri),
                               [](std::string_view w) { std::cerr << "atrest: warning: " << w << "\n"; });
    slot = fs;
    return fs;
}

/// The message a tool prints when the factory fails (RocksDB adds the URI after it).
[[nodiscard]] inline std::string factory_error(const error& e) {
    std::string text = std::string("atrest: ") + e.what();
    if (e.kind() == errc::busy) {
        text += "; an atrest: URI opens the key manager for writing, which must not run beside a live engine: "
                "stop the engine, or read with atrest-ro:<data dir> (ldb get/scan/dump/manifest_dump)";
    }
    return text;
}

}  // namespace detail

/// Adds factories for `atrest:<dir>` and `atrest-ro:<dir>` to `library` (a `RegistrarFunc`:
/// `ObjectRegistry::AddLibrary("atrest", register_file_system, "")` or, as the plugin does,
/// `register_file_system(*ObjectLibrary::Default(), "")`). Returns the number of factories. The
/// key manager's settings come from the environment when a URI is resolved; its warnings go to
/// stderr, its errors into the `Status` RocksDB returns.
inline int register_file_system(::rocksdb::ObjectLibrary& library, const std::string& /*arg*/ = {}) {
    const ::rocksdb::FactoryFunc<::rocksdb::FileSystem> factory =
        [](const std::string& target, std::unique_ptr<::rocksdb::FileSystem>* guard,
           std::string* errmsg) -> ::rocksdb::FileSystem* {
        try {
            *guard = std::make_unique<registered_file_system>(detail::shared_file_system(file_system_uri::parse(target)));
            return guard->get();
        } catch (const error& e) {
            *errmsg = detail::factory_error(e);
        } catch (const std::exception& e) {
            *errmsg = std::string("atrest: ") + e.what();
        }
        return nullptr;
    };
    for (std::string_view scheme : {file_system_uri::scheme, file_system_uri::read_only_scheme}) {
        library.AddFactory<::rocksdb::FileSystem>(
            ::rocksdb::ObjectLibrary::PatternEntry(std::string(scheme), false).AddSeparator(":"), factory);
    }
    return 2;
}

}  // namespace atrest::rocks
