#pragma once
/// No master key (TiKV's "plaintext" type, for tests): the key dictionary is stored in the clear.
/// `is_secure()` is false, so the key manager marks every data key it makes as exposed, refuses
/// encryption with it unless insecure mode is explicitly allowed, and replaces exposed keys as
/// soon as a secure master key takes over.

#include <atrest/master_key/sealed_blob.hpp>

namespace atrest {

class plaintext_master_key final {
public:
    [[nodiscard]] std::vector<std::byte> seal(std::span<const std::byte> data, std::span<const std::byte>) const {
        std::vector<std::byte> out;
        out.reserve(1 + data.size());
        out.push_back(static_cast<std::byte>(sealed_backend::plaintext));
        out.insert(out.end(), data.begin(), data.end());
        return out;
    }

    [[nodiscard]] unsealed open(std::span<const std::byte> sealed, std::span<const std::byte>) const {
        detail::expect_backend(sealed, sealed_backend::plaintext, describe());
        return {secret_bytes(sealed.subspan(1)), false};
    }

    [[nodiscard]] std::string describe() const { return "the plaintext master key (data keys stored unencrypted)"; }
    [[nodiscard]] bool is_secure() const noexcept { return false; }
};

}  // namespace atrest
