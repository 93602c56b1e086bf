#pragma once
/// `atrest::rocks::encrypted_file_system`: a RocksDB `FileSystem` that encrypts every file
/// RocksDB writes (SST, WAL, MANIFEST, CURRENT, OPTIONS, IDENTITY, temp files) with the key
/// manager's current data key and a fresh IV per file, TiKV-style: no header, sizes unchanged,
/// files unknown to the dictionary read as plaintext (so an existing plaintext DB migrates as
/// it compacts). The info LOG goes through `NewLogger`, which is passed through unencrypted:
/// it holds no user data (see docs/rocksdb.md).
///
/// Crash safety: every operation orders its file step and its dictionary step so that a crash
/// between them leaves at worst an extra dictionary entry, never a file whose entry is gone
/// (the order of each call is documented on it and in docs/rocksdb.md).

#include <atrest/cipher/dispatch.hpp>
#include <atrest/file/encrypted_file.hpp>
#include <atrest/rocksdb/encrypted_files.hpp>
#include <atrest/rocksdb/file_key_manager.hpp>
#include <atrest/rocksdb/io_status.hpp>

#include <rocksdb/env.h>
#include <rocksdb/file_system.h>

#include <concepts>
#include <filesystem>
#include <memory>
#include <string>
#include <utility>

namespace atrest::rocks {

template <file_key_manager KeyManager>
class encrypted_file_system final : public ::rocksdb::FileSystemWrapper {
public:
    /// `keys` is shared: RocksDB may keep the file system alive after the caller's last use.
    encrypted_file_system(std::shared_ptr<::rocksdb::FileSystem> base, std::shared_ptr<KeyManager> keys)
        : FileSystemWrapper(std::move(base)), m_keys(std::move(keys)), m_root(normal(m_keys->data_dir())) {}

    static const char* kClassName() { return "AtrestEncryptedFileSystem"; }
    const char* Name() const override { return kClassName(); }

    /// The dictionary name of a RocksDB path: relative to the key manager's directory when the
    /// file lies under it (so that directory can be moved or restored as a unit), else absolute.
    [[nodiscard]] std::string dictionary_path(const std::string& fname) const {
        const std::filesystem::path p = normal(fname);
        const std::filesystem::path rel = p.lexically_relative(m_root);
        if (!rel.empty() && *rel.begin() != ".." && rel != ".") return rel.generic_string();
        return p.generic_string();
    }

    [[nodiscard]] KeyManager& key_manager() const noexcept { return *m_keys; }

    // ---- reads: the file's entry decides; no entry means plaintext.
    ::rocksdb::IOStatus NewSequentialFile(const std::string& fname, const ::rocksdb::FileOptions& options,
                                          std::unique_ptr<::rocksdb::FSSequentialFile>* result,
                                          ::rocksdb::IODebugContext* dbg) override {
        return guarded([&] {
            const file_info info = m_keys->get_file(dictionary_path(fname));
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
            const file_info info = m_keys->get_file(dictionary_path(fname));
            std::unique_ptr<::rocksdb::FSRandomAccessFile> file;
            auto st = target()->NewRandomAccessFile(fname, options, &file, dbg);
            if (st.ok()) *result = wrap<encrypted_random_access_file>(std::move(file), info, fname);
            return st;
        });
    }

    // ---- creates: the entry (fresh IV, durable) first, then the file. A crash in between
    // leaves an entry for a file that does not exist, which the next create replaces.
    ::rocksdb::IOStatus NewWritableFile(const std::string& fname, const ::rocksdb::FileOptions& options,
                                        std::unique_ptr<::rocksdb::FSWritableFile>* result,
                                        ::rocksdb::IODebugContext* dbg) override {
        return guarded([&] {
            if (auto st = refuse_direct_writes(fname, options); !st.ok()) return st;
            const file_info info = m_keys->new_file(dictionary_path(fname));
            std::unique_ptr<::rocksdb::FSWritableFile> file;
            auto st = target()->NewWritableFile(fname, options, &file, dbg);
            if (st.ok()) *result = wrap_writable(std::move(file), info, fname, 0, write_mode::append);
            return st;
        });
    }

