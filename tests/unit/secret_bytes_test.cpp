// secret_bytes: ownership, scrubbing semantics, constant-time equality, and that the kernel
// really marks the pages as excluded from core dumps (and locked when mlock succeeded), read back
// from /proc/self/smaps. harden_process runs in a forked child so this process keeps its limits.
#include "catch.hpp"
#include "child_process.hpp"

#include <atrest/secret_bytes.hpp>

#include <sys/prctl.h>
#include <sys/resource.h>

#include <algorithm>
#include <fstream>
#include <sstream>
#include <string>

namespace {

/// The smaps block of the mapping that contains `p`.
std::string smaps_block_for(const void* p) {
    std::ifstream in("/proc/self/smaps");
    std::string line, block;
    bool inside = false;
    const auto addr = reinterpret_cast<std::uintptr_t>(p);
    while (std::getline(in, line)) {
        const auto dash = line.find('-');
        const auto space = line.find(' ');
        const bool header = dash != std::string::npos && space != std::string::npos && dash < space &&
                            std::all_of(line.begin(), line.begin() + static_cast<std::ptrdiff_t>(dash),
                                        [](char c) { return std::isxdigit(static_cast<unsigned char>(c)) != 0; });
        if (header) {
            if (inside) return block;
            const auto lo = std::stoull(line.substr(0, dash), nullptr, 16);
            const auto hi = std::stoull(line.substr(dash + 1, space - dash - 1), nullptr, 16);
            inside = addr >= lo && addr < hi;
            block.clear();
        }
        if (inside) block += line + "\n";
    }
    return block;
}

/// ASan intercepts mlock and returns 0 without locking anything, so under ASan the kernel's
/// "lo" flag cannot follow secret_bytes::locked().
#if defined(__SANITIZE_ADDRESS__)
constexpr bool mlock_is_intercepted = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
constexpr bool mlock_is_intercepted = true;
#else
constexpr bool mlock_is_intercepted = false;
#endif
#else
constexpr bool mlock_is_intercepted = false;
#endif

bool all_zero(std::span<const std::byte> s) {
    return std::all_of(s.begin(), s.end(), [](std::byte b) { return b == std::byte{0}; });
}

}  // namespace

TEST_CASE("secret_bytes owns, clones explicitly and leaves moved-from objects empty", "[secret]") {
    atrest::secret_bytes empty;
    CHECK(empty.empty());
    CHECK(empty.data() == nullptr);
    atrest::secret_bytes zeros(40);
    CHECK(zeros.size() == 40);
    CHECK(all_zero(zeros.bytes()));

    auto a = atrest::secret_bytes::random(32);
    CHECK_FALSE(all_zero(a.bytes()));
    CHECK_FALSE(a == atrest::secret_bytes::random(32));
    const auto copy = a.clone();
    CHECK(copy == a);
    CHECK(copy.data() != a.data());

    atrest::secret_bytes moved(std::move(a));
    CHECK(moved == copy);
    CHECK(a.empty());  // NOLINT(bugprone-use-after-move): the contract under test
    CHECK(a.data() == nullptr);

    atrest::secret_bytes target(8);
    target = std::move(moved);
    CHECK(target == copy);
    CHECK(moved.empty());  // NOLINT(bugprone-use-after-move)

    CHECK_FALSE(atrest::secret_bytes(std::vector<std::byte>(3, std::byte{1})) ==
                atrest::secret_bytes(std::vector<std::byte>(4, std::byte{1})));
    CHECK(atrest::secret_bytes() == atrest::secret_bytes());
}

TEST_CASE("secret_bytes pages are excluded from core dumps and locked when mlock allows", "[secret]") {
    const auto s = atrest::secret_bytes::random(32);
    const auto block = smaps_block_for(s.data());
    REQUIRE_FALSE(block.empty());
    INFO(block);
    const auto flags = block.substr(block.find("VmFlags:"));
    CHECK(flags.find(" dd") != std::string::npos);  // MADV_DONTDUMP
    const bool kernel_locked = flags.find(" lo") != std::string::npos;
    if (kernel_locked) CHECK(s.locked());  // never claims less than the kernel did
    if (!mlock_is_intercepted) CHECK(kernel_locked == s.locked());
}

TEST_CASE("harden_process disables core dumps (checked in a child process)", "[secret]") {
    const int code = atrest_test::exit_code_in_child([] {
        atrest::harden_process();
        ::rlimit r{};
        ::getrlimit(RLIMIT_CORE, &r);
        if (r.rlim_cur != 0 || r.rlim_max != 0) return 10;
        if (::prctl(PR_GET_DUMPABLE, 0, 0, 0, 0) != 0) return 11;
        return 0;
    });
    CHECK(code == 0);
    CHECK(::prctl(PR_GET_DUMPABLE, 0, 0, 0, 0) == 1);  // this process is unchanged
}
