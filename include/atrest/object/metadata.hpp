#pragma once
/// What an object store keeps beside a sealed object: its sealed key, IV and algorithm (MinIO's
/// internal metadata entries, same names, same values), for SSE-S3/SSE-KMS the sealed data key
/// and its key id, and two entries of ours that turn "does not unseal" into a precise error: the
/// name the key was sealed for (a moved object) and a key check (a wrong client key). As an
/// HTTP-header map (`to_headers`) and as a text file of those headers (`to_text`), both laid out
/// in docs/format.md ("Object metadata").

#include <atrest/error.hpp>
#include <atrest/object/object_key.hpp>

#include <botan/base64.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace atrest {

/// The entry names: MinIO's (internal/crypto/metadata.go) and two of ours.
namespace object_meta {
inline constexpr std::string_view iv = "X-Minio-Internal-Server-Side-Encryption-Iv";
inline constexpr std::string_view algorithm = "X-Minio-Internal-Server-Side-Encryption-Seal-Algorithm";
inline constexpr std::string_view sealed_key_ssec = "X-Minio-Internal-Server-Side-Encryption-Sealed-Key";
inline constexpr std::string_view sealed_key_s3 = "X-Minio-Internal-Server-Side-Encryption-S3-Sealed-Key";
inline constexpr std::string_view sealed_key_kms = "X-Minio-Internal-Server-Side-Encryption-Kms-Sealed-Key";
inline constexpr std::string_view key_id = "X-Minio-Internal-Server-Side-Encryption-S3-Kms-Key-Id";
inline constexpr std::string_view sealed_data_key = "X-Minio-Internal-Server-Side-Encryption-S3-Kms-Sealed-Key";
inline constexpr std::string_view path = "X-Atrest-Object-Path";
inline constexpr std::string_view key_check = "X-Atrest-Key-Check";
/// The first line of `to_text`.
inline constexpr std::string_view text_magic = "atrest-object-metadata 1";
}  // namespace object_meta

struct object_metadata final {
    sse_type type = sse_type::sse_c;
    sealed_key sealed;
    std::string key_id;                    ///< SSE-S3/SSE-KMS: which key service sealed the data key
    std::vector<std::byte> sealed_data_key;  ///< SSE-S3/SSE-KMS: the data key as that service sealed it
    std::string path;                      ///< "bucket/object" it was sealed for (empty: not recorded)
    std::optional<std::array<std::byte, 32>> key_check;  ///< salt(16) || HMAC-SHA256(external key, label || salt)[0..16]

    /// The map an object store keeps (values: base64 with padding, or text).
    [[nodiscard]] std::map<std::string, std::string> to_headers() const {
        std::map<std::string, std::string> m;
        m.emplace(object_meta::iv, base64(sealed.iv));
        m.emplace(object_meta::algorithm, sealed.algorithm);
        m.emplace(sealed_entry(type), base64(sealed.key));
        if (type != sse_type::sse_c) {
            m.emplace(object_meta::key_id, key_id);
            m.emplace(object_meta::sealed_data_key, base64(sealed_data_key));
        }
        if (!path.empty()) m.emplace(object_meta::path, path);
        if (key_check) m.emplace(object_meta::key_check, base64(*key_check));
        return m;
    }

    /// Reads the entries back (others in the map are left alone: an object store keeps more).
    /// Malformed or missing entries are `errc::corrupt` naming `where` and the entry.
    [[nodiscard]] static object_metadata from_headers(const std::map<std::string, std::string>& m, std::string_view where) {
        const auto bad = [&](std::string_view entry, std::string_view why) {
            return error(errc::corrupt, std::string(where) + ": metadata entry " + std::string(entry) + " " + std::string(why));
        };
        const auto get = [&](std::string_view name) -> const std::string* {
            const auto it = m.find(std::string(name));
            return it == m.end() ? nullptr : &it->second;
        };
        object_metadata out;
        int types = 0;
        for (const auto t : {sse_type::sse_c, sse_type::sse_s3, sse_type::sse_kms}) {
            if (const auto* v = get(sealed_entry(t))) {
                ++types;
                out.type = t;
                decode_exact(*v, out.sealed.key, [&](std::string_view why) { return bad(sealed_entry(t), why); });
            }
        }
        if (types != 1) {
            throw error(errc::corrupt, std::string(where) + ": metadata has " + std::to_string(types) +
                                           " sealed-key entries (SSE-C, SSE-S3, SSE-KMS); exactly one is needed");
        }
        const auto* iv = get(object_meta::iv);
        if (iv == nullptr) throw bad(object_meta::iv, "is missing");
        decode_exact(*iv, out.sealed.iv, [&](std::string_view why) { return bad(object_meta::iv, why); });
        const auto* alg = get(object_meta::algorithm);
        if (alg == nullptr) throw bad(object_meta::algorithm, "is missing");
        out.sealed.algorithm = *alg;
        const auto* id = get(object_meta::key_id);
        const auto* dek = get(object_meta::sealed_data_key);
        if (out.type == sse_type::sse_c) {
            if (id != nullptr || dek != nullptr) throw bad(object_meta::key_id, "or the sealed data key is present for SSE-C");
        } else {
            if (id == nullptr || id->empty()) throw bad(object_meta::key_id, "is missing");
            if (dek == nullptr) throw bad(object_meta::sealed_data_key, "is missing");
            out.key_id = *id;
            out.sealed_data_key = decode(*dek, [&](std::string_view why) { return bad(object_meta::sealed_data_key, why); });
            if (out.sealed_data_key.empty()) throw bad(object_meta::sealed_data_key, "is empty");
        }
        if (const auto* p = get(object_meta::path)) {
            if (p->empty()) throw bad(object_meta::path, "is empty");
            out.path = *p;
        }
        if (const auto* kc = get(object_meta::key_check)) {
            std::array<std::byte, 32> check{};
            decode_exact(*kc, check, [&](std::string_view why) { return bad(object_meta::key_check, why); });
            out.key_check = check;
        }
        return out;
    }

