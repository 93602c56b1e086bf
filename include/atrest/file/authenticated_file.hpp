#pragma once
/// `atrest::authenticated_file<C, File>`: a data file of an authenticated method (C is
/// `aes256_gcm_stream` or `aes128_gcm_stream`): the same calls as `encrypted_file` (read_at,
/// append, write_at at the end, sync, size), but the file is a `file_stream` of AEAD segments,
/// so a changed, moved, cut or spliced byte is an error naming the file and the offset, never
/// data. docs/aead.md ("Authenticated data files").
///
/// - Key: the dictionary entry's data key is HKDF's input; the per-file key is derived with the
///   random salt in the file's header (`file_stream`), so one data key serves any number of files.
/// - Sizes: `size()` is the plaintext (logical) size; the file on disk is longer by the header
///   and 24 bytes per segment (`physical_size`, `logical_size` convert).
/// - Writes: `append` fills the last segment in memory and seals full segments as it goes;
///   `flush()` seals the partial last segment as final and writes it (again at every flush,
///   each time under a new seal number), `sync()` flushes and fsyncs. Until the first flush after
///   an append that filled a segment, the file on disk has no final segment (a crash then leaves
///   it `truncated`); flushed bytes are readable after a crash.
/// - Reads: authenticate and decrypt only the segments a read touches; the last segment is
///   authenticated at open, so `size()` is authenticated. Reads are const and thread-safe (a
///   small pool of segment buffers, grown to the number of concurrent readers, never per read).

#include <atrest/aead/file_stream.hpp>
#include <atrest/aead/segment_engine.hpp>
#include <atrest/cipher/concepts.hpp>
#include <atrest/detail/endian.hpp>
#include <atrest/error.hpp>
#include <atrest/file/concepts.hpp>
#include <atrest/file/encrypted_file.hpp>
#include <atrest/file/posix_file.hpp>
#include <atrest/secret_bytes.hpp>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

namespace atrest {

/// The segment size an authenticated method's 16-byte IV field carries (LE32 in bytes 0-3, the
/// rest zero); docs/format.md. `errc::invalid_iv_size` / `errc::corrupt` for anything else.
[[nodiscard]] inline std::uint32_t segment_size_of_iv(std::span<const std::byte> iv) {
    if (iv.size() != 16) {
        throw error(errc::invalid_iv_size, "an authenticated data file's IV field has 16 bytes, got " + std::to_string(iv.size()));
    }
    const auto size = detail::load_le<std::uint32_t>(iv.data());
    const bool rest_zero = std::all_of(iv.begin() + 4, iv.end(), [](std::byte b) { return b == std::byte{0}; });
    if (!rest_zero || size < file_stream::min_segment_size || size > file_stream::max_segment_size) {
        throw error(errc::corrupt, "an authenticated data file's IV field does not hold a segment size (LE32 in [" +
                                       std::to_string(file_stream::min_segment_size) + ", " +
                                       std::to_string(file_stream::max_segment_size) + "], then 12 zero bytes)");
    }
    return size;
}

/// The IV field that records `segment_size` (checked).
[[nodiscard]] inline std::array<std::byte, 16> iv_for_segment_size(std::uint32_t segment_size) {
    file_stream::check_segment_size(segment_size);
    std::array<std::byte, 16> iv{};
    detail::store_le(iv.data(), segment_size);
    return iv;
}

template <authenticated_policy C, random_access_file File = posix_file>
class authenticated_file final {
public:
    using policy = C;
    using file_type = File;
    using aead = typename C::aead;
    using engine_type = detail::segment_engine<aead, file_stream>;
    using stream_type = file_stream::stream<aead>;

    /// Opens `file` under the data key `key`; `iv` is the entry's IV field (the segment size).
    /// An empty file (or `write_mode::rewrite`, which truncates it) is a new stream with a fresh
    /// salt; otherwise the header and the last segment are authenticated here. Sizes are checked
    /// before the file is touched.
    authenticated_file(File file, std::span<const std::byte> key, std::span<const std::byte> iv,
                       write_mode mode = write_mode::append)
        : m_file(std::move(file)), m_options{segment_size_of_iv(iv)},
          m_layout(file_stream::layout<aead>(m_options)) {
        if (key.size() < aead::key_size) (void)stream_type::derive(key, {});  // throws invalid_key_size
        detail::apply_write_mode(m_file, mode);
        const std::uint64_t physical = m_file.size();
        if (physical == 0) {
            auto s = stream_type::create(key, m_options);
            m_header = header_of(s);
            m_file_key = stream_type::derive(key, m_header);
            m_tail.emplace(m_layout, std::move(s));
            return;
        }
        std::array<std::byte, file_stream::header_size> head{};
        const std::size_t got = m_file.read_at(0, std::span(head).first(std::min<std::uint64_t>(head.size(), physical)));
        m_header = stream_type::parse_header(std::span(head).first(got), m_file.name());
        m_file_key = stream_type::derive(key, m_header);
        const auto parsed = m_layout.from_cipher_size(physical);
        if (!parsed) {
            throw error(errc::truncated, "'" + std::string(m_file.name()) + "': ends at byte " + std::to_string(physical) +
                                             ", where no authenticated data file with " +
                                             std::to_string(m_options.segment_size) +
                                             "-byte segments can end: inside its header or a segment's seal field or tag "
                                             "(truncated, or written with another segment size)");
        }
        m_tail.emplace(m_layout, stream_type::from_file_key(m_file_key.bytes(), m_header));
        m_header_written = true;
        if (parsed->segments == 0) return;
        m_index = parsed->segments - 1;
        m_fill = static_cast<std::size_t>(parsed->plain_size - m_layout.plain_start(m_index));
        m_size = parsed->plain_size;
        (void)m_tail->open(m_file, m_index, m_fill, true);  // into the body buffer, where appends continue
        m_tail->stream().set_next_seal(m_tail->stream().last_opened_seal() + 1);
    }

