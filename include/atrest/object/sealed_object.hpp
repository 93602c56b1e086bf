#pragma once
/// Objects: sealing an object key under an external key (`seal_object_key`), opening it again
/// with precise errors (`unseal_object_key`), re-sealing it under another external key without
/// touching the object's data (`reseal_object_key`: rotation), and the object's data as a DARE
/// 2.0 stream under the object key (`sealed_object_writer`, `sealed_object_reader`; a range read
/// decrypts only the 64 KiB packages it touches). docs/aead.md ("Objects").

#include <atrest/aead/dare.hpp>
#include <atrest/aead/hkdf.hpp>
#include <atrest/aead/stream_reader.hpp>
#include <atrest/aead/stream_writer.hpp>
#include <atrest/detail/botan_compat.hpp>
#include <atrest/detail/random.hpp>
#include <atrest/error.hpp>
#include <atrest/file/concepts.hpp>
#include <atrest/file/posix_file.hpp>
#include <atrest/object/concepts.hpp>
#include <atrest/object/metadata.hpp>
#include <atrest/object/object_key.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace atrest {

namespace detail {

inline constexpr std::string_view key_check_label = "atrest-object-key-check";

/// salt || HMAC-SHA256(external key, "atrest-object-key-check" || salt)[0..16].
[[nodiscard]] inline std::array<std::byte, 32> key_check(std::span<const std::byte> external_key,
                                                         std::span<const std::byte, 16> salt) {
    const auto mac = hmac_sha256(external_key, {std::as_bytes(std::span(key_check_label.data(), key_check_label.size())), salt});
    std::array<std::byte, 32> out{};
    std::memcpy(out.data(), salt.data(), 16);
    std::memcpy(out.data() + 16, mac.data(), 16);
    return out;
}

[[nodiscard]] inline bool key_check_matches(std::span<const std::byte> external_key, const std::array<std::byte, 32>& stored) {
    const auto expect = key_check(external_key, std::span<const std::byte, 16>(stored.data(), 16));
    return botan_compat::constant_time_equal(reinterpret_cast<const std::uint8_t*>(expect.data()),
                                             reinterpret_cast<const std::uint8_t*>(stored.data()), 32);
}

/// Fills `m`'s sealed key (a fresh IV) and key check for `key` under `external`; `m.type` and
/// `m.path` are set.
inline void seal_into(object_metadata& m, std::span<const std::byte> external, const object_key& key) {
    std::array<std::byte, 32> iv{};
    fill_random(iv);
    m.sealed = key.seal(external, iv, m.type, m.path);
    std::array<std::byte, 16> salt{};
    fill_random(salt);
    m.key_check = key_check(external, salt);
}

/// `e` again with "object 'path': " in front, unless the message names the object already.
[[nodiscard]] inline error name_object(const error& e, std::string_view path) {
    const std::string prefix = "object '" + std::string(path) + "'";
    const std::string_view what = e.what();
    if (what.find(prefix) != std::string_view::npos) return e;
    return error(e.kind(), prefix + ": " + std::string(what));
}

}  // namespace detail

/// Seals `key` for the object `bucket`/`object` under a fresh external key from `source`, with a
/// fresh IV: the metadata to keep beside the object.
template <external_key_source K>
[[nodiscard]] object_metadata seal_object_key(K& source, const object_key& key, std::string_view bucket,
                                              std::string_view object) {
    const auto path = object_path(bucket, object);
    object_metadata m;
    m.type = source.type();
    m.path = path;
    const auto external = source.issue(path, m);
    detail::seal_into(m, external.bytes(), key);
    return m;
}

/// The object key `m` holds for `bucket`/`object`. Errors, each naming the object:
/// - `errc::wrong_key`: `source` is of another SSE type, its key is not the one the object was
///   sealed with (SSE-C: the key check says so; SSE-S3: the key service refuses), or — without a
///   key check entry, as in MinIO's own metadata — the sealed key does not open;
/// - `errc::tampered`: the object was sealed for another name (moved or copied without
///   re-sealing), or the key is right and the sealed key, IV or recorded name were changed;
/// - `errc::unsupported`: another sealing algorithm.
template <external_key_source K>
[[nodiscard]] object_key unseal_object_key(K& source, const object_metadata& m, std::string_view bucket,
                                           std::string_view object) {
    const auto path = object_path(bucket, object);
    const auto where = "object '" + path + "'";
    if (m.type != source.type()) {
        throw error(errc::wrong_key, where + " was sealed with " + std::string(domain_of(m.type)) + ", not " +
                                         std::string(domain_of(source.type())));
    }
    if (m.sealed.algorithm != seal_algorithm) {
        throw error(errc::unsupported, where + ": sealing algorithm '" + m.sealed.algorithm + "' is not supported (only " +
                                           std::string(seal_algorithm) + ")");
    }
    if (!m.path.empty() && m.path != path) {
        throw error(errc::tampered, where + ": its key was sealed for '" + m.path +
                                        "': the object was moved or copied without re-sealing its key (or the "
                                        "metadata belongs to another object)");
    }
    const auto external = source.recover(m, path);
    if (m.key_check && !detail::key_check_matches(external.bytes(), *m.key_check)) {
        throw error(errc::wrong_key, where + ": the " +
                                         std::string(m.type == sse_type::sse_c ? "client key" : "data key") +
                                         " is not the one the object was sealed with");
    }
    auto key = object_key::unseal(external.bytes(), m.sealed, m.type, path);
    if (!key) {
        if (m.key_check) {
            throw error(errc::tampered, where + ": the key is right but the sealed key does not open: its metadata "
                                                "(sealed key, IV or name) was changed");
        }
        throw error(errc::wrong_key, where + ": the sealed key does not open: a wrong key, changed metadata, or "
                                             "an object moved without re-sealing");
    }
    return std::move(*key);
}

