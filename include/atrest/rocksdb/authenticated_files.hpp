#pragma once
/// RocksDB's per-file objects for files of an authenticated method (aes256-gcm-stream,
/// aes128-gcm-stream): each holds an `authenticated_file` over RocksDB's own file object. Sizes
/// RocksDB sees are plaintext sizes (`GetFileSize` here and in the file system). A segment that
/// does not authenticate is `IOStatus::Corruption` naming the file and the offset, never data.
///
/// Writes need to rewrite the last segment at every flush, which RocksDB's append-only
/// `FSWritableFile` cannot; the file system opens the target as an `FSRandomRWFile` (positional
/// writes) for these files instead. Reads go through the target's `FSRandomAccessFile`, for
/// sequential reads (WAL, MANIFEST) too, since a read decrypts whole segments.

#include <atrest/error.hpp>
#include <atrest/file/authenticated_file.hpp>
#include <atrest/rocksdb/encrypted_files.hpp>
#include <atrest/rocksdb/io_status.hpp>

#include <rocksdb/file_system.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>

namespace atrest::rocks {

namespace detail {

/// File policy over a (const, thread-safe) `FSRandomAccessFile`; `size` is the size at open.
class random_access_target final {
public:
    random_access_target(const ::rocksdb::FSRandomAccessFile* file, std::string name, std::uint64_t size)
        : m_file(file), m_name(std::move(name)), m_size(size) {}

    [[nodiscard]] std::size_t read_at(std::uint64_t offset, std::span<std::byte> out) const {
        ::rocksdb::Slice result;
        auto* scratch = reinterpret_cast<char*>(out.data());
        const auto st = m_file->Read(offset, out.size(), ::rocksdb::IOOptions(), &result, scratch, nullptr);
        if (!st.ok()) {
            throw error(errc::io_error, "read of " + std::to_string(out.size()) + " bytes at offset " +
                                            std::to_string(offset) + " of '" + m_name + "': " + st.ToString());
        }
        if (result.size() > out.size()) {
            throw error(errc::io_error, "read at offset " + std::to_string(offset) + " of '" + m_name +
                                            "' returned more bytes than asked");
        }
        if (result.data() != scratch && !result.empty()) std::memmove(scratch, result.data(), result.size());
        return result.size();
    }
    [[nodiscard]] std::uint64_t size() const noexcept { return m_size; }
    [[nodiscard]] std::string_view name() const noexcept { return m_name; }

private:
    const ::rocksdb::FSRandomAccessFile* m_file;
    std::string m_name;
    std::uint64_t m_size;
};

}  // namespace detail

/// Random reads (SST and blob files): each read authenticates and decrypts the segments it
/// touches into RocksDB's `scratch`.
template <authenticated_policy C>
class authenticated_random_access_file final : public ::rocksdb::FSRandomAccessFile {
public:
    authenticated_random_access_file(std::unique_ptr<::rocksdb::FSRandomAccessFile> target, std::span<const std::byte> key,
                                     std::span<const std::byte> iv, std::string name, std::uint64_t physical_size)
        : m_target(std::move(target)),
          m_file(detail::random_access_target(m_target.get(), std::move(name), physical_size), key, iv) {}

    ::rocksdb::IOStatus Read(std::uint64_t offset, std::size_t n, const ::rocksdb::IOOptions&, ::rocksdb::Slice* result,
                             char* scratch, ::rocksdb::IODebugContext*) const override {
        return guarded([&] {
            if (scratch == nullptr && n != 0) return ::rocksdb::IOStatus::NotSupported("atrest: read without a buffer");
            const std::size_t got = m_file.read_at(offset, std::span(reinterpret_cast<std::byte*>(scratch), n));
            *result = ::rocksdb::Slice(scratch, got);
            return ::rocksdb::IOStatus::OK();
        });
    }
    ::rocksdb::IOStatus MultiRead(::rocksdb::FSReadRequest* reqs, std::size_t num_reqs, const ::rocksdb::IOOptions& options,
                                  ::rocksdb::IODebugContext* dbg) override {
        for (std::size_t i = 0; i < num_reqs; ++i) {
            auto& r = reqs[i];
            r.status = Read(r.offset, r.len, options, &r.result, r.scratch, dbg);
        }
        return ::rocksdb::IOStatus::OK();
    }
    ::rocksdb::IOStatus Prefetch(std::uint64_t, std::size_t, const ::rocksdb::IOOptions&, ::rocksdb::IODebugContext*) override {
        return ::rocksdb::IOStatus::OK();  // nothing to do ahead: reads decrypt what they touch
    }

private:
    std::unique_ptr<::rocksdb::FSRandomAccessFile> m_target;
    authenticated_file<C, detail::random_access_target> m_file;
};

/// Sequential reads (WAL replay, MANIFEST, CURRENT, OPTIONS) over the target's random access.
template <authenticated_policy C>
class authenticated_sequential_file final : public ::rocksdb::FSSequentialFile {
public:
    authenticated_sequential_file(std::unique_ptr<::rocksdb::FSRandomAccessFile> target, std::span<const std::byte> key,
                                  std::span<const std::byte> iv, std::string name, std::uint64_t physical_size)
        : m_target(std::move(target)),
          m_file(detail::random_access_target(m_target.get(), std::move(name), physical_size), key, iv) {}

