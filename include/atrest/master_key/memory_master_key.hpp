#pragma once
/// A 256-bit master key the embedding program supplies from its own secret store; also the
/// sealing core of `file_master_key`. Blob: 0x02 · nonce · ciphertext · tag, with the backend byte
/// appended to the caller's associated data so it cannot be swapped.

#include <atrest/keywrap/aes256_gcm_wrap.hpp>
#include <atrest/master_key/sealed_blob.hpp>

#include <string>
#include <utility>

namespace atrest {

template <key_wrap_policy Wrap = aes256_gcm_wrap>
class memory_master_key final {
public:
    explicit memory_master_key(secret_bytes key, std::string label = "in-memory master key")
        : m_key(std::move(key)), m_label(std::move(label)) {
        if (m_key.size() != Wrap::key_size) {
            throw error(errc::invalid_key_size, m_label + " must be " + std::to_string(Wrap::key_size) + " bytes, got " +
                                                    std::to_string(m_key.size()));
        }
    }

    [[nodiscard]] std::vector<std::byte> seal(std::span<const std::byte> data, std::span<const std::byte> aad) {
        const auto body = Wrap::seal(m_key.bytes(), data, bound_aad(aad));
        std::vector<std::byte> out;
        out.reserve(1 + body.size());
        out.push_back(static_cast<std::byte>(sealed_backend::local_key));
        out.insert(out.end(), body.begin(), body.end());
        return out;
    }

    [[nodiscard]] unsealed open(std::span<const std::byte> sealed, std::span<const std::byte> aad) {
        detail::expect_backend(sealed, sealed_backend::local_key, m_label);
        try {
            return {Wrap::open(m_key.bytes(), sealed.subspan(1), bound_aad(aad)), false};
        } catch (const error& e) {
            if (e.kind() != errc::wrong_key) throw;
            throw error(errc::wrong_key, m_label + " cannot open the sealed data: wrong key (not the master key "
                                                   "that sealed it), or the data was changed");
        }
    }

    [[nodiscard]] std::string describe() const { return m_label; }
    [[nodiscard]] bool is_secure() const noexcept { return true; }

private:
    static std::vector<std::byte> bound_aad(std::span<const std::byte> aad) {
        std::vector<std::byte> out(aad.begin(), aad.end());
        out.push_back(static_cast<std::byte>(sealed_backend::local_key));
        return out;
    }

    secret_bytes m_key;
    std::string m_label;
};

}  // namespace atrest
