#pragma once
/// A small KMIP 1.x client: the operations a master key needs (Discover Versions, Locate, Get,
/// Get Attributes, Encrypt, Decrypt) and those that set one up in tests and tools (Create,
/// Activate, Revoke, Destroy). Each operation runs on a new TLS connection (detail/tls_stream.hpp)
/// that reads the certificates again; the protocol version is negotiated with Discover Versions
/// on the first connection (KMIP 1.2 preferred, 1.1 accepted) and kept.
///
/// Failures: network errors (refused, reset, timed out) are retried with backoff until the
/// deadline (`timeout`), then "KMIP server unavailable" with the last error; TLS failures and the
/// server's refusals are not retried and name what the server said. Every message is `errc::kms`,
/// except a Decrypt the server cannot complete (Cryptographic Failure), which is `errc::wrong_key`.

#include <atrest/config/encryption_config.hpp>
#include <atrest/detail/random.hpp>
#include <atrest/error.hpp>
#include <atrest/kmip/detail/tls_stream.hpp>
#include <atrest/kmip/ttlv.hpp>
#include <atrest/metrics/key_service_observer.hpp>
#include <atrest/secret_bytes.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace atrest::kmip {

/// KMIP enumeration values used here (KMIP 1.x, 9.1.3.2).
namespace op {
inline constexpr std::uint32_t create = 0x01, locate = 0x08, get = 0x0A, get_attributes = 0x0B, activate = 0x12,
                               revoke = 0x13, destroy = 0x14, discover_versions = 0x1E, encrypt = 0x1F, decrypt = 0x20;
}
namespace reason {
inline constexpr std::uint32_t item_not_found = 0x01, authentication_not_successful = 0x03,
                               operation_not_supported = 0x05, cryptographic_failure = 0x0A, permission_denied = 0x0C,
                               general_failure = 0x100;
}

/// A key's life-cycle state (KMIP 1.x 9.1.3.2.17).
enum class key_state : std::uint32_t { pre_active = 1, active = 2, deactivated = 3, compromised = 4, destroyed = 5, destroyed_compromised = 6 };

[[nodiscard]] constexpr std::string_view to_string(key_state s) noexcept {
    switch (s) {
        case key_state::pre_active: return "Pre-Active";
        case key_state::active: return "Active";
        case key_state::deactivated: return "Deactivated";
        case key_state::compromised: return "Compromised";
        case key_state::destroyed: return "Destroyed";
        case key_state::destroyed_compromised: return "Destroyed Compromised";
    }
    return "unknown";
}

struct protocol_version final {
    std::int32_t major = 1;
    std::int32_t minor = 2;
    friend auto operator<=>(const protocol_version&, const protocol_version&) = default;
};

[[nodiscard]] inline std::string to_string(protocol_version v) {
    return std::to_string(v.major) + "." + std::to_string(v.minor);
}

/// The versions this client speaks, preferred first.
inline constexpr std::array<protocol_version, 2> client_versions = {protocol_version{1, 2}, protocol_version{1, 1}};

/// AES-CBC with PKCS#5 padding: what server-side wrapping asks for (see docs/kms.md for why not GCM).
inline constexpr std::size_t wrap_iv_size = 16;

struct kmip_settings final {
    std::string host;
    std::uint16_t port = atrest::detail::default_kmip_port;
    std::string key_id;    ///< the Unique Identifier, or empty when `key_name` is located
    std::string key_name;
    master_key_config::kmip_mode mode = master_key_config::kmip_mode::wrap;
    tls_config tls;
    std::chrono::milliseconds timeout = master_key_config::default_key_service_timeout;
    std::string section = std::string(master_key_section);

    /// From a checked `type = "kmip"` section.
    [[nodiscard]] static kmip_settings from(const master_key_config& c, std::string_view section) {
        const auto e = atrest::detail::parse_kmip_endpoint(c.endpoint, std::string(section) + ".endpoint");
        return {e.host, e.port, c.key_id, c.key_name, c.mode, c.tls, c.timeout, std::string(section)};
    }
};

