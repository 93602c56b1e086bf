#pragma once
// The one Catch2 shim: Debian 12 ships Catch2 v2.13 (single header), Conan and newer distros v3.
// Tests include this file only, so they compile against either.
#if __has_include(<catch2/catch_test_macros.hpp>)
#include <catch2/catch_approx.hpp>
#include <catch2/catch_test_macros.hpp>
#include <catch2/generators/catch_generators.hpp>
#include <catch2/matchers/catch_matchers_string.hpp>
#define ATREST_CATCH_V3 1
#else
#include <catch2/catch.hpp>
#define ATREST_CATCH_V3 0
#endif
