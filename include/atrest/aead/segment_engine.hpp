#pragma once
/// The one segmented-stream engine under `sealed_stream_reader` and `sealed_stream_writer`: reads,
/// checks and decrypts one segment of a file, or seals one and writes it, for any stream format
/// (the format says where segments lie and how each is sealed; the engine does the I/O, the
/// checks of the final flag against the segment's place, and the typed errors naming the file
/// and the ciphertext offset).

#include <atrest/aead/concepts.hpp>
#include <atrest/aead/segment_layout.hpp>
#include <atrest/detail/botan_compat.hpp>
#include <atrest/error.hpp>
#include <atrest/file/concepts.hpp>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace atrest::detail {

/// "[a, b)" of segment `index`'s ciphertext.
[[nodiscard]] inline std::string segment_place(const segment_layout& l, std::uint64_t index, std::uint64_t body) {
    const std::uint64_t start = l.cipher_start(index);
    return "segment " + std::to_string(index) + " (ciphertext bytes [" + std::to_string(start) + ", " +
           std::to_string(start + body + l.overhead()) + "))";
}

/// The typed error for a segment that did not open.
[[noreturn]] inline void throw_segment_error(std::string_view file, const segment_layout& l, std::uint64_t index,
                                             std::uint64_t body, segment_check check) {
    const std::string where = "'" + std::string(file) + "': " + segment_place(l, index, body);
    switch (check) {
        case segment_check::ok: break;
        case segment_check::tag_mismatch:
            throw error(errc::integrity, where + " failed authentication: it was changed, moved from another place or "
                                                 "stream, or the key" +
                                             std::string(index == 0 ? " (or associated data) is not the one it was sealed with"
                                                                    : " is wrong"));
        case segment_check::missing_final:
            throw error(errc::truncated, where + " is authentic but not final, and the stream ends after it at byte " +
                                             std::to_string(l.cipher_start(index) + body + l.overhead()) +
                                             ": the final segment is missing (truncated)");
        case segment_check::unexpected_final:
            throw error(errc::integrity, where + " is a final segment but the stream goes on after it: data was appended "
                                                 "or another stream spliced in after its end");
        case segment_check::bad_version:
            throw error(errc::integrity, where + " has a header with another format version than the stream's");
        case segment_check::bad_cipher:
            throw error(errc::integrity, where + " has a header naming another cipher than the stream's");
        case segment_check::bad_length:
            throw error(errc::integrity, where + " has a header whose length disagrees with its place in the stream "
                                                 "(segments were reordered, cut or changed)");
        case segment_check::nonce_mismatch:
            throw error(errc::integrity, where + " carries another stream's nonce: it was spliced in from another stream");
    }
    throw error(errc::integrity, where + " did not open");
}

template <aead_policy A, class F>
    requires stream_format<F, A>
class segment_engine final {
public:
    using stream_type = typename F::template stream<A>;

    segment_engine(const segment_layout& layout, stream_type stream)
        : m_layout(layout), m_stream(std::move(stream)),
          m_scratch(new std::byte[scratch_size()], scrubbing_delete{scratch_size()}) {
        if (layout.overhead() > m_edges.size()) {
            throw error(errc::invalid_argument, "segment prefix and tag of " + std::to_string(layout.overhead()) +
                                                    " bytes: at most 64 are supported");
        }
    }

    [[nodiscard]] const segment_layout& layout() const noexcept { return m_layout; }
    [[nodiscard]] stream_type& stream() noexcept { return m_stream; }

    /// Where a segment's plaintext is assembled before `seal` (capacity_of(index) bytes).
    [[nodiscard]] std::span<std::byte> body_buffer(std::uint64_t index) noexcept {
        return {m_scratch.get() + m_layout.prefix_size, static_cast<std::size_t>(m_layout.capacity_of(index))};
    }

    [[nodiscard]] std::span<const std::byte> body_buffer(std::uint64_t index) const noexcept {
        return {m_scratch.get() + m_layout.prefix_size, static_cast<std::size_t>(m_layout.capacity_of(index))};
    }

    /// Reads segment `index` (with `body` plaintext bytes, final or not as its place says),
    /// checks and decrypts it; returns its plaintext, in the engine's buffer. For a format whose
    /// final flag is only in the nonce, a failed segment is tried with the other flag to tell a
    /// truncated stream from a changed one (costs one more decryption, on the error path only).
    template <random_access_file File>
    [[nodiscard]] std::span<std::byte> open(const File& file, std::uint64_t index, std::uint64_t body, bool final) {
        const std::span<std::byte> plain(m_scratch.get() + m_layout.prefix_size, static_cast<std::size_t>(body));
        open_into(file, index, body, final, plain);
        return plain;
    }

    /// The same into `dest` (`body` bytes, the caller's buffer): the body is read and decrypted
    /// there, which saves copying it out of the engine's buffer but costs separate reads of the
    /// segment's prefix and tag. `dest` holds zeros if the segment does not open.
    template <random_access_file File>
    void open_into(const File& file, std::uint64_t index, std::uint64_t body, bool final, std::span<std::byte> dest) {
        auto check = read_and_open(file, index, body, final, dest);
        if (check == segment_check::tag_mismatch && !F::final_in_prefix &&
            read_and_open(file, index, body, !final, dest) == segment_check::ok) {
            secure_scrub(dest.data(), dest.size());
            check = final ? segment_check::missing_final : segment_check::unexpected_final;
        }
        if (check != segment_check::ok) throw_segment_error(file.name(), m_layout, index, body, check);
    }

    /// Seals the first `body` bytes of `body_buffer(index)` as segment `index` and writes it.
    template <writable_file File>
    void seal(File& file, std::uint64_t index, std::uint64_t body, bool final) {
        seal_in(buffer(), file, index, body, final);
    }

