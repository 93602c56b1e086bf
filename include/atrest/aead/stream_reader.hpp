#pragma once
/// Reading a sealed (segmented AEAD) stream at any byte range, decrypting only the segments the
/// range touches. Opening checks the header and the final segment, so `size()` is authenticated
/// and a truncated, extended or spliced-on stream is refused before a byte is returned; every
/// segment a read touches is authenticated before its bytes reach the caller. `verify()`
/// authenticates all of them.
///
/// Not thread-safe (one decryption state and one segment buffer per reader): one reader per thread.

#include <atrest/aead/segment_engine.hpp>
#include <atrest/file/concepts.hpp>
#include <atrest/file/posix_file.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <string>

namespace atrest {

template <aead_policy A, class F, random_access_file File = posix_file>
    requires stream_format<F, A>
class sealed_stream_reader final {
public:
    using policy = A;
    using format = F;
    using options = typename F::options;

    /// Reads the header and authenticates the final segment. Errors: `errc::truncated` (a size
    /// no stream has, or no final segment), `errc::integrity` (a segment does not authenticate:
    /// changed, spliced, or the wrong key), `errc::corrupt` / `errc::unknown_version` /
    /// `errc::unsupported` (a header this format or cipher does not read), each naming the file
    /// and the offset.
    sealed_stream_reader(File file, std::span<const std::byte> key, const options& o = {})
        : m_file(std::move(file)), m_opened(detail::open_stream<A, F>(m_file, key, o)) {
        if (m_opened.segments > 0) load(m_opened.segments - 1);
    }

    /// The plaintext size, authenticated by the final segment.
    [[nodiscard]] std::uint64_t size() const noexcept { return m_opened.plain_size; }
    [[nodiscard]] std::uint64_t segments() const noexcept { return m_opened.segments; }
    [[nodiscard]] const segment_layout& layout() const noexcept { return m_opened.engine.layout(); }
    [[nodiscard]] const File& file() const noexcept { return m_file; }

    /// Fills `out` from plaintext byte `offset`; fewer bytes only at the end of the stream.
    [[nodiscard]] std::size_t read_at(std::uint64_t offset, std::span<std::byte> out) {
        if (offset >= size() || out.empty()) return 0;
        const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(out.size(), size() - offset));
        std::size_t done = 0;
        while (done < n) {
            const std::uint64_t at = offset + done;
            const std::uint64_t index = layout().segment_of(at);
            const std::uint64_t body = body_of(index);
            if (at == layout().plain_start(index) && n - done >= body && body >= direct_min && m_cached != index) {
                // A whole large segment: decrypted in `out` itself, saving a copy.
                m_opened.engine.open_into(m_file, index, body, index == m_opened.segments - 1,
                                          out.subspan(done, static_cast<std::size_t>(body)));
                done += static_cast<std::size_t>(body);
                continue;
            }
            const auto plain = load(index);
            const auto skip = static_cast<std::size_t>(at - layout().plain_start(index));
            const std::size_t take = std::min(n - done, plain.size() - skip);
            std::memcpy(out.data() + done, plain.data() + skip, take);
            done += take;
        }
        return n;
    }

    /// Authenticates every segment (each once, in order); throws at the first that fails.
    void verify() {
        for (std::uint64_t i = 0; i < m_opened.segments; ++i) (void)load(i);
    }

private:
    /// Reads covering a whole segment of at least this many bytes decrypt it in the caller's
    /// buffer (three reads of the file instead of one, one copy less); smaller ones go through
    /// the segment buffer, where a partly read segment stays cached.
    static constexpr std::uint64_t direct_min = 16384;

    [[nodiscard]] std::uint64_t body_of(std::uint64_t index) const noexcept {
        return index == m_opened.segments - 1 ? size() - layout().plain_start(index) : layout().capacity_of(index);
    }

    /// Segment `index`'s plaintext; the last one loaded stays cached for small sequential reads.
    std::span<const std::byte> load(std::uint64_t index) {
        const std::uint64_t last = m_opened.segments - 1;
        const std::uint64_t body = body_of(index);
        if (m_cached != index) {
            m_cached.reset();
            m_plain = m_opened.engine.open(m_file, index, body, index == last);
            m_cached = index;
        }
        return m_plain;
    }

    File m_file;
    detail::opened_stream<A, F> m_opened;
    std::optional<std::uint64_t> m_cached;
    std::span<const std::byte> m_plain;
};

}  // namespace atrest
