// The flat key/value config reader (from_flat_map, TiUP's dotted keys). The input is lines of
// "key=value" (the first '=' splits; a later line with the same key wins). Property: an accepted
// config survives to_flat_map -> from_flat_map unchanged, and to_flat_map is a fixed point.
#include "fuzz_support.hpp"

#include <atrest/config.hpp>

#include <map>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::map<std::string, std::string> entries;
    std::string_view rest = atrest_fuzz::text(data, size);
    while (!rest.empty()) {
        const auto end = rest.find('\n');
        const std::string_view line = rest.substr(0, end);
        const auto eq = line.find('=');
        entries[std::string(line.substr(0, eq))] = eq == std::string_view::npos ? "" : std::string(line.substr(eq + 1));
        rest = end == std::string_view::npos ? std::string_view() : rest.substr(end + 1);
    }
    atrest_fuzz::expect_only_atrest_errors([&] {
        const auto allow = atrest::insecure_master_key::allow;
        const auto config = atrest::from_flat_map(entries, allow);
        const auto flat = atrest::to_flat_map(config);
        const auto again = atrest::from_flat_map(flat, allow);
        atrest_fuzz::require(again == config, "a flat config reads back from to_flat_map");
        atrest_fuzz::require(atrest::to_flat_map(again) == flat, "to_flat_map is a fixed point");
    });
    return 0;
}
