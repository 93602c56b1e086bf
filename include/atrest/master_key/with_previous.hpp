#pragma once
/// Master-key rotation: the current key seals; on open the previous key is tried only when the
/// current one reports `wrong_key` (never on a damaged blob), and success through it is reported
/// as `needs_reseal` so the key manager re-seals under the current key at once.

#include <atrest/master_key/sealed_blob.hpp>

#include <utility>

namespace atrest {

template <master_key_source Current, master_key_source Previous>
class with_previous final {
public:
    with_previous(Current current, Previous previous) : m_current(std::move(current)), m_previous(std::move(previous)) {}

    [[nodiscard]] std::vector<std::byte> seal(std::span<const std::byte> data, std::span<const std::byte> aad) {
        return m_current.seal(data, aad);
    }

    [[nodiscard]] unsealed open(std::span<const std::byte> sealed, std::span<const std::byte> aad) {
        std::string current_failure;
        try {
            return m_current.open(sealed, aad);
        } catch (const error& e) {
            if (e.kind() != errc::wrong_key) throw;
            current_failure = e.what();
        }
        try {
            auto opened = m_previous.open(sealed, aad);
            opened.needs_reseal = true;
            return opened;
        } catch (const error& e) {
            if (e.kind() != errc::wrong_key) throw;
            throw error(errc::wrong_key, "neither the current master key (" + m_current.describe() +
                                             ") nor the previous one (" + m_previous.describe() +
                                             ") opens it: " + current_failure + "; " + e.what());
        }
    }

    [[nodiscard]] std::string describe() const { return m_current.describe(); }
    [[nodiscard]] bool is_secure() const { return m_current.is_secure(); }
    [[nodiscard]] Current& current() noexcept { return m_current; }
    [[nodiscard]] Previous& previous() noexcept { return m_previous; }

private:
    Current m_current;
    Previous m_previous;
};

}  // namespace atrest
