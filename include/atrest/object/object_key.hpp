#pragma once
/// MinIO's object keys (its internal/crypto package's design, byte for byte): every object is
/// encrypted under its own random 256-bit object key, stored only sealed —
///
///     IV        = 32 random bytes
///     KEK       = HMAC-SHA256(external key, IV || domain || "DAREv2-HMAC-SHA256" || bucket "/" object)
///     sealed    = DARE 2.0 (AES-256-GCM, one final package) of the 32-byte object key under KEK: 64 bytes
///
/// where the domain is "SSE-C", "SSE-S3" or "SSE-KMS" and the external key is the client's key
/// (SSE-C) or a data key from a key service (SSE-S3/SSE-KMS). The object's data is a DARE 2.0
/// stream under the object key itself (a multipart upload's part n under `derive_part_key(n)`).
/// A sealed key opens only under the same external key, IV, domain and bucket/object name, so a
/// wrong key or a moved object fails to unseal. docs/aead.md ("Objects"), docs/format.md.

#include <atrest/aead/dare.hpp>
#include <atrest/aead/hkdf.hpp>
#include <atrest/aead/memory_file.hpp>
#include <atrest/aead/stream_reader.hpp>
#include <atrest/aead/stream_writer.hpp>
#include <atrest/detail/botan_compat.hpp>
#include <atrest/detail/endian.hpp>
#include <atrest/detail/random.hpp>
#include <atrest/error.hpp>
#include <atrest/secret_bytes.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace atrest {

/// Which server-side encryption sealed an object key: the domain string in its KEK.
enum class sse_type : std::uint8_t { sse_c, sse_s3, sse_kms };

[[nodiscard]] constexpr std::string_view domain_of(sse_type t) noexcept {
    switch (t) {
        case sse_type::sse_c: return "SSE-C";
        case sse_type::sse_s3: return "SSE-S3";
        case sse_type::sse_kms: return "SSE-KMS";
    }
    return "?";
}

/// MinIO's `SealAlgorithm`: the only sealing algorithm written and read (MinIO's older
/// "DARE-SHA256", whose KEK ignores the object's name, is refused as unsupported).
inline constexpr std::string_view seal_algorithm = "DAREv2-HMAC-SHA256";

/// "bucket/object", the name a sealed key is bound to. MinIO forms it with Go's `path.Join`,
/// which also cleans the path; to give every object one name, names `path.Join` would rewrite
/// (an empty bucket or object, a bucket with '/', an object starting or ending with '/', with
/// "//", or with a "." or ".." component) are refused, so the name is always bucket + "/" + object.
[[nodiscard]] inline std::string object_path(std::string_view bucket, std::string_view object) {
    const auto bad = [&](std::string_view why) {
        return error(errc::invalid_argument, "object name '" + std::string(bucket) + "/" + std::string(object) + "': " +
                                                 std::string(why));
    };
    if (bucket.empty() || object.empty()) throw bad("bucket and object must not be empty");
    if (bucket.find('/') != std::string_view::npos) throw bad("a bucket name has no '/'");
    if (bucket == "." || bucket == "..") throw bad("a bucket is not named '.' or '..'");
    if (bucket.find('\0') != std::string_view::npos || object.find('\0') != std::string_view::npos) {
        throw bad("a name has no NUL byte");
    }
    for (std::size_t start = 0;;) {
        const auto slash = object.find('/', start);
        const auto part = object.substr(start, slash == std::string_view::npos ? std::string_view::npos : slash - start);
        if (part.empty()) throw bad("an object name has no empty component (leading, trailing or double '/')");
        if (part == "." || part == "..") throw bad("an object name has no '.' or '..' component");
        if (slash == std::string_view::npos) break;
        start = slash + 1;
    }
    return std::string(bucket) + "/" + std::string(object);
}

/// A sealed object key as an object store keeps it: MinIO's `SealedKey`.
struct sealed_key final {
    std::array<std::byte, 64> key{};  ///< DARE 2.0: package header (16) || encrypted object key (32) || tag (16)
    std::array<std::byte, 32> iv{};   ///< random per seal
    std::string algorithm = std::string(seal_algorithm);
};

class object_key final {
public:
    static constexpr std::size_t size = 32;

    /// A fresh key for one object, as MinIO makes it: SHA-256(external key || 32 random bytes).
    [[nodiscard]] static object_key generate(std::span<const std::byte> external_key) {
        check_external(external_key);
        std::array<std::byte, 32> nonce{};
        detail::fill_random(nonce);
        auto sha = detail::botan_compat::make_hash("SHA-256");
        sha->update(reinterpret_cast<const std::uint8_t*>(external_key.data()), external_key.size());
        sha->update(reinterpret_cast<const std::uint8_t*>(nonce.data()), nonce.size());
        secret_bytes key(size);
        sha->final(reinterpret_cast<std::uint8_t*>(key.mutable_bytes().data()));
        return object_key(std::move(key));
    }

