#pragma once
/// The AEAD policy family's concepts: an authenticated cipher with a 96-bit nonce and a 128-bit
/// tag (what the segmented streams, Tink's and MinIO's formats, and the object layer build on),
/// and a stream format (the wire format the one segmented-stream engine runs). Models:
/// policies.hpp, tink_streaming.hpp, dare.hpp; checks: tests/static/aead_static.cpp.

#include <atrest/aead/segment_layout.hpp>

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

namespace atrest {

/// A type names an AEAD and its sizes at compile time; `botan_name` is what Botan's AEAD factory
/// is asked for. Every model takes a 12-byte nonce and gives a 16-byte tag, so the stream formats
/// can lay out segments without asking which cipher they run.
template <class A>
concept aead_policy = requires {
    { A::name } -> std::convertible_to<std::string_view>;
    { A::botan_name } -> std::convertible_to<std::string_view>;
    { A::key_size } -> std::convertible_to<std::size_t>;
    { A::nonce_size } -> std::convertible_to<std::size_t>;
    { A::tag_size } -> std::convertible_to<std::size_t>;
} && (A::key_size == 16 || A::key_size == 32) && A::nonce_size == 12 && A::tag_size == 16;

/// What one segment's open says; the engine turns each into a typed error naming file and offset.
enum class segment_check : std::uint8_t {
    ok,
    tag_mismatch,      ///< authentication failed: changed, reordered, spliced, or another key
    missing_final,     ///< authentic, but a non-final segment where the stream must end (truncated)
    unexpected_final,  ///< authentic, but a final segment with more segments after it
    bad_version,       ///< a per-segment header with a version this format does not know
    bad_cipher,        ///< a per-segment header naming another cipher than the stream's
    bad_length,        ///< a per-segment header whose length disagrees with the segment's place
    nonce_mismatch,    ///< a per-segment header whose nonce is not the stream's (spliced)
};

/// A stream format: `F::stream<A>` is one stream's state (its key and nonce material), made by
/// `create(key, options)` (fresh randomness, for writing) or `open(key, options, head, where)`
/// from `head`, the first `F::peek_size(options)` bytes of the ciphertext (fewer when the stream
/// is shorter; `where` names the file in errors). `F::layout<A>(options)` says where segments lie;
/// `header()` is what `create` writes before segment 0. A segment's ciphertext is prefix || body || tag, where the prefix
/// is per-segment header bytes (none in Tink's format, 16 in DARE's). `seal` encrypts the body
/// in place and fills prefix and tag; `open` checks prefix and tag and decrypts in place.
/// `final_in_prefix` says whether the final flag can be read from the prefix (DARE) or only
/// tried through the nonce (Tink).
template <class F, class A>
concept stream_format =
    aead_policy<A> && F::template supports<A> &&
    requires(const typename F::options& o, std::span<const std::byte> bytes, std::span<std::byte> out,
             std::string_view where,
             typename F::template stream<A>& s, const typename F::template stream<A>& cs, std::uint64_t index,
             bool final) {
        { F::name } -> std::convertible_to<std::string_view>;
        { F::final_in_prefix } -> std::convertible_to<bool>;
        { F::template layout<A>(o) } -> std::same_as<segment_layout>;
        { F::peek_size(o) } -> std::same_as<std::size_t>;
        { F::template stream<A>::create(bytes, o) } -> std::same_as<typename F::template stream<A>>;
        { F::template stream<A>::open(bytes, o, bytes, where) } -> std::same_as<typename F::template stream<A>>;
        { cs.header() } -> std::convertible_to<std::span<const std::byte>>;
        s.seal(index, final, out, out, out);
        { s.open(index, final, bytes, out, bytes) } -> std::same_as<segment_check>;
    };

}  // namespace atrest