    /// Appends to an existing file under its existing entry; a missing file is a create.
    ::rocksdb::IOStatus ReopenWritableFile(const std::string& fname, const ::rocksdb::FileOptions& options,
                                           std::unique_ptr<::rocksdb::FSWritableFile>* result,
                                           ::rocksdb::IODebugContext* dbg) override {
        return guarded([&] {
            if (auto st = refuse_direct_writes(fname, options); !st.ok()) return st;
            const std::string key = dictionary_path(fname);
            std::uint64_t size = 0;
            auto st = target()->GetFileSize(fname, options.io_options, &size, dbg);
            if (!st.ok() && !st.IsNotFound() && !st.IsPathNotFound()) return st;
            const bool exists = st.ok();
            const file_info info = exists ? m_keys->get_file(key) : m_keys->new_file(key);
            std::unique_ptr<::rocksdb::FSWritableFile> file;
            st = target()->ReopenWritableFile(fname, options, &file, dbg);
            if (st.ok()) *result = wrap_writable(std::move(file), info, fname, exists ? size : 0, write_mode::append);
            return st;
        });
    }

    /// WAL recycling: `fname` gets a FRESH IV before the old file is renamed to it (reusing the
    /// old IV would XOR new records with old ones), the recycled bytes are truncated away, and
    /// only then is `old_fname`'s entry dropped.
    ::rocksdb::IOStatus ReuseWritableFile(const std::string& fname, const std::string& old_fname,
                                          const ::rocksdb::FileOptions& options,
                                          std::unique_ptr<::rocksdb::FSWritableFile>* result,
                                          ::rocksdb::IODebugContext* dbg) override {
        return guarded([&] {
            if (auto st = refuse_direct_writes(fname, options); !st.ok()) return st;
            const file_info info = m_keys->new_file(dictionary_path(fname));
            std::unique_ptr<::rocksdb::FSWritableFile> file;
            auto st = target()->ReuseWritableFile(fname, old_fname, options, &file, dbg);
            if (!st.ok()) return st;
            *result = wrap_writable(std::move(file), info, fname, 0, write_mode::rewrite);
            m_keys->delete_file(dictionary_path(old_fname));
            return st;
        });
    }

    /// Existing files keep their entry (writes may only append); a new file gets one first.
    ::rocksdb::IOStatus NewRandomRWFile(const std::string& fname, const ::rocksdb::FileOptions& options,
                                        std::unique_ptr<::rocksdb::FSRandomRWFile>* result,
                                        ::rocksdb::IODebugContext* dbg) override {
        return guarded([&] {
            const std::string key = dictionary_path(fname);
            std::uint64_t size = 0;
            auto st = target()->GetFileSize(fname, options.io_options, &size, dbg);
            if (!st.ok() && !st.IsNotFound() && !st.IsPathNotFound()) return st;
            const file_info info = st.ok() ? m_keys->get_file(key) : m_keys->new_file(key);
            std::unique_ptr<::rocksdb::FSRandomRWFile> file;
            st = target()->NewRandomRWFile(fname, options, &file, dbg);
            if (!st.ok()) return st;
            *result = visit_method(info.method, [&]<cipher_policy C>(C) -> std::unique_ptr<::rocksdb::FSRandomRWFile> {
                if constexpr (std::same_as<C, plaintext>) {
                    return std::move(file);
                } else {
                    return std::make_unique<encrypted_random_rw_file<C>>(std::move(file), info.key->bytes(), info.iv,
                                                                         fname, size);
                }
            });
            return st;
        });
    }

    /// Mapped buffers would expose ciphertext; only plaintext files may be mapped.
    ::rocksdb::IOStatus NewMemoryMappedFileBuffer(const std::string& fname,
                                                  std::unique_ptr<::rocksdb::MemoryMappedFileBuffer>* result) override {
        return guarded([&] {
            if (m_keys->get_file(dictionary_path(fname)).encrypted()) {
                return ::rocksdb::IOStatus::NotSupported("atrest: '" + fname +
                                                         "' is encrypted and cannot be memory-mapped as a buffer");
            }
            return target()->NewMemoryMappedFileBuffer(fname, result);
        });
    }

    // ---- removals: the file first, then its entry. A crash in between leaves a stale entry.
    ::rocksdb::IOStatus DeleteFile(const std::string& fname, const ::rocksdb::IOOptions& options,
                                   ::rocksdb::IODebugContext* dbg) override {
        return guarded([&] {
            auto st = target()->DeleteFile(fname, options, dbg);
            if (st.ok() || st.IsNotFound() || st.IsPathNotFound()) m_keys->delete_file(dictionary_path(fname));
            return st;
        });
    }

