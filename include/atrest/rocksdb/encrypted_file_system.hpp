#pragma once
/// `atrest::rocks::encrypted_file_system`: a RocksDB `FileSystem` that encrypts every file
/// RocksDB writes (SST, WAL, MANIFEST, CURRENT, OPTIONS, IDENTITY, temp files) with the key
/// manager's current data key and a fresh IV per file, TiKV-style: no header, sizes unchanged,
/// files unknown to the dictionary read as plaintext (so an existing plaintext DB migrates as
/// it compacts). The info LOG goes through `NewLogger`, which is passed through unencrypted:
/// it holds no user data (see docs/rocksdb.md).
///
/// Crash safety: every operation orders its file step and its dictionary step so that a crash
/// between them leaves a file whose entry matches its bytes — at worst an extra entry for a file
/// that is gone, or an empty file without one (the order of each call is documented on it and in
/// docs/rocksdb.md). Names come from the key manager (`name_of`), the one owner of that rule.

#include <atrest/cipher/methods.hpp>
#include <atrest/file/encrypted_file.hpp>
#include <atrest/rocksdb/authenticated_files.hpp>
#include <atrest/rocksdb/encrypted_files.hpp>
#include <atrest/rocksdb/concepts.hpp>
#include <atrest/rocksdb/io_status.hpp>

#include <rocksdb/env.h>
#include <rocksdb/file_system.h>

#include <concepts>
#include <filesystem>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace atrest::rocks {

template <file_key_manager KeyManager>
class encrypted_file_system final : public ::rocksdb::FileSystemWrapper {
public:
    /// `keys` is shared: RocksDB may keep the file system alive after the caller's last use.
    encrypted_file_system(std::shared_ptr<::rocksdb::FileSystem> base, std::shared_ptr<KeyManager> keys)
        : FileSystemWrapper(std::move(base)), m_keys(std::move(keys)) {}

    static const char* kClassName() { return "AtrestEncryptedFileSystem"; }
    const char* Name() const override { return kClassName(); }

    [[nodiscard]] KeyManager& key_manager() const noexcept { return *m_keys; }

    // ---- reads: the file's entry decides; no entry means plaintext.
    ::rocksdb::IOStatus NewSequentialFile(const std::string& fname, const ::rocksdb::FileOptions& options,
                                          std::unique_ptr<::rocksdb::FSSequentialFile>* result,
                                          ::rocksdb::IODebugContext* dbg) override {
        return guarded([&] {
            const file_info info = m_keys->get_file(fname);
            if (is_authenticated(info.method)) {
                return open_authenticated_reader<authenticated_sequential_file>(fname, options, info, result, dbg);
            }
            std::unique_ptr<::rocksdb::FSSequentialFile> file;
            auto st = target()->NewSequentialFile(fname, options, &file, dbg);
            if (st.ok()) *result = wrap<encrypted_sequential_file>(std::move(file), info, fname);
            return st;
        });
    }

    ::rocksdb::IOStatus NewRandomAccessFile(const std::string& fname, const ::rocksdb::FileOptions& options,
                                            std::unique_ptr<::rocksdb::FSRandomAccessFile>* result,
                                            ::rocksdb::IODebugContext* dbg) override {
        return guarded([&] {
            const file_info info = m_keys->get_file(fname);
            if (is_authenticated(info.method)) {
                return open_authenticated_reader<authenticated_random_access_file>(fname, options, info, result, dbg);
            }
            std::unique_ptr<::rocksdb::FSRandomAccessFile> file;
            auto st = target()->NewRandomAccessFile(fname, options, &file, dbg);
            if (st.ok()) *result = wrap<encrypted_random_access_file>(std::move(file), info, fname);
            return st;
        });
    }