    /// A text file: the line `atrest-object-metadata 1`, then one `Name: value` line per entry in
    /// byte order of the names, each ending in '\n'.
    [[nodiscard]] std::string to_text() const {
        std::string out(object_meta::text_magic);
        out += '\n';
        for (const auto& [k, v] : to_headers()) out += k + ": " + v + "\n";
        return out;
    }

    /// Strict: the first line, known names only, each once, no control characters, a final '\n'.
    [[nodiscard]] static object_metadata from_text(std::string_view text, std::string_view where) {
        const auto bad = [&](std::size_t line, std::string_view why) {
            return error(errc::corrupt, std::string(where) + ": line " + std::to_string(line) + ": " + std::string(why));
        };
        std::map<std::string, std::string> m;
        std::size_t line = 0;
        while (!text.empty()) {
            ++line;
            const auto nl = text.find('\n');
            if (nl == std::string_view::npos) throw bad(line, "does not end in a newline");
            const auto l = text.substr(0, nl);
            text.remove_prefix(nl + 1);
            for (char c : l) {
                if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) throw bad(line, "has a control character");
            }
            if (line == 1) {
                if (l != object_meta::text_magic) {
                    throw error(l.starts_with("atrest-object-metadata ") ? errc::unknown_version : errc::corrupt,
                                std::string(where) + ": not atrest object metadata (the first line is not '" +
                                    std::string(object_meta::text_magic) + "')");
                }
                continue;
            }
            const auto colon = l.find(": ");
            if (colon == std::string_view::npos) throw bad(line, "is not 'Name: value'");
            std::string name(l.substr(0, colon));
            if (!known(name)) throw bad(line, "names an unknown entry '" + name + "'");
            if (!m.emplace(name, std::string(l.substr(colon + 2))).second) throw bad(line, "repeats " + name);
        }
        if (line == 0) throw error(errc::corrupt, std::string(where) + ": empty, not atrest object metadata");
        return from_headers(m, where);
    }

    [[nodiscard]] static std::string_view sealed_entry(sse_type t) noexcept {
        switch (t) {
            case sse_type::sse_c: return object_meta::sealed_key_ssec;
            case sse_type::sse_s3: return object_meta::sealed_key_s3;
            case sse_type::sse_kms: return object_meta::sealed_key_kms;
        }
        return object_meta::sealed_key_ssec;
    }

private:
    [[nodiscard]] static bool known(std::string_view name) noexcept {
        namespace om = object_meta;
        for (auto n : {om::iv, om::algorithm, om::sealed_key_ssec, om::sealed_key_s3, om::sealed_key_kms, om::key_id,
                       om::sealed_data_key, om::path, om::key_check}) {
            if (n == name) return true;
        }
        return false;
    }

    [[nodiscard]] static std::string base64(std::span<const std::byte> b) {
        return Botan::base64_encode(reinterpret_cast<const std::uint8_t*>(b.data()), b.size());
    }

    /// Standard base64 with padding, canonical (what `base64` gives for the decoded bytes).
    template <class Bad>
    [[nodiscard]] static std::vector<std::byte> decode(const std::string& text, const Bad& bad) {
        if (text.size() % 4 != 0) throw bad("is not base64 (length " + std::to_string(text.size()) + ")");
        for (char c : text) {
            if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '/' || c == '=')) {
                throw bad("is not base64");
            }
        }
        std::vector<std::byte> out;
        try {
            const auto v = Botan::base64_decode(text, false);
            out.resize(v.size());
            if (!v.empty()) std::memcpy(out.data(), v.data(), v.size());
        } catch (const std::exception&) {
            throw bad("is not base64");
        }
        if (base64(out) != text) throw bad("is not canonical base64");
        return out;
    }

    template <std::size_t N, class Bad>
    static void decode_exact(const std::string& text, std::array<std::byte, N>& out, const Bad& bad) {
        const auto v = decode(text, bad);
        if (v.size() != N) throw bad("holds " + std::to_string(v.size()) + " bytes, not " + std::to_string(N));
        std::memcpy(out.data(), v.data(), N);
    }
};

}  // namespace atrest
