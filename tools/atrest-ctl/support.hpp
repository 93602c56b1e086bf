#pragma once
// What every atrest-ctl command shares: the key options, the configuration they describe,
// opening the key manager, hex, and progress on a terminal.
#include <atrest/atrest.hpp>
#include <atrest/detail/posix.hpp>
#include <atrest/dict.hpp>
#include <atrest/master_key.hpp>
#include <atrest/master_key/any_master_key.hpp>
#include <atrest/config/toml_config.hpp>

#include <cstdint>
#include <cstdio>
#include <memory>
#include <span>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace atrest_ctl {

/// --config FILE | --master-key-file FILE [--previous-master-key-file FILE], plus --data-dir.
struct key_options {
    std::string config;
    std::string master_key_file;
    std::string previous_master_key_file;
    std::string data_dir;
    std::string method;  ///< --method where a command may create data keys
};

using manager = atrest::configured_key_manager<>;

/// Warnings from the library (e.g. a world-readable key file) go to stderr, one line each.
inline void warn(std::string_view message) { std::fprintf(stderr, "atrest-ctl: warning: %.*s\n", static_cast<int>(message.size()), message.data()); }

/// The config the key flags describe, as given: --config FILE, or --master-key-file
/// [--previous-master-key-file] as file master keys, so both paths share open_key_manager.
atrest::encryption_config flags_config(const key_options& o);

/// `flags_config` with --method in place of the config's method; when neither --method nor a
/// config file names one, a writable open keeps the current data key's method.
atrest::encryption_config open_config(const key_options& o, bool writable);

/// Read-only: inspects the metadata without changing a byte. Writable: may compact, rotate and
/// re-seal, like an engine's start. Key-file warnings go to stderr.
atrest::open_settings settings(bool writable);

std::unique_ptr<manager> open_manager(const key_options& o, bool writable);

std::string to_hex(std::span<const std::byte> bytes);
std::vector<std::byte> from_hex(std::string_view hex, std::string_view what);

/// "\r<label> 42%" on stderr when it is a terminal; silent otherwise (scripts, tests).
class progress final {
public:
    progress(std::string label, std::uint64_t total);
    void update(std::uint64_t done);
    ~progress();
    progress(const progress&) = delete;
    progress& operator=(const progress&) = delete;

private:
    std::string m_label;
    std::uint64_t m_total;
    int m_last_percent = -1;
    bool m_enabled;
};

}  // namespace atrest_ctl
