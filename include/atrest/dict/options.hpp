#pragma once
/// `atrest::key_manager_options`: the one place the key manager's settings and their defaults
/// live. TiKV's `[security.encryption]` names these (the config reader's `encryption_config`
/// extends this struct with the master-key sections), and the file dictionary reads its part of
/// them from here too.

#include <atrest/cipher/methods.hpp>

#include <chrono>
#include <cstdint>

namespace atrest {

/// TiKV's `[security.encryption]` settings with TiKV's defaults, plus how to open.
struct key_manager_options {
    /// `data-encryption-method`: the method of new data keys; plaintext (TiKV's default) writes
    /// new files unencrypted.
    atrest::method data_encryption_method = method::plaintext;
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

}  // namespace atrest