    /// The same from another engine's buffer (`buffer()`: prefix || body || room for the tag).
    template <writable_file File>
    void seal_in(std::span<std::byte> segment, File& file, std::uint64_t index, std::uint64_t body, bool final) {
        const auto n = static_cast<std::size_t>(body);
        const auto prefix = segment.first(m_layout.prefix_size);
        const auto plain = segment.subspan(m_layout.prefix_size, n);
        const auto tag = segment.subspan(m_layout.prefix_size + n, m_layout.tag_size);
        m_stream.seal(index, final, prefix, plain, tag);
        write_all(file, m_layout.cipher_start(index), std::span<const std::byte>(segment.first(n + m_layout.overhead())));
    }

    /// This engine's whole segment buffer.
    [[nodiscard]] std::span<std::byte> buffer() noexcept { return {m_scratch.get(), scratch_size()}; }

    /// `pwrite` until done; a policy reporting an impossible count is an I/O error.
    template <writable_file File>
    static void write_all(File& file, std::uint64_t offset, std::span<const std::byte> bytes) {
        while (!bytes.empty()) {
            const std::size_t n = file.write_at(offset, bytes);
            if (n == 0 || n > bytes.size()) {
                throw error(errc::io_error, "write of " + std::to_string(bytes.size()) + " bytes at offset " +
                                                std::to_string(offset) + " of '" + std::string(file.name()) +
                                                "' reported " + std::to_string(n) + " bytes");
            }
            offset += n;
            bytes = bytes.subspan(n);
        }
    }

private:
    [[nodiscard]] std::size_t scratch_size() const noexcept {
        return static_cast<std::size_t>(m_layout.overhead() + std::max(m_layout.first_capacity, m_layout.capacity));
    }

    static void secure_scrub(std::byte* p, std::size_t n) noexcept { botan_compat::secure_scrub(p, n); }

    /// The segment buffer holds plaintext: scrubbed before it is freed.
    struct scrubbing_delete final {
        std::size_t size = 0;
        void operator()(std::byte* p) const noexcept {
            secure_scrub(p, size);
            delete[] p;
        }
    };

    /// Reads segment `index` — into the engine's buffer when `plain` is its body part (one
    /// read), else the body into `plain` and prefix and tag into `m_edges` — and opens it.
    template <random_access_file File>
    segment_check read_and_open(const File& file, std::uint64_t index, std::uint64_t body, bool final,
                                std::span<std::byte> plain) {
        const auto n = static_cast<std::size_t>(body);
        const std::uint64_t at = m_layout.cipher_start(index);
        const auto prefix_size = static_cast<std::size_t>(m_layout.prefix_size);
        const auto tag_size = static_cast<std::size_t>(m_layout.tag_size);
        if (plain.data() == m_scratch.get() + prefix_size) {
            const auto whole = std::span(m_scratch.get(), n + prefix_size + tag_size);
            read_exact(file, at, whole, index, body);
            return m_stream.open(index, final, whole.first(prefix_size), plain, whole.subspan(prefix_size + n, tag_size));
        }
        const auto prefix = std::span(m_edges).first(prefix_size);
        const auto tag = std::span(m_edges).subspan(prefix_size, tag_size);
        if (!prefix.empty()) read_exact(file, at, prefix, index, body);
        read_exact(file, at + prefix_size, plain, index, body);
        read_exact(file, at + prefix_size + n, tag, index, body);
        return m_stream.open(index, final, prefix, plain, tag);
    }

    template <random_access_file File>
    void read_exact(const File& file, std::uint64_t at, std::span<std::byte> out, std::uint64_t index,
                    std::uint64_t body) const {
        const std::size_t got = file.read_at(at, out);
        if (got != out.size()) {
            throw error(errc::truncated, "'" + std::string(file.name()) + "': " + segment_place(m_layout, index, body) +
                                             " ends at byte " + std::to_string(at + got) +
                                             ": the file shrank while it was read");
        }
    }

    segment_layout m_layout;
    stream_type m_stream;
    std::unique_ptr<std::byte[], scrubbing_delete> m_scratch;  // prefix || body || tag of one segment
    std::array<std::byte, 64> m_edges{};  // prefix and tag of a segment read into the caller's buffer
};

/// What a stream file holds: its format state (from the first bytes), its segments and
/// plaintext size. A size no stream can have is `errc::truncated`.
template <aead_policy A, class F>
    requires stream_format<F, A>
struct opened_stream final {
    segment_engine<A, F> engine;
    std::uint64_t segments;
    std::uint64_t plain_size;
};

template <aead_policy A, class F, random_access_file File>
    requires stream_format<F, A>
[[nodiscard]] opened_stream<A, F> open_stream(const File& file, std::span<const std::byte> key,
                                              const typename F::options& options) {
    const segment_layout layout = F::template layout<A>(options);
    const std::uint64_t size = file.size();
    std::vector<std::byte> head(static_cast<std::size_t>(std::min<std::uint64_t>(F::peek_size(options), size)));
    if (file.read_at(0, head) != head.size()) {
        throw error(errc::truncated, "'" + std::string(file.name()) + "': the file shrank while its header was read");
    }
    auto stream = F::template stream<A>::open(key, options, head, file.name());
    const auto parsed = layout.from_cipher_size(size);
    if (!parsed) {
        throw error(errc::truncated,
                    "'" + std::string(file.name()) + "': ends at byte " + std::to_string(size) + ", where no " +
                        std::string(F::name) + " stream can end: inside its header, a segment's header or tag, or past " +
                        std::to_string(layout.max_segments) + " segments (truncated or appended to)");
    }
    return {segment_engine<A, F>(layout, std::move(stream)), parsed->segments, parsed->plain_size};
}

}  // namespace atrest::detail
