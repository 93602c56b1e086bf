#pragma once
// What the atrest-ctl tests share: file helpers, "succeeds" / "fails with one clear line"
// checks, and a workspace with a fresh master key.
#include "catch.hpp"
#include "run_ctl.hpp"
#include "temp_dir.hpp"

#include <atrest/detail/posix.hpp>

#include <random>
#include <string>

namespace atrest_test {

inline std::vector<std::byte> read_all(const std::filesystem::path& p) {
    return atrest::detail::posix::read_file_if_exists(p).value_or(std::vector<std::byte>{});
}

inline void write_all(const std::filesystem::path& p, const std::vector<std::byte>& data) {
    auto fd = atrest::detail::posix::open_file(p, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    atrest::detail::posix::write_all(fd.get(), data, p);
}

inline void write_text(const std::filesystem::path& p, const std::string& text) {
    const auto* begin = reinterpret_cast<const std::byte*>(text.data());
    write_all(p, std::vector<std::byte>(begin, begin + text.size()));
}

inline std::vector<std::byte> random_bytes(std::size_t n, unsigned seed) {
    std::mt19937 rng(seed);
    std::vector<std::byte> v(n);
    for (auto& b : v) b = static_cast<std::byte>(rng());
    return v;
}

/// Succeeds and prints one line on stderr at most (warnings only).
inline ctl_result ok(const std::vector<std::string>& args, const std::string& cwd = {}) {
    auto r = run_ctl(args, cwd);
    INFO("atrest-ctl " << args.front() << "\nstdout: " << r.out << "\nstderr: " << r.err);
    REQUIRE(r.exit_code == 0);
    return r;
}

/// Fails with exit code 1 and exactly one line on stderr that contains `needle`.
inline void fails(const std::vector<std::string>& args, const std::string& needle, const std::string& cwd = {}) {
    const auto r = run_ctl(args, cwd);
    INFO("atrest-ctl " << args.front() << "\nstdout: " << r.out << "\nstderr: " << r.err);
    CHECK(r.exit_code == 1);
    CHECK(r.err.find(needle) != std::string::npos);
    CHECK(r.err.starts_with("atrest-ctl: error: "));
    CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
}

struct workspace {
    temp_dir dir;
    std::string key = (dir / "master.key").string();
    std::string data = (dir / "data").string();
    workspace() { ok({"keygen", "--out", key}); }
    std::vector<std::string> with_keys(std::vector<std::string> args) const {
        args.insert(args.end(), {"--master-key-file", key, "--data-dir", data});
        return args;
    }
};

}  // namespace atrest_test