    ::rocksdb::IOStatus DeleteDir(const std::string& dirname, const ::rocksdb::IOOptions& options,
                                  ::rocksdb::IODebugContext* dbg) override {
        return guarded([&] {
            auto st = target()->DeleteDir(dirname, options, dbg);
            if (st.ok()) m_keys->delete_file(dictionary_path(dirname));
            return st;
        });
    }

    /// Link `target`'s entry, rename, drop `src`'s entry (the key manager's `rename_file`); a
    /// failed rename restores `target`'s previous entry and returns RocksDB's status unchanged.
    ::rocksdb::IOStatus RenameFile(const std::string& src, const std::string& dst, const ::rocksdb::IOOptions& options,
                                   ::rocksdb::IODebugContext* dbg) override {
        return guarded([&] {
            ::rocksdb::IOStatus st;
            try {
                m_keys->rename_file(dictionary_path(src), dictionary_path(dst), [&] {
                    st = target()->RenameFile(src, dst, options, dbg);
                    if (!st.ok()) throw physical_failure{};
                });
            } catch (const physical_failure&) {
            }
            return st;
        });
    }

    /// Entry first, then the hard link; a failed link drops the new entry again. `dst` must not
    /// exist (as for link(2)), so no entry of a live file is ever overwritten.
    ::rocksdb::IOStatus LinkFile(const std::string& src, const std::string& dst, const ::rocksdb::IOOptions& options,
                                 ::rocksdb::IODebugContext* dbg) override {
        return guarded([&] {
            auto st = target()->FileExists(dst, options, dbg);
            if (st.ok()) return ::rocksdb::IOStatus::IOError("atrest: cannot link '" + src + "' to '" + dst +
                                                             "': the target exists");
            if (!st.IsNotFound()) return st;
            const std::string dst_key = dictionary_path(dst);
            m_keys->link_file(dictionary_path(src), dst_key);
            st = target()->LinkFile(src, dst, options, dbg);
            if (!st.ok()) m_keys->delete_file(dst_key);
            return st;
        });
    }

private:
    struct physical_failure {};

    [[nodiscard]] static std::filesystem::path normal(const std::filesystem::path& p) {
        std::filesystem::path out = std::filesystem::absolute(p).lexically_normal();
        if (!out.has_filename() && out.has_parent_path() && out != out.root_path()) out = out.parent_path();
        return out;
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

    template <template <class> class Wrapper, class Base>
    [[nodiscard]] static std::unique_ptr<Base> wrap(std::unique_ptr<Base> file, const file_info& info,
                                                    const std::string& fname) {
        return visit_method(info.method, [&]<cipher_policy C>(C) -> std::unique_ptr<Base> {
            if constexpr (std::same_as<C, plaintext>) {
                return std::move(file);
            } else {
                return std::make_unique<Wrapper<C>>(std::move(file), info.key->bytes(), info.iv, fname);
            }
        });
    }

    [[nodiscard]] static std::unique_ptr<::rocksdb::FSWritableFile> wrap_writable(
        std::unique_ptr<::rocksdb::FSWritableFile> file, const file_info& info, const std::string& fname,
        std::uint64_t size, write_mode mode) {
        return visit_method(info.method, [&]<cipher_policy C>(C) -> std::unique_ptr<::rocksdb::FSWritableFile> {
            if constexpr (std::same_as<C, plaintext>) {
                return std::move(file);
            } else {
                return std::make_unique<encrypted_writable_file<C>>(std::move(file), info.key->bytes(), info.iv, fname,
                                                                    size, mode);
            }
        });
    }

    std::shared_ptr<KeyManager> m_keys;
    std::filesystem::path m_root;
};

/// The usual set-up: the default (POSIX) file system under encryption, as a shared FileSystem
/// and an Env to put in `rocksdb::Options::env` (keep both alive while the DB is open).
template <file_key_manager KeyManager>
[[nodiscard]] std::shared_ptr<encrypted_file_system<KeyManager>> make_encrypted_file_system(
    std::shared_ptr<KeyManager> keys, std::shared_ptr<::rocksdb::FileSystem> base = ::rocksdb::FileSystem::Default()) {
    return std::make_shared<encrypted_file_system<KeyManager>>(std::move(base), std::move(keys));
}

[[nodiscard]] inline std::unique_ptr<::rocksdb::Env> make_env(const std::shared_ptr<::rocksdb::FileSystem>& fs) {
    return ::rocksdb::NewCompositeEnv(fs);
}

}  // namespace atrest::rocks