    // ---- creates: the file first (created or truncated to empty), then its entry (fresh IV,
    // durable). A crash in between leaves an empty file under its old entry, or none: it reads as
    // empty either way, and RocksDB was discarding whatever the name held.
    ::rocksdb::IOStatus NewWritableFile(const std::string& fname, const ::rocksdb::FileOptions& options,
                                        std::unique_ptr<::rocksdb::FSWritableFile>* result,
                                        ::rocksdb::IODebugContext* dbg) override {
        return guarded([&] {
            if (auto st = refuse_direct_writes(fname, options); !st.ok()) return st;
            std::unique_ptr<::rocksdb::FSWritableFile> file;
            auto st = target()->NewWritableFile(fname, options, &file, dbg);
            if (!st.ok()) return st;
            const file_info info = m_keys->new_file(fname);
            return wrap_writable(std::move(file), info, fname, 0, write_mode::append, options, result, dbg);
        });
    }

    /// Appends to an existing file under its existing entry; a missing file is a create (file
    /// first, then entry).
    ::rocksdb::IOStatus ReopenWritableFile(const std::string& fname, const ::rocksdb::FileOptions& options,
                                           std::unique_ptr<::rocksdb::FSWritableFile>* result,
                                           ::rocksdb::IODebugContext* dbg) override {
        return guarded([&] {
            if (auto st = refuse_direct_writes(fname, options); !st.ok()) return st;
            std::uint64_t size = 0;
            auto st = target()->GetFileSize(fname, options.io_options, &size, dbg);
            if (!st.ok() && !st.IsNotFound() && !st.IsPathNotFound()) return st;
            const bool exists = st.ok();
            std::unique_ptr<::rocksdb::FSWritableFile> file;
            st = target()->ReopenWritableFile(fname, options, &file, dbg);
            if (!st.ok()) return st;
            const file_info info = exists ? m_keys->get_file(fname) : m_keys->new_file(fname);
            return wrap_writable(std::move(file), info, fname, exists ? size : 0, write_mode::append, options, result,
                                 dbg);
        });
    }

    /// WAL recycling: `old_fname` is renamed to `fname` with its entry (the key manager's
    /// crash-safe rename), its bytes are truncated away and made durable, and only then does
    /// `fname` get a FRESH IV — reusing the old IV would XOR new records with old ones. At every
    /// point the name's entry matches its bytes.
    ::rocksdb::IOStatus ReuseWritableFile(const std::string& fname, const std::string& old_fname,
                                          const ::rocksdb::FileOptions& options,
                                          std::unique_ptr<::rocksdb::FSWritableFile>* result,
                                          ::rocksdb::IODebugContext* dbg) override {
        return guarded([&] {
            if (auto st = refuse_direct_writes(fname, options); !st.ok()) return st;
            std::unique_ptr<::rocksdb::FSWritableFile> file;
            ::rocksdb::IOStatus st;
            try {
                m_keys->rename_file(old_fname, fname, [&] {
                    st = target()->ReuseWritableFile(fname, old_fname, options, &file, dbg);
                    if (!st.ok()) throw physical_failure{};
                });
            } catch (const physical_failure&) {
                return st;
            }
            st = file->Truncate(0, options.io_options, dbg);
            if (st.ok()) st = file->Fsync(options.io_options, dbg);
            if (!st.ok()) return st;
            const file_info info = m_keys->new_file(fname);
            return wrap_writable(std::move(file), info, fname, 0, write_mode::append, options, result, dbg);
        });
    }

