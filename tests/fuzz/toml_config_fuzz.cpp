// The TOML config reader (parse_toml_config: the pre-check, toml++ 3, the [security.encryption]
// reader). Property: an accepted config survives to_flat_map -> from_flat_map unchanged.
#include "fuzz_support.hpp"

#include <atrest/config/toml_config.hpp>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    atrest_fuzz::expect_only_atrest_errors([&] {
        const auto allow = atrest::insecure_master_key::allow;
        const auto config = atrest::parse_toml_config(atrest_fuzz::text(data, size), "fuzz.toml", allow);
        atrest_fuzz::require(atrest::from_flat_map(atrest::to_flat_map(config), allow) == config,
                             "a TOML config reads back from its flat map");
    });
    return 0;
}
