#pragma once
/// One key of an AEAD policy, ready to seal and open many messages: Botan's encryption and
/// decryption objects keyed once (through botan_compat's exit-safe factory), then per message a
/// nonce, associated data and the text encrypted or decrypted in place with a detached tag. The
/// bulk goes through Botan's in-place `process`; only the tail shorter than the mode's update
/// granularity and the tag pass through one reused buffer, so a message costs no allocation.
///
/// Not thread-safe: one object per thread (Botan's modes hold per-message state).

#include <atrest/aead/concepts.hpp>
#include <atrest/detail/botan_compat.hpp>
#include <atrest/error.hpp>

#include <botan/exceptn.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>

namespace atrest {

template <aead_policy A>
class aead_cipher final {
public:
    using policy = A;

    /// `errc::invalid_key_size` unless `key` has `A::key_size` bytes. Keeps no raw key bytes
    /// (Botan holds the key schedule in its locked, scrubbed memory).
    explicit aead_cipher(std::span<const std::byte> key)
        : m_enc(keyed(checked(key), true)), m_dec(keyed(key, false)),
          m_enc_granularity(m_enc->update_granularity()), m_dec_granularity(m_dec->update_granularity()) {}

    /// Encrypts `data` in place and writes the tag. `nonce` has `A::nonce_size` bytes.
    void seal(std::span<const std::byte> nonce, std::span<const std::byte> aad, std::span<std::byte> data,
              std::span<std::byte> tag) {
        start(*m_enc, nonce, aad);
        const std::size_t bulk = data.size() - data.size() % m_enc_granularity;
        if (bulk != 0) m_enc->process(u8(data.data()), bulk);
        const std::size_t tail = data.size() - bulk;
        m_buffer.assign(u8(data.data()) + bulk, u8(data.data()) + data.size());
        m_enc->finish(m_buffer);
        if (tail != 0) std::memcpy(data.data() + bulk, m_buffer.data(), tail);
        std::memcpy(tag.data(), m_buffer.data() + tail, A::tag_size);
    }

    /// Decrypts `data` in place if `tag` authenticates it with `nonce` and `aad`; otherwise
    /// returns false and leaves `data` zeroed (no unauthenticated plaintext escapes).
    [[nodiscard]] bool open(std::span<const std::byte> nonce, std::span<const std::byte> aad, std::span<std::byte> data,
                            std::span<const std::byte> tag) {
        start(*m_dec, nonce, aad);
        const std::size_t bulk = data.size() - data.size() % m_dec_granularity;
        if (bulk != 0) m_dec->process(u8(data.data()), bulk);
        const std::size_t tail = data.size() - bulk;
        m_buffer.resize(tail + A::tag_size);
        if (tail != 0) std::memcpy(m_buffer.data(), data.data() + bulk, tail);
        std::memcpy(m_buffer.data() + tail, tag.data(), A::tag_size);
        try {
            m_dec->finish(m_buffer);
        } catch (const Botan::Invalid_Authentication_Tag&) {
            if (!data.empty()) detail::botan_compat::secure_scrub(data.data(), data.size());
            return false;
        }
        if (tail != 0) std::memcpy(data.data() + bulk, m_buffer.data(), tail);
        return true;
    }

private:
    static std::uint8_t* u8(std::byte* p) noexcept { return reinterpret_cast<std::uint8_t*>(p); }
    static const std::uint8_t* u8(const std::byte* p) noexcept { return reinterpret_cast<const std::uint8_t*>(p); }

    static std::span<const std::byte> checked(std::span<const std::byte> key) {
        if (key.size() != A::key_size) {
            throw error(errc::invalid_key_size, std::string(A::name) + " needs a " + std::to_string(A::key_size) +
                                                    "-byte key, got " + std::to_string(key.size()) + " bytes");
        }
        return key;
    }

    static detail::botan_compat::owned<Botan::AEAD_Mode> keyed(std::span<const std::byte> key, bool encrypt) {
        auto mode = detail::botan_compat::make_aead(std::string(A::botan_name), encrypt);
        mode->set_key(u8(key.data()), key.size());
        return mode;
    }

    static void start(Botan::AEAD_Mode& mode, std::span<const std::byte> nonce, std::span<const std::byte> aad) {
        mode.set_associated_data(u8(aad.data()), aad.size());
        mode.start(u8(nonce.data()), nonce.size());
    }

    detail::botan_compat::owned<Botan::AEAD_Mode> m_enc;
    detail::botan_compat::owned<Botan::AEAD_Mode> m_dec;
    std::size_t m_enc_granularity;
    std::size_t m_dec_granularity;
    Botan::secure_vector<std::uint8_t> m_buffer;  // tail + tag of the current message
};

}  // namespace atrest
