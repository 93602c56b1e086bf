#pragma once
/// A data file encrypted with CTR at its own (key, IV): byte o on disk is plaintext byte o XOR
/// keystream byte o, so the file is exactly as long as its plaintext and any byte range can be
/// read or appended on its own. Compile-time wrapper over a file policy: no virtual call, and no
/// allocation per call (reads decrypt in the caller's buffer; appends encrypt through one scratch
/// buffer per object, or in the caller's buffer with `append_in_place`).
///
/// The keystream-reuse rule (docs/encrypted-file.md): CTR leaks the XOR of two plaintexts written
/// at the same (key, IV, offset), so a file is append-only. Writing below the high-water mark is
/// `errc::keystream_reuse`; a file that must be rewritten or recycled is opened with
/// `write_mode::rewrite` and a FRESH IV, which starts a new keystream and truncates the file.

#include <atrest/cipher/methods.hpp>
#include <atrest/cipher/ctr_stream.hpp>
#include <atrest/error.hpp>
#include <atrest/file/concepts.hpp>
#include <atrest/file/posix_file.hpp>

#include <algorithm>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <memory>
#include <span>
#include <string>
#include <utility>

namespace atrest {

/// How an `encrypted_file` treats bytes already in the file when it is opened.
enum class write_mode {
    /// Keep them; writes continue at the end (the on-disk size at open).
    append,
    /// The caller gives a FRESH IV (a new dictionary entry): the file is truncated to 0 and
    /// starts a new keystream. Required for rewritten and recycled files (WAL recycling,
    /// RocksDB ReuseWritableFile); reusing the old IV here would leak the old data.
    rewrite,
};

namespace detail {

[[noreturn]] inline void throw_keystream_reuse(std::string_view file, std::uint64_t offset, std::uint64_t from,
                                               std::uint64_t to) {
    throw error(errc::keystream_reuse, "write at offset " + std::to_string(offset) + " of '" + std::string(file) +
                                           "' refused: it would reuse the keystream of bytes [" + std::to_string(from) +
                                           ", " + std::to_string(to) +
                                           "), already written under this key and IV; reopen with "
                                           "write_mode::rewrite and a fresh IV");
}

[[noreturn]] inline void throw_hole(std::string_view file, std::uint64_t offset, std::uint64_t end) {
    throw error(errc::invalid_argument, "write at offset " + std::to_string(offset) + " of '" + std::string(file) +
                                            "' would leave a hole after its end at " + std::to_string(end) +
                                            "; encrypted files are written by appending");
}

/// A file policy that reports a count it cannot have done (0 written, or more than asked).
[[noreturn]] inline void throw_bad_count(std::string_view op, std::string_view file, std::uint64_t offset,
                                         std::size_t asked, std::size_t got) {
    throw error(errc::io_error, std::string(op) + " of " + std::to_string(asked) + " bytes at offset " +
                                    std::to_string(offset) + " of '" + std::string(file) + "' reported " +
                                    std::to_string(got) + " bytes");
}

/// What `mode` does to a file at open: `rewrite` truncates it (and is refused, typed, on a file
/// that cannot be written); `append` leaves it as it is. Shared by the encrypted file types.
template <random_access_file File>
void apply_write_mode(File& file, write_mode mode) {
    if (mode != write_mode::rewrite) return;
    if constexpr (writable_file<File>) {
        file.truncate(0);
    } else {
        throw error(errc::invalid_argument, "write_mode::rewrite on '" + std::string(file.name()) + "', which is not writable");
    }
}

}  // namespace detail

/// Appends and reads of one file under one (key, IV). Reads are const and may run on many
/// threads at once (when `File::read_at` may); writes need one writer at a time, as RocksDB's
/// WritableFile does.
template <cipher_policy C, random_access_file File = posix_file>
class encrypted_file final {
public:
    using policy = C;
    using file_type = File;
    /// Bytes `append` encrypts per chunk: large enough that the write call dominates, small
    /// enough to stay in L2. Allocated on the first `append`, so read-only opens never pay it.
    static constexpr std::size_t scratch_size = std::size_t{64} * 1024;

    /// Builds the key schedule once; keeps no raw key bytes. Key and IV sizes are checked before
    /// the file is touched, so a bad key never truncates a file in `rewrite` mode.
    encrypted_file(File file, std::span<const std::byte> key, std::span<const std::byte> iv,
                   write_mode mode = write_mode::append)
        : m_file(std::move(file)), m_stream(key, iv) {
        detail::apply_write_mode(m_file, mode);
        m_size = m_file.size();
        m_keystream_end = m_size;
    }

