#pragma once
/// The two external-key sources of MinIO's design. `client_key`: SSE-C, the 32-byte key a client
/// sends with every request and the store never keeps. `kms_data_key<S>`: SSE-S3 (or SSE-KMS), a
/// fresh 32-byte data key per seal, itself sealed by any master_key_source — a key file, a KMS —
/// with the object's "bucket/object" as associated data, and kept in the object's metadata.

#include <atrest/error.hpp>
#include <atrest/master_key/concepts.hpp>
#include <atrest/object/concepts.hpp>
#include <atrest/object/metadata.hpp>
#include <atrest/secret_bytes.hpp>

#include <span>
#include <string>
#include <string_view>
#include <utility>

namespace atrest {

class client_key final {
public:
    /// Throws `errc::invalid_key_size` unless `key` is 32 bytes (S3's SSE-C: AES-256 keys).
    explicit client_key(std::span<const std::byte> key) : m_key(key) {
        if (m_key.size() != 32) {
            throw error(errc::invalid_key_size, "an SSE-C client key is 32 bytes, got " + std::to_string(m_key.size()));
        }
    }
    [[nodiscard]] sse_type type() const noexcept { return sse_type::sse_c; }
    [[nodiscard]] secret_bytes issue(std::string_view, object_metadata&) { return m_key.clone(); }
    [[nodiscard]] secret_bytes recover(const object_metadata&, std::string_view) { return m_key.clone(); }

private:
    secret_bytes m_key;
};

template <master_key_source S>
class kms_data_key final {
public:
    /// `type` is `sse_s3` (the default) or `sse_kms`: only the domain and the entry name differ.
    explicit kms_data_key(S source, sse_type type = sse_type::sse_s3) : m_source(std::move(source)), m_type(type) {
        if (m_type == sse_type::sse_c) throw error(errc::invalid_argument, "a key-service data key is SSE-S3 or SSE-KMS, not SSE-C");
    }
    [[nodiscard]] sse_type type() const noexcept { return m_type; }

    /// A fresh data key, sealed by the source with `path` as associated data. Refuses a source
    /// that protects nothing (`plaintext_master_key`): `errc::insecure`.
    [[nodiscard]] secret_bytes issue(std::string_view path, object_metadata& m) {
        if (!m_source.is_secure()) {
            throw error(errc::insecure, "object '" + std::string(path) + "': " + m_source.describe() +
                                            " protects nothing; SSE-S3 needs a master key or a KMS");
        }
        detail::prepare_seal(m_source);
        auto dek = secret_bytes::random(32);
        m.sealed_data_key = m_source.seal(dek.bytes(), as_aad(path));
        m.key_id = printable(m_source.describe());
        return dek;
    }

    /// The data key back from the source; its failures keep their kind and name the object.
    [[nodiscard]] secret_bytes recover(const object_metadata& m, std::string_view path) {
        try {
            auto opened = m_source.open(m.sealed_data_key, as_aad(path));
            if (opened.data.size() != 32) {
                throw error(errc::corrupt, "the data key is " + std::to_string(opened.data.size()) + " bytes, not 32");
            }
            return std::move(opened.data);
        } catch (const error& e) {
            throw error(e.kind(), "object '" + std::string(path) + "': the data key sealed by '" + m.key_id +
                                      "' does not open with " + m_source.describe() + ": " + e.what());
        }
    }

    [[nodiscard]] S& source() noexcept { return m_source; }

private:
    static std::span<const std::byte> as_aad(std::string_view path) noexcept {
        return std::as_bytes(std::span(path.data(), path.size()));
    }
    static std::string printable(std::string s) {
        for (auto& c : s) {
            if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
        }
        return s.empty() ? std::string("unnamed key source") : s;
    }

    S m_source;
    sse_type m_type;
};

static_assert(external_key_source<client_key>);

}  // namespace atrest