    /// Existing files keep their entry (writes may only append); a new file is created first,
    /// then gets its entry.
    ::rocksdb::IOStatus NewRandomRWFile(const std::string& fname, const ::rocksdb::FileOptions& options,
                                        std::unique_ptr<::rocksdb::FSRandomRWFile>* result,
                                        ::rocksdb::IODebugContext* dbg) override {
        return guarded([&] {
            std::uint64_t size = 0;
            auto st = target()->GetFileSize(fname, options.io_options, &size, dbg);
            if (!st.ok() && !st.IsNotFound() && !st.IsPathNotFound()) return st;
            const bool exists = st.ok();
            std::unique_ptr<::rocksdb::FSRandomRWFile> file;
            st = target()->NewRandomRWFile(fname, options, &file, dbg);
            if (!st.ok()) return st;
            const file_info info = exists ? m_keys->get_file(fname) : m_keys->new_file(fname);
            if (is_authenticated(info.method)) {
                return ::rocksdb::IOStatus::NotSupported(
                    "atrest: '" + fname + "' is an authenticated data file (" + std::string(to_string(info.method)) +
                    "), which cannot be written in place (RocksDB does so to give an ingested SST a global sequence "
                    "number: ingest with write_global_seqno = false)");
            }
            *result = visit_method(info.method, [&]<cipher_policy C>(C) -> std::unique_ptr<::rocksdb::FSRandomRWFile> {
                if constexpr (std::same_as<C, plaintext> || authenticated_policy<C>) {
                    return std::move(file);
                } else {
                    return std::make_unique<encrypted_random_rw_file<C>>(std::move(file), info.key->bytes(), info.iv,
                                                                         fname, exists ? size : 0);
                }
            });
            return st;
        });
    }

    /// Mapped buffers would expose ciphertext; only plaintext files may be mapped.
    ::rocksdb::IOStatus NewMemoryMappedFileBuffer(const std::string& fname,
                                                  std::unique_ptr<::rocksdb::MemoryMappedFileBuffer>* result) override {
        return guarded([&] {
            if (m_keys->get_file(fname).encrypted()) {
                return ::rocksdb::IOStatus::NotSupported("atrest: '" + fname +
                                                         "' is encrypted and cannot be memory-mapped as a buffer");
            }
            return target()->NewMemoryMappedFileBuffer(fname, result);
        });
    }

    // ---- sizes: RocksDB compares file sizes with those it recorded (paranoid_checks), which for
    // an authenticated data file are plaintext sizes.
    ::rocksdb::IOStatus GetFileSize(const std::string& fname, const ::rocksdb::IOOptions& options, std::uint64_t* size,
                                    ::rocksdb::IODebugContext* dbg) override {
        return guarded([&] {
            auto st = target()->GetFileSize(fname, options, size, dbg);
            if (st.ok()) *size = logical_size(m_keys->get_file(fname), *size, fname);
            return st;
        });
    }

    ::rocksdb::IOStatus GetChildrenFileAttributes(const std::string& dir, const ::rocksdb::IOOptions& options,
                                                  std::vector<::rocksdb::FileAttributes>* result,
                                                  ::rocksdb::IODebugContext* dbg) override {
        return guarded([&] {
            auto st = target()->GetChildrenFileAttributes(dir, options, result, dbg);
            if (!st.ok()) return st;
            for (auto& a : *result) {
                const std::string path = dir + "/" + a.name;
                a.size_bytes = logical_size(m_keys->get_file(path), a.size_bytes, path);
            }
            return st;
        });
    }

    // ---- removals: the file first, then its entry. A crash in between leaves a stale entry.
    ::rocksdb::IOStatus DeleteFile(const std::string& fname, const ::rocksdb::IOOptions& options,
                                   ::rocksdb::IODebugContext* dbg) override {
        return guarded([&] {
            auto st = target()->DeleteFile(fname, options, dbg);
            if (st.ok() || st.IsNotFound() || st.IsPathNotFound()) m_keys->delete_file(fname);
            return st;
        });
    }

    ::rocksdb::IOStatus DeleteDir(const std::string& dirname, const ::rocksdb::IOOptions& options,
                                  ::rocksdb::IODebugContext* dbg) override {
        return guarded([&] {
            auto st = target()->DeleteDir(dirname, options, dbg);
            if (st.ok()) m_keys->delete_file(dirname);
            return st;
        });
    }

    /// The key manager's crash-safe rename: a durable "begins" record, the rename and a fsync of
    /// the target's directory, then the "done" record (`dst` takes `src`'s entry). A kill at any
    /// point is settled at the next open by where the file is. A failed rename records "aborted"
    /// and returns RocksDB's status unchanged.
    ::rocksdb::IOStatus RenameFile(const std::string& src, const std::string& dst, const ::rocksdb::IOOptions& options,
                                   ::rocksdb::IODebugContext* dbg) override {
        return guarded([&] {
            ::rocksdb::IOStatus st;
            ::rocksdb::IOStatus synced;
            try {
                m_keys->rename_file(src, dst, [&] {
                    st = target()->RenameFile(src, dst, options, dbg);
                    if (!st.ok()) throw physical_failure{};
                    synced = sync_directory_of(dst, options, dbg);  // the rename happened either way
                });
            } catch (const physical_failure&) {
                return st;
            }
            return synced;
        });
    }