/// What the server answered to one request that did not succeed.
struct kmip_refusal final {
    std::uint32_t reason = 0;
    std::string message;
};

class kmip_client final {
public:
    explicit kmip_client(kmip_settings settings, key_service_observer observer = {})
        : m_settings(std::move(settings)), m_observer(std::move(observer)) {}

    [[nodiscard]] const kmip_settings& settings() const noexcept { return m_settings; }
    [[nodiscard]] std::string origin() const { return m_settings.host + ":" + std::to_string(m_settings.port); }
    [[nodiscard]] std::string describe() const {
        return "KMIP key " +
               (m_settings.key_id.empty() ? "named " + atrest::detail::quoted(m_settings.key_name)
                                          : atrest::detail::quoted(m_settings.key_id)) +
               " at " + origin();
    }
    /// The negotiated protocol version (after the first operation).
    [[nodiscard]] std::optional<protocol_version> version() const noexcept { return m_version; }
    /// Requests sent (every attempt counts), for tests and tools.
    [[nodiscard]] std::size_t requests_sent() const noexcept { return m_requests; }

    // ---- operations --------------------------------------------------------------------------

    /// The Unique Identifier of the one object named `name`; none or several is `errc::kms`.
    [[nodiscard]] std::string locate(const std::string& name) {
        const auto r = call(kms_operation::decrypt, op::locate, {name_attribute(name)}, "Locate " + atrest::detail::quoted(name));
        std::vector<std::string> ids;
        for (const auto& c : r.children) {
            if (c.tag == tag::unique_identifier) ids.push_back(c.text());
        }
        if (ids.size() != 1) {
            throw error(errc::kms, "KMIP server " + origin() + " has " + std::to_string(ids.size()) + " objects named " +
                                       atrest::detail::quoted(name) + " (" + m_settings.section +
                                       ".key-name); exactly one is needed" +
                                       (ids.empty() ? ": create it, or set key-id to its Unique Identifier" : ""));
        }
        return ids.front();
    }

    /// The raw bytes of symmetric key `uid` (Get), after checking it is Active.
    [[nodiscard]] secret_bytes get_key(const std::string& uid) {
        const auto st = state(uid);
        if (st != key_state::active) throw not_active(uid, st, "Get");
        auto r = call(kms_operation::decrypt, op::get,
                      {text_string(tag::unique_identifier, uid), enumeration(tag::key_format_type, 1 /* Raw */)},
                      "Get of key " + atrest::detail::quoted(uid));
        const item* block = nullptr;
        if (const item* key = r.find(tag::symmetric_key)) block = key->find(tag::key_block);
        const item* value = block ? block->find(tag::key_value) : nullptr;
        const item* material = value ? value->find(tag::key_material) : nullptr;
        if (material == nullptr || material->type != item_type::byte_string) {
            throw error(errc::kms, "KMIP Get of key " + atrest::detail::quoted(uid) + " at " + origin() +
                                       ": the answer holds no raw symmetric key (is it a symmetric key?)");
        }
        secret_bytes out(std::span<const std::byte>(material->bytes));
        scrub(r);
        return out;
    }

    /// Encrypts `plain` with key `uid` on the server, AES-CBC with PKCS#5 padding under `iv`.
    [[nodiscard]] std::vector<std::byte> encrypt(const std::string& uid, std::span<const std::byte> plain,
                                                 std::span<const std::byte> iv) {
        require_crypto_operations("Encrypt");
        auto r = call(kms_operation::generate_data_key, op::encrypt,
                      {text_string(tag::unique_identifier, uid), cbc_parameters(), byte_string(tag::data, plain),
                       byte_string(tag::iv_counter_nonce, iv)},
                      "Encrypt with key " + atrest::detail::quoted(uid), uid);
        const item* data = r.find(tag::data);
        if (data == nullptr || data->type != item_type::byte_string) {
            throw error(errc::kms, "KMIP Encrypt with key " + atrest::detail::quoted(uid) + " at " + origin() +
                                       ": the answer holds no Data");
        }
        return data->bytes;
    }

