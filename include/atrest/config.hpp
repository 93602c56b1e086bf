#pragma once
/// The config family's core part: TiKV's `[security.encryption]` settings, durations, validation
/// and the flat-map reader. The TOML reader (`atrest/config/toml_config.hpp`) is not included:
/// it needs toml++ and the optional target `atrest::config`.
#include <atrest/config/duration.hpp>
#include <atrest/config/encryption_config.hpp>
#include <atrest/config/open_key_manager.hpp>