    /// Entry first, then the hard link; a failed link restores `dst`'s entry. `dst` must not
    /// exist (as for link(2)), so no entry of a live file is ever overwritten.
    ::rocksdb::IOStatus LinkFile(const std::string& src, const std::string& dst, const ::rocksdb::IOOptions& options,
                                 ::rocksdb::IODebugContext* dbg) override {
        return guarded([&] {
            auto st = target()->FileExists(dst, options, dbg);
            if (st.ok()) return ::rocksdb::IOStatus::IOError("atrest: cannot link '" + src + "' to '" + dst +
                                                             "': the target exists");
            if (!st.IsNotFound()) return st;
            try {
                m_keys->link_file(src, dst, [&] {
                    st = target()->LinkFile(src, dst, options, dbg);
                    if (!st.ok()) throw physical_failure{};
                });
            } catch (const physical_failure&) {
            }
            return st;
        });
    }

private:
    struct physical_failure {};

    /// fsync of the directory holding `path`, so a rename is durable before it is recorded done.
    [[nodiscard]] ::rocksdb::IOStatus sync_directory_of(const std::string& path, const ::rocksdb::IOOptions& options,
                                                        ::rocksdb::IODebugContext* dbg) {
        auto dir_name = std::filesystem::path(path).parent_path().string();
        if (dir_name.empty()) dir_name = ".";
        std::unique_ptr<::rocksdb::FSDirectory> dir;
        auto st = target()->NewDirectory(dir_name, options, &dir, dbg);
        if (st.ok()) st = dir->Fsync(options, dbg);
        return st;
    }

    /// Direct writes rewrite the last partial page (and write its zero padding, i.e. raw
    /// keystream), which CTR cannot allow; refused up front rather than at the first flush.
    [[nodiscard]] ::rocksdb::IOStatus refuse_direct_writes(const std::string& fname,
                                                           const ::rocksdb::FileOptions& options) const {
        if (options.use_direct_writes && m_keys->options().data_encryption_method != method::plaintext) {
            return ::rocksdb::IOStatus::NotSupported(
                "atrest: '" + fname +
                "' was opened for direct writes (use_direct_io_for_flush_and_compaction), which rewrite "
                "the last page in place and would reuse CTR keystream; disable direct writes");
        }
        return ::rocksdb::IOStatus::OK();
    }

    [[nodiscard]] static std::uint64_t logical_size(const file_info& info, std::uint64_t physical, const std::string& fname) {
        return is_authenticated(info.method) ? authenticated_logical_size(info.iv, physical, fname) : physical;
    }

    /// An authenticated file is read through the target's random access (whole segments).
    template <template <class> class Wrapper, class Base>
    [[nodiscard]] ::rocksdb::IOStatus open_authenticated_reader(const std::string& fname, const ::rocksdb::FileOptions& options,
                                                                const file_info& info, std::unique_ptr<Base>* result,
                                                                ::rocksdb::IODebugContext* dbg) {
        std::uint64_t size = 0;
        auto st = target()->GetFileSize(fname, options.io_options, &size, dbg);
        if (!st.ok()) return st;
        std::unique_ptr<::rocksdb::FSRandomAccessFile> file;
        st = target()->NewRandomAccessFile(fname, options, &file, dbg);
        if (!st.ok()) return st;
        *result = visit_method(info.method, [&]<cipher_policy C>(C) -> std::unique_ptr<Base> {
            if constexpr (authenticated_policy<C>) {
                return std::make_unique<Wrapper<C>>(std::move(file), info.key->bytes(), info.iv, fname, size);
            } else {
                throw error(errc::invalid_argument, "'" + fname + "' is not an authenticated data file");
            }
        });
        return st;
    }