    /// Reads and decrypts into `out` in place; returns fewer bytes only at end of file. Reads are
    /// not bounded by `size()`: another writer may be appending to the same file.
    [[nodiscard]] std::size_t read_at(std::uint64_t offset, std::span<std::byte> out) const {
        const std::size_t n = m_file.read_at(offset, out);
        if (n > out.size()) detail::throw_bad_count("read", m_file.name(), offset, out.size(), n);
        m_stream.apply(offset, out.first(n));
        return n;
    }

    /// Encrypts `data` as the bytes at `size()` and writes it, chunk by chunk. If it throws,
    /// `size()` has grown by exactly what reached the file: the caller retries with the rest.
    void append(std::span<const std::byte> data)
        requires writable_file<File>
    {
        check_append(m_size, data.size());
        if (data.empty()) return;
        if constexpr (std::same_as<C, plaintext>) {
            write_out(data);
        } else {
            std::byte* scratch = scratch_buffer();
            while (!data.empty()) {
                const std::size_t n = std::min(data.size(), scratch_size);
                const std::span<std::byte> out(scratch, n);
                m_stream.apply(m_size, data.first(n), out);
                write_out(out);
                data = data.subspan(n);
            }
        }
    }

    /// Zero-copy append: encrypts `data` in the caller's buffer, which holds ciphertext on
    /// return. If it throws, the buffer holds the plaintext again and `size()` says how much
    /// reached the file, so the caller retries with the rest of the same buffer.
    void append_in_place(std::span<std::byte> data)
        requires writable_file<File>
    {
        check_append(m_size, data.size());
        const std::uint64_t start = m_size;
        m_stream.apply(start, data);
        try {
            write_out(data);
        } catch (...) {
            m_stream.apply(start, data);
            throw;
        }
    }

    /// Positional write, for callers that track offsets themselves: must start exactly at
    /// `size()` (an append). Below it is `errc::keystream_reuse`, above it (a hole) is
    /// `errc::invalid_argument`; an empty write is always a no-op.
    void write_at(std::uint64_t offset, std::span<const std::byte> data)
        requires writable_file<File>
    {
        if (data.empty()) return;
        if (offset > m_size) detail::throw_hole(m_file.name(), offset, m_size);
        check_append(offset, data.size());
        append(data);
    }

    /// Shrinks the file (e.g. to drop preallocated space). The bytes cut off stay "used" for
    /// this object: appending over them again is refused, since their old ciphertext may have
    /// been seen. Growing would leave a hole that does not decrypt, so it is refused too.
    void truncate(std::uint64_t new_size)
        requires writable_file<File>
    {
        if (new_size > m_size) detail::throw_hole(m_file.name(), new_size, m_size);
        m_file.truncate(new_size);
        m_size = new_size;
    }

    void sync()
        requires writable_file<File>
    {
        m_file.sync();
    }

    /// Nothing to do: every append reaches the file at once. (`authenticated_file` seals its last
    /// segment here; the same call lets generic code serve both.)
    void flush()
        requires writable_file<File>
    {}

    /// Bytes on disk: the same as `size()`, since CTR adds none (unlike `authenticated_file`).
    [[nodiscard]] std::uint64_t physical_size() const noexcept { return m_size; }

    /// The high-water mark: the on-disk size at open plus every byte written through this object.
    [[nodiscard]] std::uint64_t size() const noexcept { return m_size; }
    [[nodiscard]] const File& file() const noexcept { return m_file; }
    [[nodiscard]] const ctr_stream<C>& stream() const noexcept { return m_stream; }

private:
    /// The append guard: [offset, offset + n) must not touch a byte already encrypted.
    void check_append(std::uint64_t offset, std::size_t n) const {
        if (n != 0 && offset < m_keystream_end) {
            detail::throw_keystream_reuse(m_file.name(), offset, offset, std::min(offset + n, m_keystream_end));
        }
    }

    /// Writes ciphertext at `m_size`, following short writes; `m_size` moves with every byte
    /// the file accepts, so after a throw it is exactly what reached the file.
    void write_out(std::span<const std::byte> bytes) {
        while (!bytes.empty()) {
            const std::size_t n = m_file.write_at(m_size, bytes);
            if (n == 0 || n > bytes.size()) detail::throw_bad_count("write", m_file.name(), m_size, bytes.size(), n);
            m_size += n;
            m_keystream_end = std::max(m_keystream_end, m_size);
            bytes = bytes.subspan(n);
        }
    }

    std::byte* scratch_buffer() {
        if (!m_scratch) m_scratch = std::make_unique_for_overwrite<std::byte[]>(scratch_size);
        return m_scratch.get();
    }

    File m_file;
    ctr_stream<C> m_stream;
    std::unique_ptr<std::byte[]> m_scratch;  // ciphertext only: never holds plaintext or keys
    std::uint64_t m_size = 0;
    std::uint64_t m_keystream_end = 0;  // highest offset ever encrypted under this (key, IV)
};

}  // namespace atrest
