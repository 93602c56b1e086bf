#pragma once
/// `atrest::key_manager_options`: the one place the key manager's settings and their defaults
/// live. TiKV's `[security.encryption]` names these (the config reader's `encryption_config`
/// extends this struct with the master-key sections), and the file dictionary reads its part of
/// them from here too.

#include <atrest/cipher/methods.hpp>

#include <chrono>
#include <cstdint>
#include <string_view>

namespace atrest {

/// Which new files get an authenticated method (atrest's, beyond TiKV: docs/aead.md
/// "Authenticated data files"). A data-encryption-method that is itself authenticated makes
/// every file authenticated whatever this says.
enum class authenticated_files : std::uint8_t {
    none,  ///< TiKV's behaviour: every file gets the data key's CTR method
    logs,  ///< the files a crash replays: RocksDB's WAL (`*.log`) and `MANIFEST-*`
    all,   ///< every file
};

/// TiKV's `[security.encryption]` settings with TiKV's defaults, plus how to open.
struct key_manager_options {
    /// `data-encryption-method`: the method of new data keys; plaintext (TiKV's default) writes
    /// new files unencrypted.
    atrest::method data_encryption_method = method::plaintext;
    /// `authenticated-files`: which files are sealed with the authenticated counterpart of the
    /// data key's method (`authenticated_counterpart`); the others get the method itself.
    atrest::authenticated_files authenticated_files = authenticated_files::none;
    /// Ciphertext bytes per segment of new authenticated files other than logs (SSTs: random
    /// reads of 4 KiB blocks, each of which decrypts the one or two segments it touches). Kept
    /// per file in its entry, so changing it only affects new files. docs/performance.md
    /// ("Authenticated data files in RocksDB") has the measurements behind the default.
    std::uint32_t authenticated_segment_size = 4096;
    /// The same for logs (WAL, MANIFEST), which re-seal their last segment at every flush, so a
    /// small segment keeps each small write cheap.
    std::uint32_t authenticated_log_segment_size = 4096;
    /// `data-key-rotation-period`: a data key older than this is replaced (TiKV: 7 days).
    std::chrono::seconds data_key_rotation_period = std::chrono::hours(168);
    /// `enable-file-dictionary-log`: false selects the snapshot-only file dictionary format.
    bool enable_file_dictionary_log = true;
    /// `file-dictionary-rewrite-threshold`: removals after which the file dictionary is compacted.
    std::uint64_t file_dictionary_rewrite_threshold = 1'000'000;
    /// Encryption with a plaintext master key leaves data keys readable on disk; refused unless set.
    /// Only code can set it (it is no config-file key), so a config edit cannot downgrade a node.
    bool allow_insecure_master_key = false;
    /// Inspect without changing a byte: no compaction, rotation, re-seal or temp-file cleanup at
    /// open, and every mutating call throws. For tools run beside a live engine.
    bool read_only = false;
    /// Whether an open may create `key.dict` and `file.dict` in a directory that has neither: an
    /// engine's first start. Tools open with false, so a mistyped or emptied data directory is an
    /// error ("no atrest metadata in …") instead of fresh metadata that makes every encrypted file
    /// read as plaintext.
    bool create_if_missing = true;

    friend bool operator==(const key_manager_options&, const key_manager_options&) = default;
};

/// Whether `name` (a path, or a name in the data directory) is one of the logs
/// `authenticated_files::logs` means: its file name ends in ".log" or starts with "MANIFEST-".
[[nodiscard]] constexpr bool is_log_file_name(std::string_view name) noexcept {
    const auto slash = name.find_last_of('/');
    const std::string_view leaf = slash == std::string_view::npos ? name : name.substr(slash + 1);
    return leaf.starts_with("MANIFEST-") || (leaf.size() > 4 && leaf.ends_with(".log"));
}

/// The method a new file named `name` gets when the current data key's method is `key_method`.
[[nodiscard]] constexpr method method_for_file(const key_manager_options& o, method key_method, std::string_view name) {
    const bool wanted = o.authenticated_files == authenticated_files::all ||
                        (o.authenticated_files == authenticated_files::logs && is_log_file_name(name));
    return wanted ? authenticated_counterpart(key_method) : key_method;
}

/// The segment size a new authenticated file named `name` gets.
[[nodiscard]] constexpr std::uint32_t segment_size_for_file(const key_manager_options& o, std::string_view name) noexcept {
    return is_log_file_name(name) ? o.authenticated_log_segment_size : o.authenticated_segment_size;
}

}  // namespace atrest
