// Methods and durations: parse_method and parse_duration on the input as text, method_from_byte
// on the first byte. Properties: a parsed method spells the input; only the numbers of the method
// list (TiKV's 1..5, atrest's 128 and 129: all_methods) are methods; a
// parsed duration is not negative, formats to a spelling that reads back equal (exact below 2^53
// microseconds, where TiKV's double arithmetic is exact), and try_parse_duration agrees.
#include "fuzz_support.hpp"

#include <atrest/cipher/methods.hpp>
#include <atrest/config/duration.hpp>

namespace {
bool is_listed(std::uint8_t value) {
    for (const auto m : atrest::all_methods) {
        if (static_cast<std::uint8_t>(m) == value) return true;
    }
    return false;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using atrest_fuzz::require;
    const std::string_view text = atrest_fuzz::text(data, size);
    for (std::size_t i = 0; i < size && i < 1; ++i) {  // one byte: each rejection is an exception, slow
        try {
            const auto m = atrest::method_from_byte(data[i], "fuzz");
            require(is_listed(data[i]), "only the method list's numbers are methods");
            require(static_cast<std::uint8_t>(m) == data[i], "a method read from a byte has that number");
            require(atrest::to_string(m) != "unknown", "a method read from a byte has a name");
        } catch (const atrest::error& e) {
            require(e.kind() == atrest::errc::unknown_method, "a bad method byte is errc::unknown_method");
            require(!is_listed(data[i]), "the method list's numbers are methods");
        }
    }
    bool parsed = false;  // as a method or as a duration: every committed seed is one of them
    try {
        const auto m = atrest::parse_method(text);
        require(atrest::to_string(m) == text, "a parsed method is spelled as the input");
        parsed = true;
    } catch (const atrest::error& e) {
        require(e.kind() == atrest::errc::unknown_method, "a bad method name is errc::unknown_method");
    }
    std::string why;
    const auto tried = atrest::detail::try_parse_duration(text, why);
    try {
        const auto d = atrest::parse_duration(text);
        require(tried && *tried == d, "try_parse_duration agrees with parse_duration");
        require(d.count() >= 0, "a duration is not negative");
        if (d.count() <= (std::int64_t{1} << 53)) {
            require(atrest::parse_duration(atrest::format_duration(d)) == d, "format_duration reads back");
        }
        parsed = true;
    } catch (const atrest::error& e) {
        require(e.kind() == atrest::errc::config, "a bad duration is errc::config");
        require(!tried && !why.empty(), "try_parse_duration agrees and says why");
    }
    require(parsed || std::getenv("ATREST_FUZZ_EXPECT_OK") == nullptr, "a seed is a method or a duration");
    return 0;
}
