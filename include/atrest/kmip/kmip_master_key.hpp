#pragma once
/// A master key held in a KMIP key manager (`type = "kmip"`), modelling `master_key_source`.
/// Two modes:
///   - `wrap` (the default): the AES-256 key never leaves the server. The first seal makes a
///     random 32-byte data key here and has the server Encrypt it (AES-CBC, PKCS#5 padding, an IV
///     of ours); that data key seals key.dict with AES-256-GCM, and the wrapped data key, IV and
///     key id are stored in front of the sealed bytes (docs/format.md, backend byte 0x04). Opening
///     sends the wrapped data key to the server once (Decrypt).
///   - `get`: for servers without Encrypt/Decrypt. The key is fetched (Get, after checking it is
///     Active) and seals key.dict itself with AES-256-GCM, as pg_tde does.
/// After an open, the data key (or fetched key) is kept, so re-sealing key.dict (new data keys,
/// rotation) needs no call. Rotation works like every master key: another backend's blob, or one
/// sealed under another Unique Identifier, is `errc::wrong_key` without a call, and so is the
/// server's Cryptographic Failure on Decrypt and a data key that does not authenticate, so
/// `with_previous` tries the previous key.

#include <atrest/config/encryption_config.hpp>
#include <atrest/detail/random.hpp>
#include <atrest/keywrap/aes256_gcm_wrap.hpp>
#include <atrest/kmip/kmip_client.hpp>
#include <atrest/master_key/sealed_blob.hpp>
#include <atrest/metrics/key_service_observer.hpp>

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace atrest {

namespace detail::kmip_blob {

/// The version byte after the backend byte; a blob of another version is `errc::unknown_version`.
inline constexpr std::uint8_t version = 1;
inline constexpr std::size_t max_key_id = 1024;
inline constexpr std::size_t max_wrapped = 64;  // 32 bytes of data key + one block of padding

/// What is stored in front of the AES-256-GCM body; all of it is also the GCM associated data.
struct header final {
    master_key_config::kmip_mode mode = master_key_config::kmip_mode::wrap;
    std::string key_id;                      ///< the Unique Identifier of the KMIP key
    std::array<std::byte, 16> iv{};          ///< wrap mode: the AES-CBC IV of the wrapped data key
    std::vector<std::byte> wrapped_key;      ///< wrap mode: the data key as the server encrypted it

    friend bool operator==(const header&, const header&) = default;
};

/// version · mode (1 wrap, 2 get) · u16 len · key id [· IV (16) · u8 len · wrapped data key].
[[nodiscard]] inline std::vector<std::byte> encode(const header& h) {
    const bool wrap = h.mode == master_key_config::kmip_mode::wrap;
    if (h.key_id.empty() || h.key_id.size() > max_key_id ||
        (wrap && (h.wrapped_key.empty() || h.wrapped_key.size() > max_wrapped))) {
        throw error(errc::invalid_argument, "KMIP blob header field out of range (key id 1 to 1024 bytes, wrapped key "
                                            "1 to 64 bytes)");
    }
    std::vector<std::byte> out;
    out.push_back(static_cast<std::byte>(version));
    out.push_back(static_cast<std::byte>(wrap ? 1 : 2));
    out.push_back(static_cast<std::byte>(h.key_id.size() >> 8));
    out.push_back(static_cast<std::byte>(h.key_id.size() & 0xff));
    for (char c : h.key_id) out.push_back(static_cast<std::byte>(c));
    if (wrap) {
        out.insert(out.end(), h.iv.begin(), h.iv.end());
        out.push_back(static_cast<std::byte>(h.wrapped_key.size()));
        out.insert(out.end(), h.wrapped_key.begin(), h.wrapped_key.end());
    }
    return out;
}

/// Reads the header from `body` (the blob after its backend byte); returns it and its length.
/// Anything malformed is `errc::corrupt` naming the field and offset (offsets count the backend byte).
[[nodiscard]] inline std::pair<header, std::size_t> decode(std::span<const std::byte> body, const std::string& who) {
    std::size_t pos = 0;
    auto fail = [&](const std::string& why) {
        return error(errc::corrupt, "KMIP-sealed data (" + who + "): " + why + " at byte " + std::to_string(pos + 1));
    };
    auto need = [&](std::size_t n, const char* field) {
        if (body.size() - pos < n) throw fail(std::string("truncated ") + field);
    };
    need(1, "version");
    const auto v = static_cast<std::uint8_t>(body[pos]);
    if (v != version) {
        throw error(errc::unknown_version, "KMIP-sealed data (" + who + ") has format version " + std::to_string(v) +
                                               "; this build reads version " + std::to_string(version));
    }
    ++pos;
    need(1, "mode");
    const auto m = static_cast<std::uint8_t>(body[pos]);
    if (m != 1 && m != 2) throw fail("unknown mode " + std::to_string(m) + " (1 wrap, 2 get)");
    header h;
    h.mode = m == 1 ? master_key_config::kmip_mode::wrap : master_key_config::kmip_mode::get;
    ++pos;
    need(2, "key id length");
    const std::size_t n = static_cast<std::size_t>(static_cast<std::uint8_t>(body[pos])) << 8 | static_cast<std::uint8_t>(body[pos + 1]);
    if (n == 0 || n > max_key_id) throw fail("key id length " + std::to_string(n) + " not in 1..1024");
    pos += 2;
    need(n, "key id");
    h.key_id.assign(reinterpret_cast<const char*>(body.data() + pos), n);
    pos += n;
    if (h.mode == master_key_config::kmip_mode::wrap) {
        need(h.iv.size(), "IV");
        std::copy_n(body.begin() + static_cast<std::ptrdiff_t>(pos), h.iv.size(), h.iv.begin());
        pos += h.iv.size();
        need(1, "wrapped key length");
        const std::size_t w = static_cast<std::uint8_t>(body[pos]);
        if (w == 0 || w > max_wrapped) throw fail("wrapped key length " + std::to_string(w) + " not in 1..64");
        ++pos;
        need(w, "wrapped key");
        h.wrapped_key.assign(body.begin() + static_cast<std::ptrdiff_t>(pos), body.begin() + static_cast<std::ptrdiff_t>(pos + w));
        pos += w;
    }
    return {std::move(h), pos};
}

}  // namespace detail::kmip_blob

template <key_wrap_policy Wrap = aes256_gcm_wrap>
class kmip_master_key final {
public:
    /// From a checked `type = "kmip"` section; nothing is sent until the first seal or open.
    kmip_master_key(const master_key_config& config, std::string_view section, key_service_observer observer = {})
        : kmip_master_key(kmip::kmip_settings::from(config, section), std::move(observer)) {}

    explicit kmip_master_key(kmip::kmip_settings settings, key_service_observer observer = {})
        : m_client(std::make_unique<kmip::kmip_client>(std::move(settings), std::move(observer))) {}

    [[nodiscard]] std::vector<std::byte> seal(std::span<const std::byte> data, std::span<const std::byte> aad) {
        prepare_seal();
        const auto body = Wrap::seal(m_current->key->bytes(), data, bound_aad(aad, m_current->encoded));
        std::vector<std::byte> out;
        out.reserve(1 + m_current->encoded.size() + body.size());
        out.push_back(static_cast<std::byte>(sealed_backend::kmip));
        out.insert(out.end(), m_current->encoded.begin(), m_current->encoded.end());
        out.insert(out.end(), body.begin(), body.end());
        return out;
    }

    [[nodiscard]] unsealed open(std::span<const std::byte> sealed, std::span<const std::byte> aad) {
        const std::string who = describe();
        detail::expect_backend(sealed, sealed_backend::kmip, who);
        auto [h, header_size] = detail::kmip_blob::decode(sealed.subspan(1), who);
        const std::vector<std::byte> encoded(sealed.begin() + 1, sealed.begin() + 1 + static_cast<std::ptrdiff_t>(header_size));
        const std::string uid = key_id();
        if (h.key_id != uid) {
            throw error(errc::wrong_key, "the data was sealed under KMIP key " + atrest::detail::quoted(h.key_id) +
                                             ", not under " + who + " (Unique Identifier " + atrest::detail::quoted(uid) + ")");
        }
        std::shared_ptr<const secret_bytes> key;
        if (h.mode == master_key_config::kmip_mode::wrap) {
            auto plain = m_client->decrypt(uid, h.wrapped_key, h.iv);
            if (plain.size() != Wrap::key_size) {
                throw error(errc::wrong_key, who + " decrypted the wrapped data key to " + std::to_string(plain.size()) +
                                                 " bytes, not " + std::to_string(Wrap::key_size) +
                                                 ": it was wrapped by another key");
            }
            key = std::make_shared<const secret_bytes>(std::move(plain));
        } else {
            auto fetched = m_client->get_key(uid);
            if (fetched.size() != Wrap::key_size) {
                throw error(errc::kms, who + " is a " + std::to_string(fetched.size() * 8) + "-bit key; an AES-256 key "
                                             "(256 bits) is needed");
            }
            key = std::make_shared<const secret_bytes>(std::move(fetched));
        }
        secret_bytes plain;
        try {
            plain = Wrap::open(key->bytes(), sealed.subspan(1 + header_size), bound_aad(aad, encoded));
        } catch (const error& e) {
            if (e.kind() != errc::wrong_key) throw;
            throw error(errc::wrong_key, who + (h.mode == master_key_config::kmip_mode::wrap
                                                    ? " decrypted the data key, but the sealed data does not "
                                                      "authenticate under it: another key wrapped it, or the data changed"
                                                    : " does not authenticate the sealed data: it was sealed under "
                                                      "another key, or changed"));
        }
        if (h.mode == m_client->settings().mode) m_current = current{std::move(h), encoded, std::move(key)};
        return {std::move(plain), false};
    }

    /// Makes sure a key is at hand for `seal`: after an open, the one it used; else a new data
    /// key wrapped by the server (Encrypt), or the fetched key (Get). open_key_manager calls it
    /// before a first start writes anything.
    void prepare_seal() {
        if (m_current) return;
        current c;
        c.header.mode = m_client->settings().mode;
        c.header.key_id = key_id();
        if (c.header.mode == master_key_config::kmip_mode::wrap) {
            secret_bytes data_key(Wrap::key_size);
            atrest::detail::fill_random(data_key.mutable_bytes());
            atrest::detail::fill_random(c.header.iv);
            c.header.wrapped_key = m_client->encrypt(c.header.key_id, data_key.bytes(), c.header.iv);
            if (c.header.wrapped_key.empty() || c.header.wrapped_key.size() > detail::kmip_blob::max_wrapped) {
                throw error(errc::kms, describe() + ": the server's Encrypt answered " +
                                           std::to_string(c.header.wrapped_key.size()) + " bytes for a 32-byte data key");
            }
            c.key = std::make_shared<const secret_bytes>(std::move(data_key));
        } else {
            auto fetched = m_client->get_key(c.header.key_id);
            if (fetched.size() != Wrap::key_size) {
                throw error(errc::kms, describe() + " is a " + std::to_string(fetched.size() * 8) +
                                           "-bit key; an AES-256 key (256 bits) is needed");
            }
            c.key = std::make_shared<const secret_bytes>(std::move(fetched));
        }
        c.encoded = detail::kmip_blob::encode(c.header);
        m_current = std::move(c);
    }

    [[nodiscard]] std::string describe() const { return m_client->describe(); }
    [[nodiscard]] bool is_secure() const noexcept { return true; }
    /// Requests sent to the server by this source (every attempt counts), for tests and tools.
    [[nodiscard]] std::size_t requests_sent() const noexcept { return m_client->requests_sent(); }
    [[nodiscard]] kmip::kmip_client& client() noexcept { return *m_client; }

private:
    struct current final {
        detail::kmip_blob::header header;
        std::vector<std::byte> encoded;
        std::shared_ptr<const secret_bytes> key;
    };

    /// The configured Unique Identifier, or the one `key-name` locates (once).
    [[nodiscard]] std::string key_id() {
        if (!m_client->settings().key_id.empty()) return m_client->settings().key_id;
        if (m_located.empty()) m_located = m_client->locate(m_client->settings().key_name);
        return m_located;
    }

    /// The caller's AAD, the backend byte and the whole header: none of it can be swapped.
    [[nodiscard]] static std::vector<std::byte> bound_aad(std::span<const std::byte> aad, std::span<const std::byte> header) {
        std::vector<std::byte> out(aad.begin(), aad.end());
        out.push_back(static_cast<std::byte>(sealed_backend::kmip));
        out.insert(out.end(), header.begin(), header.end());
        return out;
    }

    std::unique_ptr<kmip::kmip_client> m_client;  // owned by pointer: the source moves, the client does not
    std::optional<current> m_current;
    std::string m_located;
};

static_assert(master_key_source<kmip_master_key<>>);

}  // namespace atrest
