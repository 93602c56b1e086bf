#pragma once
/// Fixed-endian loads and stores for on-disk formats and CTR counters; memcpy-based so they are
/// alignment-safe, and compiled to single mov/bswap instructions.

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>

namespace atrest::detail {

template <class T>
[[nodiscard]] constexpr T byteswap(T v) noexcept {
    static_assert(sizeof(T) == 1 || sizeof(T) == 2 || sizeof(T) == 4 || sizeof(T) == 8);
    if constexpr (sizeof(T) == 1) {
        return v;
    } else if constexpr (sizeof(T) == 2) {
        return static_cast<T>(__builtin_bswap16(static_cast<std::uint16_t>(v)));
    } else if constexpr (sizeof(T) == 4) {
        return static_cast<T>(__builtin_bswap32(static_cast<std::uint32_t>(v)));
    } else {
        return static_cast<T>(__builtin_bswap64(static_cast<std::uint64_t>(v)));
    }
}

template <class T>
inline void store_be(void* dst, T v) noexcept {
    if constexpr (std::endian::native == std::endian::little) v = byteswap(v);
    std::memcpy(dst, &v, sizeof v);
}

template <class T>
inline void store_le(void* dst, T v) noexcept {
    if constexpr (std::endian::native == std::endian::big) v = byteswap(v);
    std::memcpy(dst, &v, sizeof v);
}

template <class T>
[[nodiscard]] inline T load_be(const void* src) noexcept {
    T v;
    std::memcpy(&v, src, sizeof v);
    if constexpr (std::endian::native == std::endian::little) v = byteswap(v);
    return v;
}

template <class T>
[[nodiscard]] inline T load_le(const void* src) noexcept {
    T v;
    std::memcpy(&v, src, sizeof v);
    if constexpr (std::endian::native == std::endian::big) v = byteswap(v);
    return v;
}

}  // namespace atrest::detail
