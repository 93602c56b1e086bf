#pragma once
/// The clock policy: data-key rotation depends on wall-clock time (key age, and a clock that
/// went backwards), so tests inject a clock instead of sleeping for a week.

#include <chrono>
#include <concepts>

namespace atrest {

template <class C>
concept clock_policy = requires(const C& c) {
    { c.now() } -> std::convertible_to<std::chrono::system_clock::time_point>;
};

struct system_clock_policy final {
    [[nodiscard]] std::chrono::system_clock::time_point now() const noexcept { return std::chrono::system_clock::now(); }
};

static_assert(clock_policy<system_clock_policy>);

}  // namespace atrest
