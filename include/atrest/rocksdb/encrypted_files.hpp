#pragma once
/// RocksDB's per-file objects over one file's (key, IV). Each wrapper is a template over the
/// cipher policy, chosen once at open (`visit_method`), so reads and writes never branch on the
/// method and make one virtual call (RocksDB's) per call, as an unencrypted file would.
///
/// Writes reuse `encrypted_file` (its append-only keystream guard and its per-file scratch
/// buffer) over a file policy that forwards to RocksDB's own file object. Reads decrypt in
/// RocksDB's `scratch` buffer with the file's `ctr_stream`; a result that points elsewhere (mmap
/// reads) is copied into `scratch` first, since mapped pages must not be written.

#include <atrest/cipher/methods.hpp>
#include <atrest/cipher/ctr_stream.hpp>
#include <atrest/error.hpp>
#include <atrest/file/encrypted_file.hpp>
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

[[nodiscard]] inline std::span<const std::byte> bytes_of(const ::rocksdb::Slice& s) noexcept {
    return {reinterpret_cast<const std::byte*>(s.data()), s.size()};
}

/// Makes `*result` decrypted plaintext in `scratch`. Reads that land in `scratch` (the usual
/// case) decrypt where they are; a result pointing elsewhere is copied in first.
template <cipher_policy C>
[[nodiscard]] ::rocksdb::IOStatus decrypt_read(const ctr_stream<C>& stream, std::uint64_t offset,
                                               ::rocksdb::Slice* result, char* scratch, std::size_t n,
                                               const std::string& name) {
    if (result->empty()) return ::rocksdb::IOStatus::OK();
    const char* data = result->data();
    const bool in_scratch = scratch != nullptr && data >= scratch && data + result->size() <= scratch + n;
    if (!in_scratch) {
        if (scratch == nullptr || result->size() > n) {
            return ::rocksdb::IOStatus::NotSupported(
                "atrest: read of " + std::to_string(result->size()) + " bytes at offset " + std::to_string(offset) +
                " of '" + name + "' returned data outside the caller's scratch buffer, which cannot be decrypted in place");
        }
        std::memmove(scratch, data, result->size());
        *result = ::rocksdb::Slice(scratch, result->size());
    }
    auto* out = reinterpret_cast<std::byte*>(const_cast<char*>(result->data()));
    stream.apply(offset, std::span<std::byte>(out, result->size()));
    return ::rocksdb::IOStatus::OK();
}

/// Per-call state a file policy needs but `encrypted_file`'s policy interface does not carry:
/// the caller's IOOptions, and the exact IOStatus of a failed target call (so NoSpace or a
/// retryable error reaches RocksDB unchanged rather than as a generic IOError).
struct call_context {
    ::rocksdb::IOOptions defaults;
    const ::rocksdb::IOOptions* options = &defaults;
    ::rocksdb::IODebugContext* dbg = nullptr;
    ::rocksdb::IOStatus failure;
    bool positional = false;

    void bind(const ::rocksdb::IOOptions& o, ::rocksdb::IODebugContext* d, bool pos = false) noexcept {
        options = &o;
        dbg = d;
        positional = pos;
    }
    /// Records `s` and throws it as an atrest::error naming the operation and file.
    [[noreturn]] void fail(::rocksdb::IOStatus s, std::string_view op, std::size_t n, std::uint64_t offset,
                           std::string_view name) {
        failure = std::move(s);
        throw error(errc::io_error, std::string(op) + " of " + std::to_string(n) + " bytes at offset " +
                                        std::to_string(offset) + " of '" + std::string(name) +
                                        "': " + failure.ToString());
    }
    /// Runs `f`, mapping a throw to the recorded target status if there is one.
    template <class F>
    [[nodiscard]] ::rocksdb::IOStatus run(F&& f) noexcept {
        failure = ::rocksdb::IOStatus::OK();
        const ::rocksdb::IOStatus s = guarded([&] {
            std::forward<F>(f)();
            return ::rocksdb::IOStatus::OK();
        });
        options = &defaults;
        dbg = nullptr;
        return (s.ok() || failure.ok()) ? s : std::exchange(failure, ::rocksdb::IOStatus::OK());
    }
};