    ::rocksdb::IOStatus Read(std::size_t n, const ::rocksdb::IOOptions&, ::rocksdb::Slice* result, char* scratch,
                             ::rocksdb::IODebugContext*) override {
        return guarded([&] {
            const std::size_t got = m_file.read_at(m_offset, std::span(reinterpret_cast<std::byte*>(scratch), n));
            *result = ::rocksdb::Slice(scratch, got);
            m_offset += got;
            return ::rocksdb::IOStatus::OK();
        });
    }
    ::rocksdb::IOStatus Skip(std::uint64_t n) override {
        m_offset = std::min(m_offset + n, m_file.size());
        return ::rocksdb::IOStatus::OK();
    }
    ::rocksdb::IOStatus PositionedRead(std::uint64_t offset, std::size_t n, const ::rocksdb::IOOptions&,
                                       ::rocksdb::Slice* result, char* scratch, ::rocksdb::IODebugContext*) override {
        return guarded([&] {
            *result = ::rocksdb::Slice(scratch, m_file.read_at(offset, std::span(reinterpret_cast<std::byte*>(scratch), n)));
            return ::rocksdb::IOStatus::OK();
        });
    }

private:
    std::unique_ptr<::rocksdb::FSRandomAccessFile> m_target;
    authenticated_file<C, detail::random_access_target> m_file;
    std::uint64_t m_offset = 0;
};

/// Appends (SST, WAL, MANIFEST, OPTIONS): `Flush` seals the last segment (RocksDB flushes its
/// WAL after every write group, so a process crash keeps what RocksDB acknowledged), `Sync` and
/// `Fsync` flush and fsync, `Close` flushes.
template <authenticated_policy C>
class authenticated_writable_file final : public ::rocksdb::FSWritableFile {
public:
    authenticated_writable_file(std::unique_ptr<::rocksdb::FSRandomRWFile> target, std::span<const std::byte> key,
                                std::span<const std::byte> iv, std::string name, std::uint64_t physical_size)
        : m_target(std::move(target)),
          m_file(detail::random_rw_target(m_target.get(), &m_ctx, std::move(name), physical_size), key, iv) {}

    using ::rocksdb::FSWritableFile::Append;
    ::rocksdb::IOStatus Append(const ::rocksdb::Slice& data, const ::rocksdb::IOOptions& options,
                               ::rocksdb::IODebugContext* dbg) override {
        m_ctx.bind(options, dbg);
        return m_ctx.run([&] { m_file.append(detail::bytes_of(data)); });
    }
    ::rocksdb::IOStatus Append(const ::rocksdb::Slice& data, const ::rocksdb::IOOptions& options,
                               const ::rocksdb::DataVerificationInfo&, ::rocksdb::IODebugContext* dbg) override {
        return Append(data, options, dbg);
    }
    ::rocksdb::IOStatus Flush(const ::rocksdb::IOOptions& options, ::rocksdb::IODebugContext* dbg) override {
        m_ctx.bind(options, dbg);
        return m_ctx.run([&] { m_file.flush(); });
    }
    ::rocksdb::IOStatus Sync(const ::rocksdb::IOOptions& options, ::rocksdb::IODebugContext* dbg) override {
        m_ctx.bind(options, dbg);
        return m_ctx.run([&] { m_file.sync(); });
    }
    ::rocksdb::IOStatus Fsync(const ::rocksdb::IOOptions& options, ::rocksdb::IODebugContext* dbg) override {
        m_ctx.bind(options, dbg);
        return m_ctx.run([&] {
            m_file.flush();
            if (auto st = m_target->Fsync(options, dbg); !st.ok()) m_ctx.fail(st, "fsync", 0, 0, m_file.file().name());
        });
    }
    ::rocksdb::IOStatus Close(const ::rocksdb::IOOptions& options, ::rocksdb::IODebugContext* dbg) override {
        m_ctx.bind(options, dbg);
        auto st = m_ctx.run([&] { m_file.flush(); });
        auto closed = m_target->Close(options, dbg);
        return st.ok() ? closed : st;
    }
    /// RocksDB cuts preallocated space at close: a truncate to the plaintext size is that (the
    /// file is cut to its physical end); any other size cannot be cut from a sealed file.
    ::rocksdb::IOStatus Truncate(std::uint64_t size, const ::rocksdb::IOOptions& options,
                                 ::rocksdb::IODebugContext* dbg) override {
        m_ctx.bind(options, dbg);
        return m_ctx.run([&] {
            if (size != m_file.size()) {
                throw error(errc::unsupported, "truncate of '" + std::string(m_file.file().name()) + "' to " +
                                                   std::to_string(size) + " bytes: an authenticated data file of " +
                                                   std::to_string(m_file.size()) + " bytes cannot be cut");
            }
            m_file.flush();
        });
    }
    std::uint64_t GetFileSize(const ::rocksdb::IOOptions&, ::rocksdb::IODebugContext*) override { return m_file.size(); }
    bool IsSyncThreadSafe() const override { return false; }

private:
    std::unique_ptr<::rocksdb::FSRandomRWFile> m_target;
    detail::call_context m_ctx;
    authenticated_file<C, detail::random_rw_target> m_file;
};

}  // namespace atrest::rocks