    /// Decrypts `wrapped` with key `uid` on the server; a Cryptographic Failure is `errc::wrong_key`.
    [[nodiscard]] secret_bytes decrypt(const std::string& uid, std::span<const std::byte> wrapped, std::span<const std::byte> iv) {
        require_crypto_operations("Decrypt");
        auto r = call(kms_operation::decrypt, op::decrypt,
                      {text_string(tag::unique_identifier, uid), cbc_parameters(), byte_string(tag::data, wrapped),
                       byte_string(tag::iv_counter_nonce, iv)},
                      "Decrypt with key " + atrest::detail::quoted(uid), uid);
        const item* data = r.find(tag::data);
        if (data == nullptr || data->type != item_type::byte_string) {
            throw error(errc::kms, "KMIP Decrypt with key " + atrest::detail::quoted(uid) + " at " + origin() +
                                       ": the answer holds no Data");
        }
        secret_bytes out(std::span<const std::byte>(data->bytes));
        scrub(r);
        return out;
    }

    /// The key's State attribute (Get Attributes).
    [[nodiscard]] key_state state(const std::string& uid) {
        const auto r = call(kms_operation::decrypt, op::get_attributes,
                            {text_string(tag::unique_identifier, uid), text_string(tag::attribute_name, "State")},
                            "Get Attributes of key " + atrest::detail::quoted(uid));
        for (const auto& a : r.children) {
            if (a.tag != tag::attribute) continue;
            const item* n = a.find(tag::attribute_name);
            const item* v = a.find(tag::attribute_value);
            if (n && v && n->text() == "State" && v->type == item_type::enumeration) return static_cast<key_state>(v->number);
        }
        throw error(errc::kms, "KMIP Get Attributes of key " + atrest::detail::quoted(uid) + " at " + origin() +
                                   ": the answer holds no State");
    }

    /// Creates an AES-256 key usable for Encrypt and Decrypt, named `name` when not empty, and
    /// activates it; returns its Unique Identifier. (Tests and set-up tools.)
    [[nodiscard]] std::string create_aes256(const std::string& name = {}) {
        std::vector<item> attributes = {attribute("Cryptographic Algorithm", enumeration(tag::attribute_value, 3 /* AES */)),
                                        attribute("Cryptographic Length", integer(tag::attribute_value, 256)),
                                        attribute("Cryptographic Usage Mask", integer(tag::attribute_value, 4 | 8))};
        if (!name.empty()) attributes.push_back(name_attribute(name));
        const auto r = call(kms_operation::generate_data_key, op::create,
                            {enumeration(tag::object_type, 2 /* Symmetric Key */),
                             structure(tag::template_attribute, std::move(attributes))},
                            "Create");
        const item* uid = r.find(tag::unique_identifier);
        if (uid == nullptr) throw error(errc::kms, "KMIP Create at " + origin() + ": the answer holds no Unique Identifier");
        const std::string id = uid->text();
        (void)call(kms_operation::generate_data_key, op::activate, {text_string(tag::unique_identifier, id)}, "Activate");
        return id;
    }

    /// Revokes key `uid` (reason: Key Compromise when `compromised`, else Cessation of Operation).
    void revoke(const std::string& uid, bool compromised = false) {
        std::vector<item> reason_items = {enumeration(tag::revocation_reason_code, compromised ? 2u : 5u)};
        std::vector<item> payload = {text_string(tag::unique_identifier, uid),
                                     structure(tag::revocation_reason, std::move(reason_items))};
        if (compromised) payload.push_back(date_time(0x420021 /* Compromise Occurrence Date */, 0));
        (void)call(kms_operation::decrypt, op::revoke, std::move(payload), "Revoke");
    }
    void destroy(const std::string& uid) {
        (void)call(kms_operation::decrypt, op::destroy, {text_string(tag::unique_identifier, uid)}, "Destroy");
    }

    // ---- messages (public for the known-answer tests) -----------------------------------------

    /// A Request Message with one batch item.
    [[nodiscard]] static item request(protocol_version v, std::uint32_t operation, std::vector<item> payload) {
        return structure(tag::request_message,
                         {structure(tag::request_header, {version_item(v), integer(tag::batch_count, 1)}),
                          structure(tag::batch_item, {enumeration(tag::operation, operation),
                                                      structure(tag::request_payload, std::move(payload))})});
    }