/// File policy over an `FSWritableFile`: RocksDB's writable files append only and cannot be
/// read, so `read_at` refuses, and `size` is the size at open (the file system's view).
class writable_target final {
public:
    writable_target(::rocksdb::FSWritableFile* file, call_context* ctx, std::string name, std::uint64_t size)
        : m_file(file), m_ctx(ctx), m_name(std::move(name)), m_size(size) {}

    [[nodiscard]] std::size_t read_at(std::uint64_t, std::span<std::byte>) const {
        throw error(errc::unsupported, "'" + m_name + "' is open for writing only");
    }
    [[nodiscard]] std::size_t write_at(std::uint64_t offset, std::span<const std::byte> data) {
        const ::rocksdb::Slice s(reinterpret_cast<const char*>(data.data()), data.size());
        const ::rocksdb::IOStatus st = m_ctx->positional
                                           ? m_file->PositionedAppend(s, offset, *m_ctx->options, m_ctx->dbg)
                                           : m_file->Append(s, *m_ctx->options, m_ctx->dbg);
        if (!st.ok()) m_ctx->fail(st, "append", data.size(), offset, m_name);
        return data.size();
    }
    void sync() {
        if (auto st = m_file->Sync(*m_ctx->options, m_ctx->dbg); !st.ok()) m_ctx->fail(st, "sync", 0, 0, m_name);
    }
    void truncate(std::uint64_t size) {
        if (auto st = m_file->Truncate(size, *m_ctx->options, m_ctx->dbg); !st.ok()) {
            m_ctx->fail(st, "truncate", 0, size, m_name);
        }
    }
    [[nodiscard]] std::uint64_t size() const noexcept { return m_size; }
    [[nodiscard]] std::string_view name() const noexcept { return m_name; }

private:
    ::rocksdb::FSWritableFile* m_file;
    call_context* m_ctx;
    std::string m_name;
    std::uint64_t m_size;
};

/// File policy over an `FSRandomRWFile`: positional reads and writes.
class random_rw_target final {
public:
    random_rw_target(::rocksdb::FSRandomRWFile* file, call_context* ctx, std::string name, std::uint64_t size)
        : m_file(file), m_ctx(ctx), m_name(std::move(name)), m_size(size) {}

    [[nodiscard]] std::size_t read_at(std::uint64_t offset, std::span<std::byte> out) const {
        ::rocksdb::Slice result;
        auto* scratch = reinterpret_cast<char*>(out.data());
        const auto st = m_file->Read(offset, out.size(), *m_ctx->options, &result, scratch, m_ctx->dbg);
        if (!st.ok()) m_ctx->fail(st, "read", out.size(), offset, m_name);
        if (result.data() != scratch) std::memmove(scratch, result.data(), result.size());
        return result.size();
    }
    [[nodiscard]] std::size_t write_at(std::uint64_t offset, std::span<const std::byte> data) {
        const ::rocksdb::Slice s(reinterpret_cast<const char*>(data.data()), data.size());
        if (auto st = m_file->Write(offset, s, *m_ctx->options, m_ctx->dbg); !st.ok()) {
            m_ctx->fail(st, "write", data.size(), offset, m_name);
        }
        return data.size();
    }
    void sync() {
        if (auto st = m_file->Sync(*m_ctx->options, m_ctx->dbg); !st.ok()) m_ctx->fail(st, "sync", 0, 0, m_name);
    }
    void truncate(std::uint64_t size) {
        throw error(errc::unsupported, "truncate of '" + m_name + "' to " + std::to_string(size) +
                                           ": RocksDB's random read-write files cannot be truncated");
    }
    [[nodiscard]] std::uint64_t size() const noexcept { return m_size; }
    [[nodiscard]] std::string_view name() const noexcept { return m_name; }

private:
    ::rocksdb::FSRandomRWFile* m_file;
    call_context* m_ctx;
    std::string m_name;
    std::uint64_t m_size;
};

}  // namespace detail

/// Sequential reads (WAL replay, MANIFEST, CURRENT, OPTIONS): tracks its own position so that
/// `Skip` keeps the keystream aligned.
template <cipher_policy C>
class encrypted_sequential_file final : public ::rocksdb::FSSequentialFileOwnerWrapper {
public:
    encrypted_sequential_file(std::unique_ptr<::rocksdb::FSSequentialFile> target, std::span<const std::byte> key,
                              std::span<const std::byte> iv, std::string name)
        : FSSequentialFileOwnerWrapper(std::move(target)), m_stream(key, iv), m_name(std::move(name)) {}

