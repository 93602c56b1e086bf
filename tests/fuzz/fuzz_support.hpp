#pragma once
// Shared by the libFuzzer targets. `atrest::error` is the expected outcome of bad input, so each
// target catches it; anything else (another exception, a sanitizer report, a broken property
// checked with `require`) crashes and is recorded by libFuzzer. With ATREST_FUZZ_EXPECT_OK set
// (the "committed seeds still parse" test), an atrest::error is a failure too.
#include <atrest/error.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <span>
#include <string_view>

namespace atrest_fuzz {

[[nodiscard]] inline std::span<const std::byte> bytes(const std::uint8_t* data, std::size_t size) noexcept {
    return {reinterpret_cast<const std::byte*>(data), size};
}

[[nodiscard]] inline std::string_view text(const std::uint8_t* data, std::size_t size) noexcept {
    return {reinterpret_cast<const char*>(data), size};
}

/// Aborts, naming the property, when a promise of the code under test does not hold.
inline void require(bool holds, const char* property) {
    if (holds) return;
    std::fprintf(stderr, "atrest fuzz: property violated: %s\n", property);
    std::abort();
}

/// Runs `f`; an atrest::error (with a message) is bad input rejected as documented.
template <class F>
void expect_only_atrest_errors(F&& f) {
    try {
        f();
    } catch (const atrest::error& e) {
        require(std::string_view(e.what()).size() > 0, "an atrest::error has a message");
        if (std::getenv("ATREST_FUZZ_EXPECT_OK") != nullptr) {
            std::fprintf(stderr, "atrest fuzz: a seed expected to parse was rejected: %s\n", e.what());
            std::abort();
        }
    }
}

}  // namespace atrest_fuzz
