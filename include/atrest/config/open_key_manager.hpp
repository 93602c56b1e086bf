#pragma once
/// From a checked `encryption_config` to a running key manager, so an engine that reads TiKV's
/// `[security.encryption]` (from TOML or its own flat map) needs one call at start-up: the master
/// key named by the config (with the previous one for master-key rotation) is chosen at run time
/// once, behind `any_master_key`, and the data-file I/O path never sees that choice.

#include <atrest/config/encryption_config.hpp>
#include <atrest/dict/key_manager.hpp>
#include <atrest/master_key/any_master_key.hpp>
#include <atrest/master_key/file_master_key.hpp>
#include <atrest/master_key/plaintext_master_key.hpp>
#include <atrest/master_key/with_previous.hpp>
#include <atrest/metrics/no_metrics.hpp>

#include <filesystem>
#include <memory>
#include <string>
#include <utility>

namespace atrest {

/// The key manager type `open_key_manager` returns: the master key is chosen by the config.
template <metrics_policy Metrics = no_metrics>
using configured_key_manager = key_manager<any_master_key, posix_store, system_clock_policy, Metrics>;

/// The master-key source one config section describes. A key file is read and checked now, so a
/// bad file stops the start with a message naming the file. `type = "kms"` is `errc::unsupported`
/// in the core: a KMS client needs HTTP and lives in its own optional target.
[[nodiscard]] inline any_master_key make_master_key(const master_key_config& config, std::string_view section,
                                                    const diagnostic_sink& warn = {}) {
    switch (config.type) {
        case master_key_config::kind::file: return any_master_key(file_master_key<>(config.path, warn));
        case master_key_config::kind::plaintext: return any_master_key(plaintext_master_key{});
        case master_key_config::kind::kms: break;
    }
    throw error(errc::unsupported, std::string(section) + ".type = \"kms\" (key-id " + detail::quoted(config.key_id) +
                                       ", region " + detail::quoted(config.region) +
                                       ") needs a KMS client, which this build of atrest does not include; "
                                       "accepted here: type = \"file\" or \"plaintext\"");
}

/// The config's master key, with the previous one behind it when the config names one (tried only
/// when the current key reports `wrong_key`).
[[nodiscard]] inline any_master_key make_master_key(const encryption_config& config, const diagnostic_sink& warn = {}) {
    auto current = make_master_key(config.effective_master_key(), master_key_section, warn);
    if (!config.previous_master_key) return current;
    auto previous = make_master_key(*config.previous_master_key, previous_master_key_section, warn);
    return any_master_key(with_previous<any_master_key, any_master_key>(std::move(current), std::move(previous)));
}

/// Validates `config` (so a hand-built struct gets the same checks as a parsed file), opens its
/// master key(s) and opens — or, on an engine's first start (`create_if_missing`, the default),
/// creates — the metadata in `data_dir`. Tools set `read_only` or clear `create_if_missing` in the
/// config they pass. `warn` receives warnings such as a master key file readable by group or
/// others; `metrics` is the engine's registry handle. The manager is returned by pointer because
/// it owns locks and must not move; it converts to the `std::shared_ptr` the RocksDB adapter takes.
template <metrics_policy Metrics = no_metrics>
[[nodiscard]] std::unique_ptr<configured_key_manager<Metrics>> open_key_manager(const encryption_config& config,
                                                                              std::filesystem::path data_dir,
                                                                              const diagnostic_sink& warn = {},
                                                                              Metrics metrics = Metrics{}) {
    validate(config);
    return std::make_unique<configured_key_manager<Metrics>>(std::move(data_dir), make_master_key(config, warn),
                                                             static_cast<const key_manager_options&>(config),
                                                             posix_store{}, system_clock_policy{}, std::move(metrics));
}

}  // namespace atrest