    template <template <class> class Wrapper, class Base>
    [[nodiscard]] static std::unique_ptr<Base> wrap(std::unique_ptr<Base> file, const file_info& info,
                                                    const std::string& fname) {
        return visit_method(info.method, [&]<cipher_policy C>(C) -> std::unique_ptr<Base> {
            if constexpr (std::same_as<C, plaintext> || authenticated_policy<C>) {
                return std::move(file);
            } else {
                return std::make_unique<Wrapper<C>>(std::move(file), info.key->bytes(), info.iv, fname);
            }
        });
    }

    /// `file` was just opened (created, truncated or reopened) by the target. An authenticated
    /// file is then reopened as the target's random read-write file: its last segment is
    /// rewritten at every flush.
    [[nodiscard]] ::rocksdb::IOStatus wrap_writable(std::unique_ptr<::rocksdb::FSWritableFile> file, const file_info& info,
                                                    const std::string& fname, std::uint64_t size, write_mode mode,
                                                    const ::rocksdb::FileOptions& options,
                                                    std::unique_ptr<::rocksdb::FSWritableFile>* result,
                                                    ::rocksdb::IODebugContext* dbg) {
        if (is_authenticated(info.method)) {
            auto st = file->Close(options.io_options, dbg);
            file.reset();
            if (!st.ok()) return st;
            std::unique_ptr<::rocksdb::FSRandomRWFile> rw;
            st = target()->NewRandomRWFile(fname, options, &rw, dbg);
            if (!st.ok()) return st;
            *result = visit_method(info.method, [&]<cipher_policy C>(C) -> std::unique_ptr<::rocksdb::FSWritableFile> {
                if constexpr (authenticated_policy<C>) {
                    return std::make_unique<authenticated_writable_file<C>>(std::move(rw), info.key->bytes(), info.iv,
                                                                           fname, size);
                } else {
                    throw error(errc::invalid_argument, "'" + fname + "' is not an authenticated data file");
                }
            });
            return st;
        }
        *result = visit_method(info.method, [&]<cipher_policy C>(C) -> std::unique_ptr<::rocksdb::FSWritableFile> {
            if constexpr (std::same_as<C, plaintext> || authenticated_policy<C>) {
                return std::move(file);
            } else {
                return std::make_unique<encrypted_writable_file<C>>(std::move(file), info.key->bytes(), info.iv, fname,
                                                                    size, mode);
            }
        });
        return ::rocksdb::IOStatus::OK();
    }

    std::shared_ptr<KeyManager> m_keys;
};

/// The usual set-up: the default (POSIX) file system under encryption, as a shared FileSystem
/// and an Env to put in `rocksdb::Options::env` (keep both alive while the DB is open).
template <file_key_manager KeyManager>
[[nodiscard]] std::shared_ptr<encrypted_file_system<KeyManager>> make_encrypted_file_system(
    std::shared_ptr<KeyManager> keys, std::shared_ptr<::rocksdb::FileSystem> base = ::rocksdb::FileSystem::Default()) {
    return std::make_shared<encrypted_file_system<KeyManager>>(std::move(base), std::move(keys));
}

/// The same for the `std::unique_ptr` that `open_key_manager` returns: the file system takes it over.
template <file_key_manager KeyManager>
[[nodiscard]] std::shared_ptr<encrypted_file_system<KeyManager>> make_encrypted_file_system(
    std::unique_ptr<KeyManager> keys, std::shared_ptr<::rocksdb::FileSystem> base = ::rocksdb::FileSystem::Default()) {
    return make_encrypted_file_system(std::shared_ptr<KeyManager>(std::move(keys)), std::move(base));
}

[[nodiscard]] inline std::unique_ptr<::rocksdb::Env> make_env(const std::shared_ptr<::rocksdb::FileSystem>& fs) {
    return ::rocksdb::NewCompositeEnv(fs);
}

}  // namespace atrest::rocks
