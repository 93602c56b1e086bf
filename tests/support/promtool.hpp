#pragma once
// The real Prometheus linter on our exposition text: `promtool check metrics` (Debian package
// `prometheus`, installed by ./scripts/dev). A missing promtool fails the test, it never skips.
#include "catch.hpp"
#include "subprocess.hpp"

#include <exception>
#include <string>

#ifndef ATREST_PROMTOOL
#define ATREST_PROMTOOL "promtool"
#endif

namespace atrest_test {

/// What `promtool check metrics` says about `text` (its exit code and words).
inline process_result promtool_check_metrics(const std::string& text) {
    try {
        return run_process(ATREST_PROMTOOL, {"check", "metrics"}, {}, text);
    } catch (const std::exception& e) {
        FAIL(e.what() << "; promtool comes with Debian's prometheus package (./scripts/dev installs it)");
    }
    return {};
}

/// Fails with promtool's own words unless it finds nothing to say about `text`.
inline void require_promtool_clean(const std::string& text) {
    const auto r = promtool_check_metrics(text);
    INFO("promtool check metrics (exit " << r.exit_code << ") said:\n" << r.out << r.err << "\non:\n" << text);
    REQUIRE(r.exit_code == 0);
    REQUIRE(r.out + r.err == "");
}

}  // namespace atrest_test
