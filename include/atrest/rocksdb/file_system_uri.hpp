#pragma once
/// What a RocksDB tool names with `--fs_uri` to reach an encrypted database, and where the key
/// manager's settings come from when nothing but the environment can carry them (Debian's
/// unmodified `ldb` and `db_bench` with the preloaded plugin, docs/rocksdb.md):
///
///   atrest:<data dir>      the key manager of <data dir>, opened for writing (the writer lock)
///   atrest-ro:<data dir>   the same, opened read-only: no lock, no byte changed, writes refused
///
///   ATREST_CONFIG=<file>             TiKV's [security.encryption] TOML (atrest::load_toml_config)
///   ATREST_MASTER_KEY_FILE=<file>    or a master key file (64 hex digits and a newline), with
///   ATREST_METHOD=<method>           optionally the method (default: the method of the current
///                                    data key, aes128-ctr for a new directory)
///   ATREST_CREATE_IF_MISSING=1       let atrest:<dir> create metadata where there is none (a new
///                                    database, as db_bench makes); otherwise that is an error
///
/// Part of `atrest::rocksdb` but reads TOML, so it needs `atrest::config` (toml++) as well.

#include <atrest/config/open_key_manager.hpp>
#include <atrest/config/toml_config.hpp>
#include <atrest/error.hpp>

#include <cstdlib>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>

namespace atrest::rocks {

/// `atrest:<data dir>` or `atrest-ro:<data dir>`; a relative directory is taken from the working
/// directory of the process that names it.
struct file_system_uri final {
    static constexpr std::string_view scheme = "atrest";
    static constexpr std::string_view read_only_scheme = "atrest-ro";

    std::filesystem::path data_dir;  ///< absolute and lexically normal
    bool read_only = false;

    /// `errc::invalid_argument` naming the URI and the grammar when it is neither form.
    [[nodiscard]] static file_system_uri parse(std::string_view uri) {
        const auto colon = uri.find(':');
        const std::string_view head = uri.substr(0, colon);
        if (colon == std::string_view::npos || colon + 1 == uri.size() || (head != scheme && head != read_only_scheme)) {
            throw error(errc::invalid_argument, "file system URI \"" + std::string(uri) +
                                                    "\": accepted: atrest:<data dir> (read-write) or "
                                                    "atrest-ro:<data dir> (read-only), the directory holding key.dict");
        }
        file_system_uri out;
        out.data_dir = std::filesystem::absolute(std::filesystem::path(uri.substr(colon + 1))).lexically_normal();
        if (!out.data_dir.has_filename() && out.data_dir != out.data_dir.root_path()) {
            out.data_dir = out.data_dir.parent_path();  // "db/" names "db"
        }
        out.read_only = head == read_only_scheme;
        return out;
    }

    [[nodiscard]] std::string to_string() const {
        return std::string(read_only ? read_only_scheme : scheme) + ":" + data_dir.string();
    }
};

/// The environment variables `settings_from_environment` reads.
struct tool_environment final {
    static constexpr const char* config = "ATREST_CONFIG";
    static constexpr const char* master_key_file = "ATREST_MASTER_KEY_FILE";
    static constexpr const char* method = "ATREST_METHOD";
    static constexpr const char* create_if_missing = "ATREST_CREATE_IF_MISSING";
};

/// How a tool opens a directory's key manager.
struct tool_settings final {
    encryption_config config;
    /// Create `key.dict` and `file.dict` where there are none (writable opens only). Off by
    /// default so that a mistyped directory is an error, not a fresh set of metadata.
    bool create_if_missing = false;
};

/// `std::getenv`, or a stand-in for tests: the value of a variable, or null when it is unset.
using environment_lookup = std::function<const char*(const char*)>;

/// The settings to open `uri`'s directory with: the TOML file `ATREST_CONFIG` names, or a file
/// master key from `ATREST_MASTER_KEY_FILE` with `ATREST_METHOD` (or, unset, the method of the
/// directory's current data key — so a tool never changes a database's method by accident — and
/// aes128-ctr where there is none yet). Exactly one of the two must be set (`errc::config`
/// naming both). `ATREST_CREATE_IF_MISSING` is `1` or `true` (anything else but unset is
/// `errc::config`). An empty value counts as unset.
[[nodiscard]] inline tool_settings settings_from_environment(const file_system_uri& uri,
                                                                 const environment_lookup& getenv = [](const char* n) {
                                                                     return std::getenv(n);
                                                                 }) {
    auto get = [&](const char* name) -> std::string {
        const char* value = getenv(name);
        return value == nullptr ? std::string() : std::string(value);
    };
    const std::string config_file = get(tool_environment::config);
    const std::string key_file = get(tool_environment::master_key_file);
    const std::string method_name = get(tool_environment::method);
    const std::string create = get(tool_environment::create_if_missing);
    tool_settings out;
    if (create == "1" || create == "true") {
        out.create_if_missing = true;
    } else if (!create.empty()) {
        throw error(errc::config, std::string(tool_environment::create_if_missing) + " = " + atrest::detail::quoted(create) +
                                      ": accepted: 1 or true, or unset");
    }
    const std::string both = std::string(tool_environment::config) + " (a TiKV-style TOML file) or " +
                             tool_environment::master_key_file + " (a master key file)";
    if (!config_file.empty() && !key_file.empty()) {
        throw error(errc::config, uri.to_string() + ": both " + both + " are set; set one");
    }
    if (!config_file.empty()) {
        if (!method_name.empty()) {
            throw error(errc::config, std::string(tool_environment::method) + " is set beside " +
                                          tool_environment::config + "; the method comes from the config file's "
                                          "security.encryption.data-encryption-method");
        }
        out.config = load_toml_config(config_file);
        return out;
    }
    if (key_file.empty()) {
        throw error(errc::config, uri.to_string() + " needs the master key: set " + both);
    }
    encryption_config& config = out.config;
    config.master_key = master_key_config{master_key_config::kind::file, key_file, {}, {}, {}};
    if (!method_name.empty()) {
        try {
            config.data_encryption_method = parse_method(method_name);
        } catch (const error& e) {
            throw error(e.kind(), std::string(tool_environment::method) + ": " + e.what());
        }
        return out;
    }
    config.data_encryption_method = method::aes128_ctr;
    if (std::filesystem::exists(uri.data_dir / configured_key_manager<>::key_dictionary_name)) {
        auto peek = config;
        peek.read_only = true;
        const auto keys = open_key_manager(peek, uri.data_dir);
        for (const auto& k : keys->data_keys()) {
            if (k.id == keys->current_key_id()) config.data_encryption_method = k.method;
        }
    }
    return out;
}

}  // namespace atrest::rocks
