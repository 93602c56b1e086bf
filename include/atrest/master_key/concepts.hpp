#pragma once
/// The master-key source family's concept: whatever seals and opens the key dictionary (a key
/// file, an in-memory key, a KMS, a previous key behind the current one). Models: file_master_key,
/// memory_master_key, plaintext_master_key, with_previous, any_master_key; checks:
/// tests/static/master_key_static.cpp.

#include <atrest/secret_bytes.hpp>

#include <concepts>
#include <span>
#include <string>
#include <vector>

namespace atrest {

/// What `open` recovered; `needs_reseal` says a previous master key was needed, so the caller
/// should seal again under the current one.
struct unsealed {
    secret_bytes data;
    bool needs_reseal = false;
};

template <class S>
concept master_key_source = requires(S& s, const S& cs, std::span<const std::byte> data, std::span<const std::byte> aad) {
    { s.seal(data, aad) } -> std::same_as<std::vector<std::byte>>;
    { s.open(data, aad) } -> std::same_as<unsealed>;
    { cs.describe() } -> std::convertible_to<std::string>;  // names the source, never its key
    { cs.is_secure() } -> std::convertible_to<bool>;        // false only when nothing is protected
};

namespace detail {

/// A source that must call out before it can seal (a KMS asking for its data key) does so in an
/// optional `prepare_seal()`, so a caller can make that call before it writes anything: a key
/// service that fails then leaves every byte on disk as it was (TiKV #9488). A no-op for others.
template <master_key_source S>
void prepare_seal(S& source) {
    if constexpr (requires { source.prepare_seal(); }) source.prepare_seal();
}

}  // namespace detail

}  // namespace atrest
