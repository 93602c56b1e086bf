#pragma once
// Checks on the atrest::error a call throws: expect_error returns it (and fails the test when the
// call throws nothing); require_error also checks its kind and that its message names each part.
#include "catch.hpp"

#include <atrest/error.hpp>

#include <initializer_list>
#include <stdexcept>
#include <string_view>

namespace atrest_test {

template <class F>
atrest::error expect_error(F&& f) {
    try {
        f();
    } catch (const atrest::error& e) {
        return e;
    }
    FAIL("no atrest::error was thrown");
    throw std::logic_error("unreachable");
}

template <class F>
void require_error(F&& f, atrest::errc kind, std::initializer_list<std::string_view> parts) {
    const auto e = expect_error(static_cast<F&&>(f));
    INFO(e.what());
    CHECK(e.kind() == kind);
    for (auto part : parts) CHECK(std::string_view(e.what()).find(part) != std::string_view::npos);
}

}  // namespace atrest_test