    authenticated_file(authenticated_file&& other) noexcept
        : m_file(std::move(other.m_file)), m_options(other.m_options), m_layout(other.m_layout),
          m_header(other.m_header), m_file_key(std::move(other.m_file_key)), m_tail(std::move(other.m_tail)),
          m_index(other.m_index), m_fill(other.m_fill), m_size(other.m_size), m_dirty(other.m_dirty),
          m_header_written(other.m_header_written), m_readers(std::move(other.m_readers)),
          m_side(std::move(other.m_side)) {}
    authenticated_file& operator=(authenticated_file&&) = delete;
    authenticated_file(const authenticated_file&) = delete;
    authenticated_file& operator=(const authenticated_file&) = delete;
    /// Flushes what was appended, best effort: call `flush` or `sync` to see errors.
    ~authenticated_file() {
        if constexpr (writable_file<File>) {
            if (!m_tail || !m_dirty) return;
            try {
                flush();
            } catch (...) {  // NOLINT(bugprone-empty-catch): a destructor cannot report; sync() does
            }
        }
    }

    /// Fills `out` from plaintext byte `offset`, authenticating every segment it touches;
    /// fewer bytes only at the end. Sees everything appended through this object.
    [[nodiscard]] std::size_t read_at(std::uint64_t offset, std::span<std::byte> out) const {
        std::unique_lock lock(m_mutex);
        if (offset >= m_size || out.empty()) return 0;
        const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(out.size(), m_size - offset));
        std::size_t done = 0;
        std::unique_ptr<engine_type> reader;
        while (done < n) {
            const std::uint64_t at = offset + done;
            const std::uint64_t index = m_layout.segment_of(at);
            const auto skip = static_cast<std::size_t>(at - m_layout.plain_start(index));
            if (index == m_index) {  // the last segment: its plaintext is in memory
                const std::size_t take = std::min(n - done, m_fill - skip);
                std::memcpy(out.data() + done, m_tail->body_buffer(m_index).data() + skip, take);
                done += take;
                continue;
            }
            if (!reader) reader = take_reader();
            const std::uint64_t body = m_layout.capacity_of(index);
            lock.unlock();  // segments before the last never change: decrypt without the lock
            std::size_t take = 0;
            try {
                const auto plain = reader->open(m_file, index, body, false);
                take = std::min(n - done, plain.size() - skip);
                std::memcpy(out.data() + done, plain.data() + skip, take);
            } catch (...) {
                lock.lock();
                m_readers.push_back(std::move(reader));
                throw;
            }
            lock.lock();
            done += take;
        }
        if (reader) m_readers.push_back(std::move(reader));
        return n;
    }

    /// Adds `data` at the end: full segments are sealed (not final) and written at once, the
    /// rest stays in memory until `flush`/`sync`.
    void append(std::span<const std::byte> data)
        requires writable_file<File>
    {
        std::lock_guard lock(m_mutex);
        while (!data.empty()) {
            const auto capacity = static_cast<std::size_t>(m_layout.capacity_of(m_index));
            if (m_fill == capacity) seal_full();
            const std::size_t n = std::min(capacity - m_fill, data.size());
            std::memcpy(m_tail->body_buffer(m_index).data() + m_fill, data.data(), n);
            m_fill += n;
            m_size += n;
            m_dirty = true;
            data = data.subspan(n);
        }
    }

    /// `encrypted_file`'s zero-copy call; here it copies (segments are sealed in their own
    /// buffer), and `data` is left as it was.
    void append_in_place(std::span<std::byte> data)
        requires writable_file<File>
    {
        append(std::span<const std::byte>(data));
    }

    /// Must start exactly at `size()`: an authenticated file is written by appending.
    void write_at(std::uint64_t offset, std::span<const std::byte> data)
        requires writable_file<File>
    {
        if (data.empty()) return;
        if (offset != size()) {
            throw error(errc::invalid_argument, "write at offset " + std::to_string(offset) + " of '" +
                                                    std::string(m_file.name()) + "', whose end is at " +
                                                    std::to_string(size()) +
                                                    ": authenticated data files are written by appending");
        }
        append(data);
    }

