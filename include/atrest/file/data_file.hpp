#pragma once
/// `atrest::data_file`: one open data file, whatever its method, owned — the object an engine
/// that is not RocksDB keeps in its own tables. `key_manager::create` and `key_manager::open`
/// hand it out. The method is dispatched once, at open; after that each call costs one indirect
/// call into code compiled for that cipher (`encrypted_file<C, posix_file>`), and none per block.
/// Experts who want no indirect call at all use `open_encrypted` and `encrypted_file` directly.

#include <atrest/cipher/methods.hpp>
#include <atrest/dict/file_info.hpp>
#include <atrest/file/authenticated_file.hpp>
#include <atrest/file/encrypted_file.hpp>
#include <atrest/file/posix_file.hpp>

#include <gsl/assert>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <utility>

namespace atrest {

/// What an open `data_file` may do.
enum class access : std::uint8_t {
    read,    ///< reads only; the file is opened O_RDONLY
    append,  ///< reads, and appends at the end (the keystream continues where the file ends)
};

class data_file final {
public:
    /// Opens `file` as `info` says. Prefer `key_manager::create` / `key_manager::open`, which take
    /// a path and keep the dictionary and the file system in step.
    data_file(const file_info& info, posix_file file, access mode)
        : m_impl(make(info, std::move(file))), m_access(mode), m_method(info.method) {}

    data_file(data_file&&) noexcept = default;
    data_file& operator=(data_file&&) noexcept = default;
    data_file(const data_file&) = delete;
    data_file& operator=(const data_file&) = delete;
    ~data_file() = default;

    /// Reads and decrypts the bytes at `offset` into `out`; returns fewer than `out.size()` only at
    /// the end of the file. Thread-safe with other reads.
    [[nodiscard]] std::size_t read(std::uint64_t offset, std::span<std::byte> out) const {
        Expects(m_impl);  // not moved from
        return m_impl->read(offset, out);
    }
    /// The same into characters (a `std::string` or `std::vector<char>` buffer).
    [[nodiscard]] std::size_t read(std::uint64_t offset, std::span<char> out) const {
        return read(offset, std::as_writable_bytes(out));
    }

    /// Encrypts `data` and writes it at the end. On failure `size()` says what reached the file.
    void append(std::span<const std::byte> data) {
        require_append("append");
        Expects(m_impl);  // not moved from
        m_impl->append(data);
    }
    /// The same from characters: a `std::string`, `std::string_view` or `std::vector<char>`.
    void append(std::span<const char> data) { append(std::as_bytes(data)); }
    /// A string literal would be written with its terminating NUL: pass `std::string_view("…")`.
    template <std::size_t N>
    void append(const char (&)[N]) = delete;

    /// Zero-copy append: encrypts `data` where it lies (it holds ciphertext on return, and the
    /// plaintext again if this throws).
    void append_in_place(std::span<std::byte> data) {
        require_append("append_in_place");
        Expects(m_impl);  // not moved from
        m_impl->append_in_place(data);
    }

    /// Everything appended so far reaches the file (the OS's page cache): a no-op for CTR methods,
    /// which write at once; an authenticated method seals its last segment here (docs/aead.md).
    void flush() {
        require_append("flush");
        Expects(m_impl);  // not moved from
        m_impl->flush();
    }

    /// fsync: everything appended so far is durable when this returns (after a `flush`).
    void sync() {
        require_append("sync");
        Expects(m_impl);  // not moved from
        m_impl->sync();
    }

    /// The size: at open, plus every byte appended through this object. For an authenticated
    /// method this is the plaintext size; the file on disk is longer (`physical_size`).
    [[nodiscard]] std::uint64_t size() const {
        Expects(m_impl);
        return m_impl->size();
    }
    /// Bytes on disk once flushed: `size()` for CTR methods and plaintext.
    [[nodiscard]] std::uint64_t physical_size() const {
        Expects(m_impl);
        return m_impl->physical_size();
    }
    [[nodiscard]] atrest::method method() const noexcept { return m_method; }
    [[nodiscard]] const std::filesystem::path& path() const noexcept { return m_impl->path(); }

private:
    struct base {
        virtual ~base() = default;
        virtual std::size_t read(std::uint64_t offset, std::span<std::byte> out) const = 0;
        virtual void append(std::span<const std::byte> data) = 0;
        virtual void append_in_place(std::span<std::byte> data) = 0;
        virtual void flush() = 0;
        virtual void sync() = 0;
        [[nodiscard]] virtual std::uint64_t size() const = 0;
        [[nodiscard]] virtual std::uint64_t physical_size() const = 0;
        [[nodiscard]] virtual const std::filesystem::path& path() const noexcept = 0;
    };

    template <class Opened>
    struct model final : base {
        model(posix_file file, std::span<const std::byte> key, std::span<const std::byte> iv)
            : f(std::move(file), key, iv, write_mode::append) {}
        std::size_t read(std::uint64_t offset, std::span<std::byte> out) const override { return f.read_at(offset, out); }
        void append(std::span<const std::byte> data) override { f.append(data); }
        void append_in_place(std::span<std::byte> data) override { f.append_in_place(data); }
        void flush() override {
            if constexpr (requires { f.flush(); }) f.flush();
        }
        void sync() override { f.sync(); }
        [[nodiscard]] std::uint64_t size() const override { return f.size(); }
        [[nodiscard]] std::uint64_t physical_size() const override {
            if constexpr (requires { f.physical_size(); }) {
                return f.physical_size();
            } else {
                return f.size();
            }
        }
        [[nodiscard]] const std::filesystem::path& path() const noexcept override { return f.file().path(); }
        Opened f;
    };

    [[nodiscard]] static std::unique_ptr<base> make(const file_info& info, posix_file file) {
        return visit_method(info.method, [&]<cipher_policy C>(C) -> std::unique_ptr<base> {
            if constexpr (authenticated_policy<C>) {
                return std::make_unique<model<authenticated_file<C, posix_file>>>(std::move(file), info.key_bytes(),
                                                                                 info.iv_bytes());
            } else {
                return std::make_unique<model<encrypted_file<C, posix_file>>>(std::move(file), info.key_bytes(),
                                                                             info.iv_bytes());
            }
        });
    }

    void require_append(const char* operation) const {
        if (m_access != access::append) {
            throw error(errc::invalid_argument, std::string(operation) + " on '" + path().string() +
                                                    "', which was opened for reading only");
        }
    }

    std::unique_ptr<base> m_impl;
    access m_access;
    atrest::method m_method;
};

}  // namespace atrest
