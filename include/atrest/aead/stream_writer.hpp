#pragma once
/// Writing a sealed (segmented AEAD) stream by appending. Plaintext collects in one segment
/// buffer; a segment is sealed and written once it is full and more data follows, and the last
/// one — partial or full — is sealed as final by `finish()`. Until then the file has no final
/// segment and readers refuse it as truncated.
///
/// Nonces. Each format's segment nonce is fixed by (stream, segment number, final flag), so the
/// rule is: within one stream, each (segment, flag) is sealed at most once. A writer seals a
/// segment non-final only when it is full and more follows (its contents can never change
/// again), and seals a final segment once, at `finish()`.
///
/// Appending to a finished stream (`append_to`) re-seals its partial last segment: the old final
/// segment i was sealed under (i, final). If the new data runs past segment i, segment i is
/// re-sealed under (i, not final) — never used before, because a segment is sealed non-final
/// only after it stopped being the last one — and the new final segment is a later one, also
/// never used. If the new data still ends inside segment i, sealing it as final again would put
/// new plaintext under the used nonce (i, final), which in GCM leaks the XOR of the two
/// plaintexts and the authentication key; so the writer re-keys instead: a fresh stream
/// (Tink: new salt and nonce prefix, hence a new key; DARE: a new stream nonce), every segment
/// re-sealed in place. That costs a pass over the stream; it is not atomic (a crash in it leaves
/// a stream that fails to authenticate, never wrong data). docs/aead.md.
///
/// Appending trusts that the file is the latest version of the stream: appending to a restored
/// older copy would re-seal segment numbers the newer copy already used. To continue a restored
/// copy, read it into a new stream (fresh nonce material) instead.

#include <atrest/aead/segment_engine.hpp>
#include <atrest/file/concepts.hpp>
#include <atrest/file/posix_file.hpp>
#include <atrest/secret_bytes.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <string>
#include <utility>

namespace atrest {

template <aead_policy A, class F, writable_file File = posix_file>
    requires stream_format<F, A>
class sealed_stream_writer final {
public:
    using policy = A;
    using format = F;
    using options = typename F::options;

    /// A new stream in `file` (truncated first), with fresh nonce material.
    [[nodiscard]] static sealed_stream_writer create(File file, std::span<const std::byte> key, const options& o = {}) {
        auto stream = F::template stream<A>::create(key, o);
        file.truncate(0);
        const auto header = stream.header();
        detail::segment_engine<A, F>::write_all(file, 0, header);
        return sealed_stream_writer(std::move(file), detail::segment_engine<A, F>(F::template layout<A>(o), std::move(stream)),
                                    0, 0, 0);
    }

    /// Continues a finished stream: authenticates its header and final segment, and takes that
    /// segment's plaintext back into the buffer (the file is unchanged until it must be).
    [[nodiscard]] static sealed_stream_writer append_to(File file, std::span<const std::byte> key, const options& o = {}) {
        auto opened = detail::open_stream<A, F>(file, key, o);
        if (opened.segments == 0) return create(std::move(file), key, o);  // an empty DARE stream: nothing sealed yet
        const std::uint64_t last = opened.segments - 1;
        const std::uint64_t start = opened.engine.layout().plain_start(last);
        const auto plain = opened.engine.open(file, last, opened.plain_size - start, true);
        // open() left the plaintext where seal() takes it from.
        sealed_stream_writer w(std::move(file), std::move(opened.engine), last, plain.size(), opened.plain_size);
        w.m_resealed = resealed{last, plain.size(), secret_bytes(key), o};
        return w;
    }

    sealed_stream_writer(sealed_stream_writer&&) noexcept = default;
    sealed_stream_writer& operator=(sealed_stream_writer&&) noexcept = default;

