#pragma once
/// A master key held in AWS KMS (TiKV's `type = "kms"`), modelling `master_key_source`. TiKV's
/// flow: the first seal asks KMS for one data key (GenerateDataKey, AES_256); that key seals
/// key.dict with AES-256-GCM, and the KMS ciphertext blob, key id and vendor are stored in front
/// of the sealed bytes (docs/format.md, backend byte 0x03). Opening sends the blob to KMS once
/// (Decrypt); the data key is then cached for the process, so re-sealing key.dict (new data keys,
/// rotation) needs no KMS call, and neither does another open of the same blob in this process.
///
/// Rotation works like every master key: a blob of another backend, or of a KMS key that is
/// certainly another one, is `errc::wrong_key` without a call; so is KMS's own refusal to decrypt
/// (IncorrectKeyException, InvalidCiphertextException), so `with_previous` tries the previous key.

#include <atrest/config/encryption_config.hpp>
#include <atrest/keywrap/aes256_gcm_wrap.hpp>
#include <atrest/kms/credentials.hpp>
#include <atrest/kms/kms_client.hpp>
#include <atrest/master_key/sealed_blob.hpp>
#include <atrest/metrics/key_service_observer.hpp>

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace atrest {

namespace detail::kms_blob {

/// The version byte after the backend byte; a blob of another version is `errc::unknown_version`.
inline constexpr std::uint8_t version = 1;
inline constexpr std::size_t max_text = 2048;   // key ids, ARNs and alias ARNs are at most 2048 characters
inline constexpr std::size_t max_blob = 6144;   // KMS's own limit for a CiphertextBlob

/// What is stored in front of the AES-256-GCM body: the whole of it is also the GCM associated data.
struct header final {
    std::string vendor;              ///< "aws"
    std::string key_id;              ///< the configured key-id that generated the data key
    std::string key_arn;             ///< the key ARN KMS answered with
    std::vector<std::byte> ciphertext_blob;

    friend bool operator==(const header&, const header&) = default;
};

inline void put_u16(std::vector<std::byte>& out, std::size_t n) {
    out.push_back(static_cast<std::byte>(n >> 8));
    out.push_back(static_cast<std::byte>(n & 0xff));
}

/// version · u8 len · vendor · u16 len · key id · u16 len · key ARN · u16 len · ciphertext blob.
[[nodiscard]] inline std::vector<std::byte> encode(const header& h) {
    if (h.vendor.size() > 255 || h.key_id.size() > max_text || h.key_arn.size() > max_text ||
        h.ciphertext_blob.empty() || h.ciphertext_blob.size() > max_blob) {
        throw error(errc::invalid_argument, "KMS blob header field too long (vendor <= 255, key id and ARN <= 2048, "
                                            "ciphertext blob 1 to 6144 bytes)");
    }
    std::vector<std::byte> out;
    out.reserve(8 + h.vendor.size() + h.key_id.size() + h.key_arn.size() + h.ciphertext_blob.size());
    out.push_back(static_cast<std::byte>(version));
    out.push_back(static_cast<std::byte>(h.vendor.size()));
    for (char c : h.vendor) out.push_back(static_cast<std::byte>(c));
    put_u16(out, h.key_id.size());
    for (char c : h.key_id) out.push_back(static_cast<std::byte>(c));
    put_u16(out, h.key_arn.size());
    for (char c : h.key_arn) out.push_back(static_cast<std::byte>(c));
    put_u16(out, h.ciphertext_blob.size());
    out.insert(out.end(), h.ciphertext_blob.begin(), h.ciphertext_blob.end());
    return out;
}

/// Reads the header from `body` (the blob after its backend byte); returns it and its length.
/// Anything malformed is `errc::corrupt` naming the field and offset (offsets count the backend byte).
[[nodiscard]] inline std::pair<header, std::size_t> decode(std::span<const std::byte> body, const std::string& who) {
    std::size_t pos = 0;
    auto fail = [&](const std::string& why) -> error {
        return error(errc::corrupt, "KMS-sealed data (" + who + "): " + why + " at byte " + std::to_string(pos + 1));
    };
    auto need = [&](std::size_t n, const char* field) {
        if (body.size() - pos < n) throw fail(std::string("truncated ") + field);
    };
    need(1, "version");
    const auto v = static_cast<std::uint8_t>(body[pos]);
    if (v != version) {
        throw error(errc::unknown_version, "KMS-sealed data (" + who + ") has format version " + std::to_string(v) +
                                               "; this build reads version " + std::to_string(version));
    }
    ++pos;
    auto text = [&](std::size_t len_bytes, std::size_t limit, const char* field) {
        need(len_bytes, field);
        std::size_t n = 0;
        for (std::size_t i = 0; i < len_bytes; ++i) n = n << 8 | static_cast<std::uint8_t>(body[pos + i]);
        if (n > limit) throw fail(std::string(field) + " length " + std::to_string(n) + " over " + std::to_string(limit));
        pos += len_bytes;
        need(n, field);
        std::string out(reinterpret_cast<const char*>(body.data() + pos), n);
        pos += n;
        return out;
    };
    header h;
    h.vendor = text(1, 255, "vendor");
    h.key_id = text(2, max_text, "key id");
    h.key_arn = text(2, max_text, "key ARN");
    need(2, "ciphertext blob");
    const std::size_t n = static_cast<std::size_t>(static_cast<std::uint8_t>(body[pos])) << 8 |
                          static_cast<std::uint8_t>(body[pos + 1]);
    if (n == 0 || n > max_blob) throw fail("ciphertext blob length " + std::to_string(n) + " not in 1..6144");
    pos += 2;
    need(n, "ciphertext blob");
    h.ciphertext_blob.assign(body.begin() + static_cast<std::ptrdiff_t>(pos), body.begin() + static_cast<std::ptrdiff_t>(pos + n));
    pos += n;
    return {std::move(h), pos};
}

/// The key part of a key id or ARN ("1234abcd-…", "mrk-…"), or nullopt for an alias (whose key
/// only KMS knows). A multi-Region key has the same key id in every Region.
[[nodiscard]] inline std::optional<std::string_view> key_part(std::string_view id) {
    if (id.starts_with("arn:")) id = id.substr(id.rfind(':') + 1);
    if (id.starts_with("alias/")) return std::nullopt;
    if (id.starts_with("key/")) id.remove_prefix(4);
    return id;
}

/// Data keys opened (or generated) in this process, by (endpoint, configured key id, ciphertext
/// blob): a second open of the same key dictionary in this process sends no Decrypt.
class data_key_cache final {
public:
    [[nodiscard]] static data_key_cache& instance() {
        static data_key_cache* cache = new data_key_cache;  // never destroyed: usable during exit
        return *cache;
    }
    [[nodiscard]] std::shared_ptr<const secret_bytes> find(const std::string& key) const {
        std::lock_guard lock(m_mutex);
        const auto it = m_keys.find(key);
        return it == m_keys.end() ? nullptr : it->second;
    }
    void put(std::string key, std::shared_ptr<const secret_bytes> value) {
        std::lock_guard lock(m_mutex);
        m_keys[std::move(key)] = std::move(value);
    }
    void clear() {
        std::lock_guard lock(m_mutex);
        m_keys.clear();
    }

private:
    mutable std::mutex m_mutex;
    std::map<std::string, std::shared_ptr<const secret_bytes>> m_keys;
};

}  // namespace detail::kms_blob

template <key_wrap_policy Wrap = aes256_gcm_wrap>
class aws_kms_master_key final {
public:
    /// From a checked `type = "kms"` section: credentials are resolved now (config, environment,
    /// shared file); nothing is sent until the first seal or open.
    aws_kms_master_key(const master_key_config& config, std::string_view section, key_service_observer observer = {})
        : aws_kms_master_key(aws::kms_settings::from(config, section),
                             aws::resolve_credentials(aws::credential_sources::from_environment(
                                 config.access_key, config.secret_access_key, std::string(section))),
                             std::move(observer)) {}

    aws_kms_master_key(aws::kms_settings settings, aws::credentials creds, key_service_observer observer = {})
        : m_client(std::make_unique<aws::kms_client>(std::move(settings), std::move(creds), std::move(observer))) {}

    /// Seals under the process's data key for this KMS key: the one opened from key.dict, or one
    /// new GenerateDataKey the first time (a KMS failure then throws before anything is written).
    [[nodiscard]] std::vector<std::byte> seal(std::span<const std::byte> data, std::span<const std::byte> aad) {
        prepare_seal();
        const auto body = Wrap::seal(m_current->key->bytes(), data, bound_aad(aad, m_current->encoded));
        std::vector<std::byte> out;
        out.reserve(1 + m_current->encoded.size() + body.size());
        out.push_back(static_cast<std::byte>(sealed_backend::kms));
        out.insert(out.end(), m_current->encoded.begin(), m_current->encoded.end());
        out.insert(out.end(), body.begin(), body.end());
        return out;
    }

    [[nodiscard]] unsealed open(std::span<const std::byte> sealed, std::span<const std::byte> aad) {
        const std::string who = describe();
        detail::expect_backend(sealed, sealed_backend::kms, who);
        auto [h, header_size] = detail::kms_blob::decode(sealed.subspan(1), who);
        const auto encoded = std::vector<std::byte>(sealed.begin() + 1, sealed.begin() + 1 + static_cast<std::ptrdiff_t>(header_size));
        if (h.vendor != vendor) {
            throw error(errc::wrong_key, "the data was sealed by a KMS of vendor " + atrest::detail::quoted(h.vendor) +
                                             ", not by " + who);
        }
        const auto mine = detail::kms_blob::key_part(m_client->settings().key_id);
        const auto theirs = detail::kms_blob::key_part(h.key_arn);
        if (mine && theirs && *mine != *theirs) {
            throw error(errc::wrong_key, "the data was sealed under KMS key " + atrest::detail::quoted(h.key_arn) +
                                             ", not under " + who);
        }
        auto key = detail::kms_blob::data_key_cache::instance().find(cache_key(h.ciphertext_blob));
        if (!key) {
            auto decrypted = m_client->decrypt(h.ciphertext_blob);
            key = std::make_shared<const secret_bytes>(std::move(decrypted.plaintext));
        }
        secret_bytes plain;
        try {
            plain = Wrap::open(key->bytes(), sealed.subspan(1 + header_size), bound_aad(aad, encoded));
        } catch (const error& e) {
            if (e.kind() != errc::wrong_key) throw;
            throw error(errc::wrong_key, who + " decrypted the data key, but the sealed data does not authenticate "
                                               "under it: the sealed data or its header was changed");
        }
        detail::kms_blob::data_key_cache::instance().put(cache_key(h.ciphertext_blob), key);
        m_current = current{std::move(h), encoded, std::move(key)};
        return {std::move(plain), false};
    }

    /// Makes sure a data key is at hand for `seal`: after an open, the one it decrypted; else one
    /// GenerateDataKey now. open_key_manager calls it before a first start writes anything.
    void prepare_seal() {
        if (m_current) return;
        auto generated = m_client->generate_data_key();
        current c;
        c.header = {std::string(vendor), m_client->settings().key_id, std::move(generated.key_arn),
                    std::move(generated.ciphertext_blob)};
        c.encoded = detail::kms_blob::encode(c.header);
        c.key = std::make_shared<const secret_bytes>(std::move(generated.plaintext));
        detail::kms_blob::data_key_cache::instance().put(cache_key(c.header.ciphertext_blob), c.key);
        m_current = std::move(c);
    }

    [[nodiscard]] std::string describe() const { return "AWS " + m_client->describe(); }
    [[nodiscard]] bool is_secure() const noexcept { return true; }

    /// Requests sent to KMS by this source (every attempt counts), for tests and tools.
    [[nodiscard]] std::size_t requests_sent() const noexcept { return m_client->requests_sent(); }

    /// Forgets every data key cached in this process (tests use it to act as a new process).
    static void clear_process_cache() { detail::kms_blob::data_key_cache::instance().clear(); }

    static constexpr std::string_view vendor = "aws";

private:
    struct current final {
        detail::kms_blob::header header;
        std::vector<std::byte> encoded;
        std::shared_ptr<const secret_bytes> key;
    };

    [[nodiscard]] std::string cache_key(std::span<const std::byte> blob) const {
        std::string k = m_client->origin() + "\n" + m_client->settings().key_id + "\n";
        k.append(reinterpret_cast<const char*>(blob.data()), blob.size());
        return k;
    }

    /// The caller's AAD, the backend byte and the whole header: none of it can be swapped.
    [[nodiscard]] static std::vector<std::byte> bound_aad(std::span<const std::byte> aad, std::span<const std::byte> header) {
        std::vector<std::byte> out(aad.begin(), aad.end());
        out.push_back(static_cast<std::byte>(sealed_backend::kms));
        out.insert(out.end(), header.begin(), header.end());
        return out;
    }

    std::unique_ptr<aws::kms_client> m_client;  // owned by pointer: the source moves, the client does not
    std::optional<current> m_current;
};

static_assert(master_key_source<aws_kms_master_key<>>);

}  // namespace atrest