    ::rocksdb::IOStatus Read(std::size_t n, const ::rocksdb::IOOptions& options, ::rocksdb::Slice* result,
                             char* scratch, ::rocksdb::IODebugContext* dbg) override {
        auto st = target()->Read(n, options, result, scratch, dbg);
        if (!st.ok()) return st;
        st = guarded([&] { return detail::decrypt_read(m_stream, m_offset, result, scratch, n, m_name); });
        m_offset += result->size();
        return st;
    }
    ::rocksdb::IOStatus Skip(std::uint64_t n) override {
        auto st = target()->Skip(n);
        if (st.ok()) m_offset += n;
        return st;
    }
    ::rocksdb::IOStatus PositionedRead(std::uint64_t offset, std::size_t n, const ::rocksdb::IOOptions& options,
                                       ::rocksdb::Slice* result, char* scratch,
                                       ::rocksdb::IODebugContext* dbg) override {
        auto st = target()->PositionedRead(offset, n, options, result, scratch, dbg);
        if (!st.ok()) return st;
        return guarded([&] { return detail::decrypt_read(m_stream, offset, result, scratch, n, m_name); });
    }

private:
    ctr_stream<C> m_stream;
    std::string m_name;
    std::uint64_t m_offset = 0;
};

/// Random reads (SST and blob files). Every read path decrypts: `Read`, `MultiRead`, and
/// `ReadAsync`, which runs synchronously through `Read` (the wrapper's default would bypass it).
template <cipher_policy C>
class encrypted_random_access_file final : public ::rocksdb::FSRandomAccessFileOwnerWrapper {
public:
    encrypted_random_access_file(std::unique_ptr<::rocksdb::FSRandomAccessFile> target, std::span<const std::byte> key,
                                 std::span<const std::byte> iv, std::string name)
        : FSRandomAccessFileOwnerWrapper(std::move(target)), m_stream(key, iv), m_name(std::move(name)) {}

    ::rocksdb::IOStatus Read(std::uint64_t offset, std::size_t n, const ::rocksdb::IOOptions& options,
                             ::rocksdb::Slice* result, char* scratch, ::rocksdb::IODebugContext* dbg) const override {
        auto st = target()->Read(offset, n, options, result, scratch, dbg);
        if (!st.ok()) return st;
        return guarded([&] { return detail::decrypt_read(m_stream, offset, result, scratch, n, m_name); });
    }
    ::rocksdb::IOStatus MultiRead(::rocksdb::FSReadRequest* reqs, std::size_t num_reqs,
                                  const ::rocksdb::IOOptions& options, ::rocksdb::IODebugContext* dbg) override {
        auto st = target()->MultiRead(reqs, num_reqs, options, dbg);
        if (!st.ok()) return st;
        for (std::size_t i = 0; i < num_reqs; ++i) {
            auto& r = reqs[i];
            if (!r.status.ok()) continue;
            r.status = guarded([&] { return detail::decrypt_read(m_stream, r.offset, &r.result, r.scratch, r.len, m_name); });
        }
        return st;
    }
    ::rocksdb::IOStatus ReadAsync(::rocksdb::FSReadRequest& req, const ::rocksdb::IOOptions& options,
                                  std::function<void(const ::rocksdb::FSReadRequest&, void*)> cb, void* cb_arg,
                                  void** io_handle, ::rocksdb::IOHandleDeleter* del_fn,
                                  ::rocksdb::IODebugContext* dbg) override {
        return FSRandomAccessFile::ReadAsync(req, options, std::move(cb), cb_arg, io_handle, del_fn, dbg);
    }

private:
    ctr_stream<C> m_stream;
    std::string m_name;
};