    /// Seals the last segment as final and writes it: everything appended so far is in the file
    /// (in the page cache; `sync` makes it durable). A no-op when nothing changed.
    void flush()
        requires writable_file<File>
    {
        std::lock_guard lock(m_mutex);
        if (!m_dirty) return;
        write_header();
        // Sealing encrypts in place: seal a copy, so the plaintext stays for later appends.
        auto& side = side_buffer();
        const auto used = static_cast<std::size_t>(m_layout.prefix_size) + m_fill;
        std::memcpy(side.data(), m_tail->buffer().data(), used);
        m_tail->seal_in(std::span(side), m_file, m_index, m_fill, true);
        m_dirty = false;
    }

    void sync()
        requires writable_file<File>
    {
        flush();
        m_file.sync();
    }

    /// Only to the current size (RocksDB cuts preallocated space that way): anything else is
    /// `errc::unsupported`, since cutting plaintext would need the segment re-sealed.
    void truncate(std::uint64_t new_size)
        requires writable_file<File>
    {
        flush();
        if (new_size != size()) {
            throw error(errc::unsupported, "truncate of '" + std::string(m_file.name()) + "' to " +
                                               std::to_string(new_size) + " bytes: an authenticated data file of " +
                                               std::to_string(size()) + " bytes cannot be cut");
        }
        m_file.truncate(physical_size());
    }

    /// Plaintext bytes: authenticated at open, plus every byte appended through this object.
    [[nodiscard]] std::uint64_t size() const {
        std::lock_guard lock(m_mutex);
        return m_size;
    }
    /// Bytes the file has on disk once flushed.
    [[nodiscard]] std::uint64_t physical_size() const { return m_layout.cipher_size(size()); }
    [[nodiscard]] const File& file() const noexcept { return m_file; }
    [[nodiscard]] std::uint32_t segment_size() const noexcept { return m_options.segment_size; }

    /// Authenticates every segment; throws at the first that fails.
    void verify() const {
        std::vector<std::byte> chunk(static_cast<std::size_t>(m_layout.capacity));
        for (std::uint64_t at = 0; at < size(); at += chunk.size()) (void)read_at(at, chunk);
    }

private:
    static std::array<std::byte, file_stream::header_size> header_of(const stream_type& s) {
        std::array<std::byte, file_stream::header_size> h{};
        std::memcpy(h.data(), s.header().data(), h.size());
        return h;
    }

    void write_header() {
        if (m_header_written) return;
        engine_type::write_all(m_file, 0, std::span<const std::byte>(m_header));
        m_header_written = true;
    }

    /// The last segment is full and more data follows: seal it not final, write it, move on.
    void seal_full() {
        if (m_index + 1 >= m_layout.max_segments) {
            throw error(errc::invalid_argument, "'" + std::string(m_file.name()) + "': an authenticated data file holds at most " +
                                                    std::to_string(m_layout.max_segments) + " segments");
        }
        write_header();
        m_tail->seal(m_file, m_index, m_fill, false);
        ++m_index;
        m_fill = 0;
    }

    std::vector<std::byte>& side_buffer() {
        if (m_side.empty()) m_side.resize(m_tail->buffer().size());
        return m_side;
    }

    std::unique_ptr<engine_type> take_reader() const {
        if (!m_readers.empty()) {
            auto r = std::move(m_readers.back());
            m_readers.pop_back();
            return r;
        }
        return std::make_unique<engine_type>(m_layout, stream_type::from_file_key(m_file_key.bytes(), m_header));
    }

    File m_file;
    file_stream::options m_options;
    segment_layout m_layout;
    std::array<std::byte, file_stream::header_size> m_header{};
    secret_bytes m_file_key;
    std::optional<engine_type> m_tail;  // the last segment's plaintext, and the writer's seals
    std::uint64_t m_index = 0;          // the last segment
    std::size_t m_fill = 0;             // its plaintext bytes
    std::uint64_t m_size = 0;
    bool m_dirty = false;               // appended since the last flush
    bool m_header_written = false;
    mutable std::mutex m_mutex;
    mutable std::vector<std::unique_ptr<engine_type>> m_readers;
    std::vector<std::byte> m_side;  // ciphertext of a flushed segment only
};

/// Plaintext size of an authenticated data file of `physical` bytes whose entry's IV field is
/// `iv`; `errc::truncated` when no such file has that size.
[[nodiscard]] inline std::uint64_t authenticated_logical_size(std::span<const std::byte> iv, std::uint64_t physical,
                                                              std::string_view name) {
    const auto layout = file_stream::layout<aes256_gcm>({segment_size_of_iv(iv)});  // same for every AEAD
    const auto parsed = layout.from_cipher_size(physical);
    if (!parsed) {
        throw error(errc::truncated, "'" + std::string(name) + "': " + std::to_string(physical) +
                                         " bytes is no size an authenticated data file can have");
    }
    return parsed->plain_size;
}

}  // namespace atrest