    /// The response payload of a one-item Response Message to `operation`, or the server's
    /// refusal. A message that is not such a response is `errc::kms`.
    [[nodiscard]] static std::pair<item, std::optional<kmip_refusal>> parse_response(item response, std::uint32_t operation) {
        auto bad = [](const std::string& why) { return error(errc::kms, "unexpected KMIP response: " + why); };
        if (response.tag != tag::response_message || response.type != item_type::structure) throw bad("not a Response Message");
        if (response.find(tag::response_header) == nullptr) throw bad("no Response Header");
        item* batch = nullptr;
        for (auto& c : response.children) {
            if (c.tag == tag::batch_item) {
                if (batch != nullptr) throw bad("more than one Batch Item");
                batch = &c;
            }
        }
        if (batch == nullptr || batch->type != item_type::structure) throw bad("no Batch Item");
        const item* opi = batch->find(tag::operation);
        if (opi != nullptr && (opi->type != item_type::enumeration || opi->number != operation)) {
            throw bad("the Batch Item answers operation " + std::to_string(opi->number) + ", not " + std::to_string(operation));
        }
        const item* status = batch->find(tag::result_status);
        if (status == nullptr || status->type != item_type::enumeration) throw bad("no Result Status");
        if (status->number != 0) {
            kmip_refusal r;
            if (const item* reason_item = batch->find(tag::result_reason); reason_item && reason_item->type == item_type::enumeration) {
                r.reason = static_cast<std::uint32_t>(reason_item->number);
            }
            if (const item* m = batch->find(tag::result_message); m && m->type == item_type::text_string) r.message = m->text();
            if (r.message.size() > 300) r.message.resize(300);
            return {item{}, r};
        }
        for (auto& c : batch->children) {
            if (c.tag == tag::response_payload) return {std::move(c), std::nullopt};
        }
        return {structure(tag::response_payload, {}), std::nullopt};
    }

    [[nodiscard]] static std::string reason_text(std::uint32_t r) {
        switch (r) {
            case 0x01: return "Item Not Found";
            case 0x02: return "Response Too Large";
            case 0x03: return "Authentication Not Successful";
            case 0x04: return "Invalid Message";
            case 0x05: return "Operation Not Supported";
            case 0x06: return "Missing Data";
            case 0x07: return "Invalid Field";
            case 0x08: return "Feature Not Supported";
            case 0x0A: return "Cryptographic Failure";
            case 0x0B: return "Illegal Operation";
            case 0x0C: return "Permission Denied";
            case 0x0D: return "Object Archived";
            case 0x100: return "General Failure";
            default: return "reason " + std::to_string(r);
        }
    }

private:
    [[nodiscard]] static item version_item(protocol_version v) {
        return structure(tag::protocol_version, {integer(tag::protocol_version_major, v.major),
                                                 integer(tag::protocol_version_minor, v.minor)});
    }
    [[nodiscard]] static item attribute(std::string_view name, item value) {
        value.tag = tag::attribute_value;
        return structure(tag::attribute, {text_string(tag::attribute_name, name), std::move(value)});
    }
    [[nodiscard]] static item name_attribute(const std::string& name) {
        return attribute("Name", structure(tag::attribute_value, {text_string(tag::name_value, name),
                                                                  enumeration(tag::name_type, 1 /* Uninterpreted Text String */)}));
    }
    [[nodiscard]] static item cbc_parameters() {
        return structure(tag::cryptographic_parameters, {enumeration(tag::block_cipher_mode, 1 /* CBC */),
                                                         enumeration(tag::padding_method, 3 /* PKCS5 */),
                                                         enumeration(tag::cryptographic_algorithm, 3 /* AES */)});
    }
    static void scrub(item& i) noexcept {
        if (!i.bytes.empty()) atrest::detail::botan_compat::secure_scrub(i.bytes.data(), i.bytes.size());
        for (auto& c : i.children) scrub(c);
    }

