#pragma once
/// The object layer's concept: an external-key source, what an object's key is sealed under
/// (MinIO's design: SSE-C's client key, or SSE-S3/SSE-KMS's data key from a key service). Models:
/// client_key, kms_data_key<S> (external_keys.hpp); checks: tests/static/object_static.cpp.

#include <atrest/object/metadata.hpp>
#include <atrest/secret_bytes.hpp>

#include <concepts>
#include <string_view>

namespace atrest {

/// `type()` is the SSE domain bound into the key-encryption key. `issue(path, m)` gives a
/// 32-byte external key for a new seal of the object at `path` ("bucket/object") and records in
/// `m` what `recover` needs to get it back (SSE-S3: the key id and the sealed data key; SSE-C:
/// nothing). `recover(m, path)` gives back the external key `m` was sealed under, or throws a
/// typed `atrest::error` (`errc::wrong_key` when it cannot).
template <class K>
concept external_key_source = requires(K& k, const K& ck, std::string_view path, object_metadata& m,
                                       const object_metadata& cm) {
    { ck.type() } -> std::same_as<sse_type>;
    { k.issue(path, m) } -> std::same_as<secret_bytes>;
    { k.recover(cm, path) } -> std::same_as<secret_bytes>;
};

}  // namespace atrest
