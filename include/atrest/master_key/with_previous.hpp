#pragma once
/// Master-key rotation: the current key seals; on open the previous key is tried only when the
/// current one reports `wrong_key` (never on a damaged blob), and success through it is reported
/// as `needs_reseal` so the key manager re-seals under the current key at once. With
/// `prepare_reseal`, the current key prepares that seal (`prepare_seal`: a KMS asks for its data
/// key) inside `open`, before the caller writes anything.

#include <atrest/master_key/sealed_blob.hpp>

#include <utility>

namespace atrest {

template <master_key_source Current, master_key_source Previous>
class with_previous final {
public:
    with_previous(Current current, Previous previous, bool prepare_reseal = false)
        : m_current(std::move(current)), m_previous(std::move(previous)), m_prepare_reseal(prepare_reseal) {}

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
        unsealed opened;
        try {
            opened = m_previous.open(sealed, aad);
        } catch (const error& e) {
            if (e.kind() != errc::wrong_key) throw;
            throw error(errc::wrong_key, "neither the current master key (" + m_current.describe() +
                                             ") nor the previous one (" + m_previous.describe() +
                                             ") opens it: " + current_failure + "; " + e.what());
        }
        opened.needs_reseal = true;
        if (m_prepare_reseal) detail::prepare_seal(m_current);
        return opened;
    }

    [[nodiscard]] std::string describe() const { return m_current.describe(); }
    [[nodiscard]] bool is_secure() const { return m_current.is_secure(); }
    void prepare_seal() { detail::prepare_seal(m_current); }
    [[nodiscard]] Current& current() noexcept { return m_current; }
    [[nodiscard]] Previous& previous() noexcept { return m_previous; }

private:
    Current m_current;
    Previous m_previous;
    bool m_prepare_reseal = false;
};

}  // namespace atrest
