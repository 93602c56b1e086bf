#pragma once
// What every atrest-ctl command shares: the key options, the configuration they describe,
// opening the key manager, hex, text and JSON output of paths, and progress on a terminal.
#include <atrest/atrest.hpp>
#include <atrest/config/toml_config.hpp>
#include <atrest/detail/posix.hpp>

#include <nlohmann/json.hpp>

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace atrest_ctl {

/// --config FILE | --master-key-file FILE [--previous-master-key-file FILE], plus --data-dir,
/// and for commands that may create data keys --method and --init.
struct key_options {
    std::string config;
    std::string master_key_file;
    std::string previous_master_key_file;
    std::string data_dir;
    std::string method;  ///< --method where a command may create data keys
    bool init = false;   ///< --init: this command may create metadata in a directory that has none
};

using manager = atrest::configured_key_manager<>;

/// The method `--init` gives new metadata when neither --method nor --config names one.
inline constexpr atrest::method init_default_method = atrest::method::aes256_ctr;

/// Warnings from the library (e.g. a world-readable key file) go to stderr, one line each.
void warn(std::string_view message);

/// The config the key flags describe, as given: --config FILE, or --master-key-file
/// [--previous-master-key-file] as file master keys, so both paths share open_key_manager.
atrest::encryption_config flags_config(const key_options& o);

/// Opens the data directory. Read-only: inspects the metadata without changing a byte. Writable:
/// may compact, rotate and re-seal, like an engine's start, and takes the writer lock. Either way
/// a directory without metadata is an error naming it (with the `--init` hint where the command
/// has that flag) unless `o.init` — then it is created with the configured method, or --method,
/// or `init_default_method`. Without --method or a config method, a writable open keeps the
/// current data key's method.
std::unique_ptr<manager> open_manager(const key_options& o, bool writable, bool command_has_init = false);

/// The config `open_manager` opens with (for commands that open more than once).
atrest::encryption_config open_config(const key_options& o, bool writable, bool command_has_init = false);

std::string to_hex(std::span<const std::byte> bytes);
std::vector<std::byte> from_hex(std::string_view hex, std::string_view what);

/// A data key from a file (or "-": standard input), as hex digits with an optional final newline;
/// keys are never taken on the command line, where other users can read them in `ps`.
std::vector<std::byte> read_key_file(const std::string& path);

/// `text` for one line of terminal output: backslash, control characters and bytes that are not
/// UTF-8 are escaped (\\, \n, \t, \xNN), so a path can never forge a line or a column.
std::string escaped(std::string_view text);

/// Whether `text` is valid UTF-8.
bool is_utf8(std::string_view text);

/// Puts `path` into `object` as "path", and when it is not UTF-8 (JSON strings must be) also as
/// "path_hex", its exact bytes; "path" then holds U+FFFD for each invalid byte.
void put_path(nlohmann::json& object, std::string_view path);

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

/// The output file a command created (never an existing one: O_EXCL), removed again unless the
/// command finishes: a failed run leaves no half-written file that looks like a finished copy.
class output_file final {
public:
    explicit output_file(std::string path)
        : m_path(std::move(path)), m_fd(atrest::detail::posix::open_file(m_path, O_WRONLY | O_CREAT | O_EXCL, 0600)) {}
    output_file(const output_file&) = delete;
    output_file& operator=(const output_file&) = delete;
    ~output_file() {
        if (!m_keep) (void)::unlink(m_path.c_str());
    }
    void write(std::span<const std::byte> bytes) { atrest::detail::posix::write_all(m_fd.get(), bytes, m_path); }
    void finish() {
        atrest::detail::posix::fsync_fd(m_fd.get(), m_path);
        m_keep = true;
    }

private:
    std::string m_path;
    atrest::detail::posix::unique_fd m_fd;
    bool m_keep = false;
};

/// A path a command created, removed again unless the command finishes (`keep()`): for outputs
/// written through a library file policy rather than `output_file`.
class removal_guard final {
public:
    explicit removal_guard(std::string path) : m_path(std::move(path)) {}
    removal_guard(const removal_guard&) = delete;
    removal_guard& operator=(const removal_guard&) = delete;
    ~removal_guard() {
        if (!m_keep) (void)::unlink(m_path.c_str());
    }
    void keep() noexcept { m_keep = true; }

private:
    std::string m_path;
    bool m_keep = false;
};


}  // namespace atrest_ctl
