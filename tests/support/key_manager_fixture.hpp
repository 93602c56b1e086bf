#pragma once
// Shared pieces for key-manager tests: a settable clock, master keys made from fixed bytes, and
// expect_error (from expect_error.hpp) to check an atrest::error's kind.
#include "catch.hpp"
#include "expect_error.hpp"

#include <atrest/dict.hpp>
#include <atrest/master_key.hpp>

#include <chrono>
#include <memory>
#include <stdexcept>
#include <vector>

namespace atrest_test {

/// A clock the test moves by hand; copies share the time.
struct manual_clock {
    std::shared_ptr<std::chrono::system_clock::time_point> time =
        std::make_shared<std::chrono::system_clock::time_point>(std::chrono::sys_days(std::chrono::year(2026) / 1 / 1));
    [[nodiscard]] std::chrono::system_clock::time_point now() const { return *time; }
    void advance(std::chrono::seconds d) const { *time += d; }
};

inline atrest::memory_master_key<> master(std::uint8_t fill, const std::string& label = "test master key") {
    return atrest::memory_master_key<>(atrest::secret_bytes(std::vector<std::byte>(32, std::byte{fill})), label);
}

inline atrest::key_manager_options encrypted(atrest::method m = atrest::method::aes128_ctr) {
    atrest::key_manager_options o;
    o.data_encryption_method = m;
    return o;
}

inline std::vector<std::byte> file_bytes(const std::filesystem::path& p) {
    return atrest::detail::posix::read_file_if_exists(p).value_or(std::vector<std::byte>{});
}

}  // namespace atrest_test
