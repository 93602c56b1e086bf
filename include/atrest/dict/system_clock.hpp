#pragma once
/// `atrest::system_clock_policy`: the default clock policy (dict/concepts.hpp), the system clock.

#include <atrest/dict/concepts.hpp>

#include <chrono>

namespace atrest {

struct system_clock_policy final {
    [[nodiscard]] std::chrono::system_clock::time_point now() const noexcept { return std::chrono::system_clock::now(); }
};

static_assert(clock_policy<system_clock_policy>);

}  // namespace atrest