    void require_crypto_operations(const char* what) const {
        if (m_version && *m_version < protocol_version{1, 2}) {
            throw error(errc::kms, "KMIP server " + origin() + " speaks KMIP " + to_string(*m_version) + " only; " + what +
                                       " needs KMIP 1.2. Set " + m_settings.section +
                                       ".mode = \"get\" to fetch the key and wrap locally");
        }
    }

    [[nodiscard]] error not_active(const std::string& uid, key_state st, const std::string& doing) const {
        const bool revoked = st == key_state::deactivated || st == key_state::compromised;
        return error(errc::kms, "KMIP key " + atrest::detail::quoted(uid) + " at " + origin() + " is " +
                                    std::string(to_string(st)) + (revoked ? " (revoked)" : "") + ", not Active; " + doing +
                                    " needs an Active key (" + m_settings.section + ".key-id)");
    }

    /// Sends one request (after Discover Versions on the first connection), retrying network
    /// failures until the deadline.
    [[nodiscard]] item call(kms_operation metric, std::uint32_t operation, std::vector<item> payload,
                            const std::string& what, const std::string& key_uid = {}) {
        using clock = detail::steady;
        struct scrub_on_exit final {
            std::vector<item>& items;
            ~scrub_on_exit() {
                for (auto& i : items) scrub(i);  // a request may carry a data key (Encrypt)
            }
        } guard{payload};
        const auto deadline = clock::now() + m_settings.timeout;
        const auto message_of = [&](protocol_version v) { return encode(request(v, operation, payload)); };
        std::string last_error;
        int attempts = 0;
        auto backoff = std::chrono::milliseconds(100);
        while (detail::remaining_ms(deadline) > 0) {
            ++attempts;
            const auto started = clock::now();
            try {
                if (const auto validity = check_tls_files(m_settings.tls, m_settings.section)) {
                    m_observer.client_certificate(validity->not_before, validity->not_after);
                }
                detail::tls_stream stream(m_settings.host, m_settings.port, m_settings.tls, m_settings.section, deadline);
                if (!m_version) m_version = discover_versions(stream, deadline);
                ++m_requests;
                auto bytes = message_of(*m_version);
                stream.write(bytes, deadline);
                atrest::detail::botan_compat::secure_scrub(bytes.data(), bytes.size());
                auto answer = stream.read_message(deadline);
                auto [body, refusal] = parse_response(decode(answer), operation);
                atrest::detail::botan_compat::secure_scrub(answer.data(), answer.size());
                const auto elapsed = clock::now() - started;
                if (!refusal) {
                    m_observer.request(metric, kms_outcome::ok, elapsed);
                    return std::move(body);
                }
                auto e = refused(*refusal, operation, what, key_uid);
                m_observer.request(metric, e.kind() == errc::wrong_key ? kms_outcome::wrong_key : kms_outcome::refused, elapsed);
                throw e;
            } catch (const detail::transport_failure& f) {
                const auto elapsed = clock::now() - started;
                m_observer.request(metric, f.tls ? kms_outcome::tls_error : kms_outcome::network_error, elapsed);
                if (f.tls) throw error(errc::kms, "KMIP " + what + " at " + origin() + ": " + f.what());
                last_error = f.what();
            }
            const auto jittered = backoff / 2 + std::chrono::milliseconds(atrest::detail::random_u64() %
                                                                         static_cast<std::uint64_t>(backoff.count() / 2 + 1));
            const auto left = std::chrono::milliseconds(detail::remaining_ms(deadline));
            if (left.count() <= 0) break;
            std::this_thread::sleep_for(std::min(jittered, left));
            backoff = std::min(backoff * 2, std::chrono::milliseconds(2000));
        }
        throw error(errc::kms, "KMIP server unavailable: " + what + " at " + origin() + " did not succeed within " +
                                   format_duration(std::chrono::duration_cast<std::chrono::microseconds>(m_settings.timeout)) +
                                   " (" + m_settings.section + ".timeout; " + std::to_string(attempts) +
                                   (attempts == 1 ? " attempt" : " attempts") + "); last error: " +
                                   (last_error.empty() ? std::string("none (no time for an attempt)") : last_error));
    }