/// Appends (SST, WAL, MANIFEST, OPTIONS, temp files) through `encrypted_file`: its guard turns a
/// write below the end into `keystream_reuse` (IOStatus NotSupported), and its scratch buffer is
/// allocated once per file. Checksum hand-off (`DataVerificationInfo`) covers the plaintext, so
/// it is not passed to the target, which receives ciphertext.
template <cipher_policy C>
class encrypted_writable_file final : public ::rocksdb::FSWritableFileOwnerWrapper {
public:
    encrypted_writable_file(std::unique_ptr<::rocksdb::FSWritableFile> target, std::span<const std::byte> key,
                            std::span<const std::byte> iv, std::string name, std::uint64_t size, write_mode mode)
        : FSWritableFileOwnerWrapper(std::move(target)),
          m_file(detail::writable_target(this->target(), &m_ctx, std::move(name), size), key, iv, mode) {}

    ::rocksdb::IOStatus Append(const ::rocksdb::Slice& data, const ::rocksdb::IOOptions& options,
                               ::rocksdb::IODebugContext* dbg) override {
        m_ctx.bind(options, dbg);
        return m_ctx.run([&] { m_file.append(detail::bytes_of(data)); });
    }
    ::rocksdb::IOStatus Append(const ::rocksdb::Slice& data, const ::rocksdb::IOOptions& options,
                               const ::rocksdb::DataVerificationInfo&, ::rocksdb::IODebugContext* dbg) override {
        return Append(data, options, dbg);
    }
    ::rocksdb::IOStatus PositionedAppend(const ::rocksdb::Slice& data, std::uint64_t offset,
                                         const ::rocksdb::IOOptions& options, ::rocksdb::IODebugContext* dbg) override {
        m_ctx.bind(options, dbg, true);
        return m_ctx.run([&] { m_file.write_at(offset, detail::bytes_of(data)); });
    }
    ::rocksdb::IOStatus PositionedAppend(const ::rocksdb::Slice& data, std::uint64_t offset,
                                         const ::rocksdb::IOOptions& options, const ::rocksdb::DataVerificationInfo&,
                                         ::rocksdb::IODebugContext* dbg) override {
        return PositionedAppend(data, offset, options, dbg);
    }
    ::rocksdb::IOStatus Truncate(std::uint64_t size, const ::rocksdb::IOOptions& options,
                                 ::rocksdb::IODebugContext* dbg) override {
        m_ctx.bind(options, dbg);
        return m_ctx.run([&] { m_file.truncate(size); });
    }
    std::uint64_t GetFileSize(const ::rocksdb::IOOptions&, ::rocksdb::IODebugContext*) override { return m_file.size(); }

private:
    detail::call_context m_ctx;
    encrypted_file<C, detail::writable_target> m_file;
};

/// Random read-write files (RocksDB uses them to patch an ingested SST's global sequence number
/// in place). Reads decrypt; writes may only append, because overwriting bytes under the same
/// (key, IV) leaks their XOR: an overwrite is IOStatus NotSupported (keystream reuse).
template <cipher_policy C>
class encrypted_random_rw_file final : public ::rocksdb::FSRandomRWFileOwnerWrapper {
public:
    encrypted_random_rw_file(std::unique_ptr<::rocksdb::FSRandomRWFile> target, std::span<const std::byte> key,
                             std::span<const std::byte> iv, std::string name, std::uint64_t size)
        : FSRandomRWFileOwnerWrapper(std::move(target)),
          m_file(detail::random_rw_target(this->target(), &m_ctx, name, size), key, iv),
          m_name(std::move(name)) {}

    ::rocksdb::IOStatus Write(std::uint64_t offset, const ::rocksdb::Slice& data, const ::rocksdb::IOOptions& options,
                              ::rocksdb::IODebugContext* dbg) override {
        m_ctx.bind(options, dbg);
        return m_ctx.run([&] { m_file.write_at(offset, detail::bytes_of(data)); });
    }
    ::rocksdb::IOStatus Read(std::uint64_t offset, std::size_t n, const ::rocksdb::IOOptions& options,
                             ::rocksdb::Slice* result, char* scratch, ::rocksdb::IODebugContext* dbg) const override {
        auto st = target()->Read(offset, n, options, result, scratch, dbg);
        if (!st.ok()) return st;
        return guarded([&] { return detail::decrypt_read(m_file.stream(), offset, result, scratch, n, m_name); });
    }

private:
    detail::call_context m_ctx;
    encrypted_file<C, detail::random_rw_target> m_file;
    std::string m_name;
};

}  // namespace atrest::rocks