    /// A given key (tests, known answers); 32 bytes.
    [[nodiscard]] static object_key from_bytes(std::span<const std::byte> key) {
        if (key.size() != size) {
            throw error(errc::invalid_key_size, "an object key is 32 bytes, got " + std::to_string(key.size()));
        }
        return object_key(secret_bytes(key));
    }

    /// The key that encrypts the object's data (a DARE 2.0 stream).
    [[nodiscard]] std::span<const std::byte> bytes() const noexcept { return m_key.bytes(); }

    /// MinIO's `ObjectKey.Seal`. `o.nonce` fixes the DARE nonce for known-answer tests only.
    [[nodiscard]] sealed_key seal(std::span<const std::byte> external_key, const std::array<std::byte, 32>& iv,
                                  sse_type domain, std::string_view path, const dare::options& o = {}) const {
        check_external(external_key);
        const auto kek = key_encryption_key(external_key, iv, domain, path);
        auto w = sealed_stream_writer<aes256_gcm, dare, memory_file>::create(memory_file("sealed object key"), kek.bytes(), o);
        w.append(m_key.bytes());
        w.finish();
        sealed_key out;
        std::memcpy(out.key.data(), w.file().bytes().data(), out.key.size());
        out.iv = iv;
        return out;
    }

    /// MinIO's `ObjectKey.Unseal`: nothing when the sealed key does not open (another external
    /// key, IV, domain or name, or changed bytes — MinIO's ErrSecretKeyMismatch); either DARE
    /// cipher is read (sio seals with ChaCha20-Poly1305 on machines without AES instructions).
    /// Throws `errc::unsupported` for another algorithm.
    [[nodiscard]] static std::optional<object_key> unseal(std::span<const std::byte> external_key, const sealed_key& sealed,
                                                          sse_type domain, std::string_view path) {
        if (sealed.algorithm != seal_algorithm) {
            throw error(errc::unsupported, "object '" + std::string(path) + "': sealing algorithm '" + sealed.algorithm +
                                               "' is not supported (only " + std::string(seal_algorithm) + ")");
        }
        if (external_key.size() != 32) return std::nullopt;
        const auto kek = key_encryption_key(external_key, sealed.iv, domain, path);
        const auto cipher = std::to_integer<unsigned>(sealed.key[1]);
        if (cipher == dare::cipher_id<aes256_gcm>) return open_sealed<aes256_gcm>(kek, sealed);
        if (cipher == dare::cipher_id<chacha20_poly1305>) return open_sealed<chacha20_poly1305>(kek, sealed);
        return std::nullopt;
    }

    /// MinIO's `DerivePartKey`: HMAC-SHA256(object key, LE32(part)), the key of a multipart
    /// upload's part.
    [[nodiscard]] secret_bytes derive_part_key(std::uint32_t part) const {
        std::array<std::byte, 4> id{};
        detail::store_le(id.data(), part);
        return detail::hmac_sha256(m_key.bytes(), {id});
    }

    /// HMAC-SHA256(external key, IV || domain || "DAREv2-HMAC-SHA256" || path).
    [[nodiscard]] static secret_bytes key_encryption_key(std::span<const std::byte> external_key,
                                                         std::span<const std::byte, 32> iv, sse_type domain,
                                                         std::string_view path) {
        const auto d = domain_of(domain);
        return detail::hmac_sha256(external_key, {iv, std::as_bytes(std::span(d.data(), d.size())),
                                                  std::as_bytes(std::span(seal_algorithm.data(), seal_algorithm.size())),
                                                  std::as_bytes(std::span(path.data(), path.size()))});
    }

private:
    explicit object_key(secret_bytes key) : m_key(std::move(key)) {}

    static void check_external(std::span<const std::byte> external_key) {
        if (external_key.size() != 32) {
            throw error(errc::invalid_key_size, "an external key (client key or data key) is 32 bytes, got " +
                                                    std::to_string(external_key.size()));
        }
    }

    template <class A>
    [[nodiscard]] static std::optional<object_key> open_sealed(const secret_bytes& kek, const sealed_key& sealed) {
        try {
            sealed_stream_reader<A, dare, memory_file> r(
                memory_file("sealed object key", std::vector<std::byte>(sealed.key.begin(), sealed.key.end())), kek.bytes());
            if (r.size() != size) return std::nullopt;
            secret_bytes key(size);
            if (r.read_at(0, key.mutable_bytes()) != size) return std::nullopt;
            return object_key(std::move(key));
        } catch (const error&) {
            return std::nullopt;
        }
    }

    secret_bytes m_key;
};

}  // namespace atrest