    /// Discover Versions, sent as KMIP 1.1 (the first version that has it) listing ours; the
    /// server answers with those it shares, preferred first. No shared version is `errc::kms`.
    [[nodiscard]] protocol_version discover_versions(detail::tls_stream& stream, detail::steady::time_point deadline) {
        std::vector<item> mine;
        for (const auto& v : client_versions) mine.push_back(version_item(v));
        ++m_requests;
        stream.write(encode(request({1, 1}, op::discover_versions, std::move(mine))), deadline);
        auto [body, refusal] = parse_response(decode(stream.read_message(deadline)), op::discover_versions);
        if (refusal) {
            throw error(errc::kms, "KMIP server " + origin() + " refused Discover Versions (" + reason_text(refusal->reason) +
                                       (refusal->message.empty() ? "" : ": " + atrest::detail::quoted(refusal->message)) +
                                       "); this client speaks KMIP 1.2 and 1.1");
        }
        for (const auto& c : body.children) {
            if (c.tag != tag::protocol_version) continue;
            const item* ma = c.find(tag::protocol_version_major);
            const item* mi = c.find(tag::protocol_version_minor);
            if (!ma || !mi) continue;
            const protocol_version v{static_cast<std::int32_t>(ma->number), static_cast<std::int32_t>(mi->number)};
            for (const auto& ours : client_versions) {
                if (v == ours) return v;
            }
        }
        throw error(errc::kms, "KMIP server " + origin() + " shares no protocol version with this client (KMIP 1.2, 1.1)");
    }

    /// The error for a refusal. A Decrypt that fails on an Active key is `errc::wrong_key`: KMIP
    /// servers report it as Cryptographic Failure, PyKMIP as General Failure (its AES-CBC padding
    /// check raises); either way the key is there and usable, and the data key is not its own.
    [[nodiscard]] error refused(const kmip_refusal& r, std::uint32_t operation, const std::string& what, const std::string& uid) {
        const std::string said = reason_text(r.reason) + (r.message.empty() ? "" : ": " + atrest::detail::quoted(r.message));
        const std::string head = "KMIP " + what + " at " + origin() + " was refused (" + said + ")";
        switch (r.reason) {
            case reason::cryptographic_failure:
            case reason::general_failure:
                if (operation == op::decrypt && !uid.empty()) {
                    std::optional<key_state> st;
                    try {
                        st = state(uid);
                    } catch (const error&) {
                    }
                    if (st && *st != key_state::active) return not_active(uid, *st, what);
                    if (st || r.reason == reason::cryptographic_failure) {
                        return error(errc::wrong_key, head + ": the wrapped data key does not decrypt under this Active "
                                                             "key; it was wrapped by another key, or changed");
                    }
                }
                break;
            case reason::item_not_found:
                return error(errc::kms, head + ": the server has no such object (never created, or destroyed); check " +
                                            m_settings.section + ".key-id");
            case reason::permission_denied:
                if (!uid.empty()) {
                    std::optional<key_state> st;
                    try {
                        st = state(uid);
                    } catch (const error&) {
                    }
                    if (st && *st != key_state::active) return not_active(uid, *st, what);
                }
                return error(errc::kms, head + ": the client certificate's identity may not use this object, or the "
                                                "key lacks the Encrypt/Decrypt usage");
            case reason::authentication_not_successful:
                return error(errc::kms, head + ": the server did not accept the client certificate (" + m_settings.section +
                                            ".cert-path)");
            case reason::operation_not_supported:
                return error(errc::kms, head + ": this server does not offer the operation" +
                                            (m_settings.mode == master_key_config::kmip_mode::wrap
                                                 ? "; set " + m_settings.section + ".mode = \"get\" to wrap locally"
                                                 : std::string()));
            default: break;
        }
        return error(errc::kms, head);
    }

    kmip_settings m_settings;
    key_service_observer m_observer;
    std::optional<protocol_version> m_version;
    std::size_t m_requests = 0;
};

}  // namespace atrest::kmip
