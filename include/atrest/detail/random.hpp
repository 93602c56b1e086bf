#pragma once
/// The one place randomness comes from: data keys, IVs, nonces, key ids and MAC keys are all
/// drawn from the operating system's CSPRNG (getrandom(2) via Botan's System_RNG), never from a
/// seeded userspace generator (RocksDB's clock-seeded IVs collided).

#include <atrest/detail/botan_compat.hpp>

#include <cstddef>
#include <cstdint>
#include <span>

namespace atrest::detail {

inline void fill_random(std::span<std::byte> out) {
    botan_compat::system_rng().randomize(reinterpret_cast<std::uint8_t*>(out.data()), out.size());
}

[[nodiscard]] inline std::uint64_t random_u64() {
    std::uint64_t v = 0;
    fill_random(std::as_writable_bytes(std::span(&v, 1)));
    return v;
}

}  // namespace atrest::detail
