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
#include <atrest/metrics/key_service_observer.hpp>
#include <atrest/metrics/no_metrics.hpp>
#if defined(ATREST_HAS_KMS) && ATREST_HAS_KMS
#include <atrest/kms/aws_kms_master_key.hpp>
#endif
#if defined(ATREST_HAS_KMIP) && ATREST_HAS_KMIP
#include <atrest/kmip/kmip_master_key.hpp>
#endif

#include <filesystem>
#include <memory>
#include <string>
#include <utility>

namespace atrest {

/// The key manager type `open_key_manager` returns: the master key is chosen by the config.
template <metrics_policy Metrics = no_metrics>
using configured_key_manager = key_manager<any_master_key, posix_store, system_clock_policy, Metrics>;

/// Whether this build makes `type = "kms"` master keys: the target `atrest::kms` (libcurl,
/// nlohmann-json) defines ATREST_HAS_KMS for every file that links it. Every translation unit of
/// one program must agree, as for any configuration macro.
#if defined(ATREST_HAS_KMS) && ATREST_HAS_KMS
inline constexpr bool has_kms = true;
#else
inline constexpr bool has_kms = false;
#endif
/// Whether this build makes `type = "kmip"` master keys: the target `atrest::kmip` (OpenSSL)
/// defines ATREST_HAS_KMIP, as above.
#if defined(ATREST_HAS_KMIP) && ATREST_HAS_KMIP
inline constexpr bool has_kmip = true;
#else
inline constexpr bool has_kmip = false;
#endif

/// The master-key source one config section describes. A key file is read and checked now, so a
/// bad file stops the start with a message naming the file. `type = "kms"` needs the optional
/// target `atrest::kms` (a KMS client needs HTTP); without it the section is `errc::unsupported`.
/// A KMS key resolves its credentials now and calls KMS only when it first seals or opens;
/// `observer` receives its request counts, latencies and client-certificate validity.
[[nodiscard]] inline any_master_key make_master_key(const master_key_config& config, std::string_view section,
                                                    const diagnostic_sink& warn = {},
                                                    const key_service_observer& observer = {}) {
    switch (config.type) {
        case master_key_config::kind::file: return any_master_key(file_master_key<>(config.path, warn));
        case master_key_config::kind::plaintext: return any_master_key(plaintext_master_key{});
        case master_key_config::kind::kms:
#if defined(ATREST_HAS_KMS) && ATREST_HAS_KMS
            return any_master_key(aws_kms_master_key<>(config, section, observer));
#else
            break;
#endif
        case master_key_config::kind::kmip:
#if defined(ATREST_HAS_KMIP) && ATREST_HAS_KMIP
            return any_master_key(kmip_master_key<>(config, section, observer));
#else
            throw error(errc::unsupported, std::string(section) + ".type = \"kmip\" (endpoint " +
                                               detail::quoted(config.endpoint) +
                                               ") needs a KMIP client, which this build of atrest does not include "
                                               "(target atrest::kmip, OpenSSL); accepted here: type = \"file\" or "
                                               "\"plaintext\"" + std::string(has_kms ? " or \"kms\"" : ""));
#endif
    }
    (void)observer;
    throw error(errc::unsupported, std::string(section) + ".type = \"kms\" (key-id " + detail::quoted(config.key_id) +
                                       ", region " + detail::quoted(config.region) +
                                       ") needs a KMS client, which this build of atrest does not include; "
                                       "accepted here: type = \"file\" or \"plaintext\"");
}

/// The config's master key, with the previous one behind it when the config names one (tried only
/// when the current key reports `wrong_key`). Unless the config is read-only, a fallback to the
/// previous key prepares the re-seal under the current one inside `open` (a KMS key asks for its
/// data key there), so a key service that fails leaves the directory as it was.
[[nodiscard]] inline any_master_key make_master_key(const encryption_config& config, const diagnostic_sink& warn = {},
                                                    const key_service_observer& observer = {}) {
    auto current = make_master_key(config.effective_master_key(), master_key_section, warn, observer);
    if (!config.previous_master_key) return current;
    auto previous = make_master_key(*config.previous_master_key, previous_master_key_section, warn, observer);
    return any_master_key(
        with_previous<any_master_key, any_master_key>(std::move(current), std::move(previous), !config.read_only));
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
    key_service_observer observer;
    if constexpr (key_service_metrics_policy<Metrics>) observer = key_service_observer::of(metrics);
    auto master = make_master_key(config, warn, observer);
    // A first start seals key.dict after creating the directory, its lock and file.dict: a master
    // key that must call out to seal (KMS) does that now, so a failing key service changes nothing.
    const bool first_start = !config.read_only && config.create_if_missing &&
                             !detail::posix::exists(data_dir / configured_key_manager<Metrics>::key_dictionary_name);
    if (first_start) master.prepare_seal();
    return std::make_unique<configured_key_manager<Metrics>>(std::move(data_dir), std::move(master),
                                                             static_cast<const key_manager_options&>(config),
                                                             posix_store{}, system_clock_policy{}, std::move(metrics));
}

}  // namespace atrest