    /// Adds `data` at the end of the stream.
    void append(std::span<const std::byte> data) {
        if (m_finished) throw error(errc::invalid_argument, "append to '" + std::string(m_file.name()) + "' after finish()");
        while (!data.empty()) {
            const auto capacity = static_cast<std::size_t>(m_engine.layout().capacity_of(m_index));
            if (m_fill == capacity) seal_full();
            const std::size_t n = std::min(capacity - m_fill, data.size());
            std::memcpy(m_engine.body_buffer(m_index).data() + m_fill, data.data(), n);
            m_fill += n;
            m_size += n;
            data = data.subspan(n);
        }
    }

    /// Seals the last segment as final (an empty stream too, where the format has a segment for
    /// it) and cuts the file to the stream's end. Idempotent.
    void finish() {
        if (m_finished) return;
        const auto& l = m_engine.layout();
        if (m_resealed && m_resealed->index == m_index) {
            if (m_resealed->fill != m_fill) rekey();  // see the header comment
        } else if (m_fill != 0 || (m_index == 0 && l.empty_stream_has_segment)) {
            m_engine.seal(m_file, m_index, m_fill, true);
        }
        m_file.truncate(l.cipher_size(m_size));
        m_finished = true;
    }

    void sync() { m_file.sync(); }

    /// Plaintext bytes appended so far (the stream's size once finished).
    [[nodiscard]] std::uint64_t size() const noexcept { return m_size; }
    [[nodiscard]] bool finished() const noexcept { return m_finished; }
    [[nodiscard]] const File& file() const noexcept { return m_file; }
    [[nodiscard]] const segment_layout& layout() const noexcept { return m_engine.layout(); }

private:
    /// The final segment a reopened stream started with, whose (index, final) nonce is used.
    struct resealed final {
        std::uint64_t index;
        std::size_t fill;
        secret_bytes key;  // for re-keying
        options opts;
    };

    sealed_stream_writer(File file, detail::segment_engine<A, F> engine, std::uint64_t index, std::size_t fill,
                         std::uint64_t size)
        : m_file(std::move(file)), m_engine(std::move(engine)), m_index(index), m_fill(fill), m_size(size) {}

    /// The current segment is full and more data follows: seal it non-final and move on.
    void seal_full() {
        if (m_index + 1 >= m_engine.layout().max_segments) {
            throw error(errc::invalid_argument, "'" + std::string(m_file.name()) + "': a " + std::string(F::name) +
                                                    " stream holds at most " +
                                                    std::to_string(m_engine.layout().max_segments) + " segments");
        }
        m_engine.seal(m_file, m_index, m_fill, false);
        ++m_index;
        m_fill = 0;
    }

    /// A fresh stream (new nonce material) over the same bytes, re-sealed in place: the old
    /// segments are opened with the old state and sealed with the new one; the final segment
    /// comes from the buffer.
    void rekey() {
        auto fresh = detail::segment_engine<A, F>(m_engine.layout(),
                                                  F::template stream<A>::create(m_resealed->key.bytes(), m_resealed->opts));
        // The buffered last segment moves aside first: opening the old segments reuses the buffer.
        std::memcpy(fresh.body_buffer(m_index).data(), m_engine.body_buffer(m_index).data(), m_fill);
        for (std::uint64_t i = 0; i < m_index; ++i) {
            const auto body = m_engine.layout().capacity_of(i);
            (void)m_engine.open(m_file, i, body, false);  // into m_engine's buffer, sealed from there
            fresh.seal_in(m_engine.buffer(), m_file, i, body, false);
        }
        fresh.seal(m_file, m_index, m_fill, true);
        detail::segment_engine<A, F>::write_all(m_file, 0, fresh.stream().header());
        m_engine = std::move(fresh);
        m_resealed.reset();
    }

    File m_file;
    detail::segment_engine<A, F> m_engine;
    std::uint64_t m_index;  // the segment being filled
    std::size_t m_fill;     // its plaintext bytes so far
    std::uint64_t m_size;
    bool m_finished = false;
    std::optional<resealed> m_resealed;
};

}  // namespace atrest