/// Rotation: the object key `m` holds, opened with `from` and sealed again under a fresh external
/// key from `to` (a new client key, or a data key from a new master key or KMS) with a fresh IV.
/// The object's data does not change. Nothing is written: store the result where `m` was.
template <external_key_source From, external_key_source To>
[[nodiscard]] object_metadata reseal_object_key(From& from, To& to, const object_metadata& m, std::string_view bucket,
                                                std::string_view object) {
    const auto key = unseal_object_key(from, m, bucket, object);
    return seal_object_key(to, key, bucket, object);
}

/// Writes an object: a fresh object key sealed under `source`, the data a DARE 2.0 stream
/// (AES-256-GCM) under it. Keep `metadata()` beside the object once `finish()` returned.
template <writable_file File = posix_file>
class sealed_object_writer final {
public:
    using stream_type = sealed_stream_writer<aes256_gcm, dare, File>;

    template <external_key_source K>
    [[nodiscard]] static sealed_object_writer create(File file, K& source, std::string_view bucket, std::string_view object) {
        const auto path = object_path(bucket, object);
        object_metadata m;
        m.type = source.type();
        m.path = path;
        const auto external = source.issue(path, m);
        const auto key = object_key::generate(external.bytes());
        detail::seal_into(m, external.bytes(), key);
        return sealed_object_writer(stream_type::create(std::move(file), key.bytes()), std::move(m));
    }

    void append(std::span<const std::byte> data) { m_stream.append(data); }
    void finish() { m_stream.finish(); }
    void sync() { m_stream.sync(); }
    [[nodiscard]] std::uint64_t size() const noexcept { return m_stream.size(); }
    [[nodiscard]] const object_metadata& metadata() const noexcept { return m_metadata; }
    [[nodiscard]] const File& file() const noexcept { return m_stream.file(); }

private:
    sealed_object_writer(stream_type stream, object_metadata m) : m_stream(std::move(stream)), m_metadata(std::move(m)) {}

    stream_type m_stream;
    object_metadata m_metadata;
};

/// Reads an object at any byte range: opens its key (`unseal_object_key`'s errors), then reads
/// the DARE stream with either of DARE's ciphers (what the first package says). A changed,
/// cut or swapped object is `errc::integrity` / `errc::truncated` naming the object.
template <random_access_file File = posix_file>
class sealed_object_reader final {
public:
    template <external_key_source K>
    sealed_object_reader(File file, K& source, const object_metadata& m, std::string_view bucket, std::string_view object)
        : m_path(object_path(bucket, object)), m_reader(open(std::move(file), unseal_object_key(source, m, bucket, object), m_path)) {}

    [[nodiscard]] std::uint64_t size() const noexcept {
        return std::visit([](const auto& r) { return r.size(); }, m_reader);
    }

    [[nodiscard]] std::size_t read_at(std::uint64_t offset, std::span<std::byte> out) {
        try {
            return std::visit([&](auto& r) { return r.read_at(offset, out); }, m_reader);
        } catch (const error& e) {
            throw detail::name_object(e, m_path);
        }
    }

    void verify() {
        try {
            std::visit([](auto& r) { r.verify(); }, m_reader);
        } catch (const error& e) {
            throw detail::name_object(e, m_path);
        }
    }

    [[nodiscard]] const File& file() const noexcept {
        return std::visit([](const auto& r) -> const File& { return r.file(); }, m_reader);
    }

private:
    using aes_reader = sealed_stream_reader<aes256_gcm, dare, File>;
    using chacha_reader = sealed_stream_reader<chacha20_poly1305, dare, File>;
    using reader = std::variant<aes_reader, chacha_reader>;

    static reader open(File file, const object_key& key, const std::string& path) {
        try {
            std::array<std::byte, 2> head{};
            const auto n = file.read_at(0, head);
            if (n == 2 && std::to_integer<unsigned>(head[1]) == dare::cipher_id<chacha20_poly1305>) {
                return reader(std::in_place_type<chacha_reader>, std::move(file), key.bytes());
            }
            return reader(std::in_place_type<aes_reader>, std::move(file), key.bytes());
        } catch (const error& e) {
            throw detail::name_object(e, path);
        }
    }

    std::string m_path;
    reader m_reader;
};

}  // namespace atrest
