#pragma once
// What the key-service suites (tests/kms, tests/kmip) build their configurations from and read back
// out of a data directory: a file master-key section, a config of current and previous master
// keys, the bytes of a file's data key, and the sealed blob inside key.dict.
#include "background_process.hpp"

#include <atrest/config.hpp>

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace atrest_test {

inline atrest::master_key_config file_section(const std::filesystem::path& path) {
    atrest::master_key_config mk;
    mk.type = atrest::master_key_config::kind::file;
    mk.path = path;
    return mk;
}

inline atrest::encryption_config config_of(atrest::master_key_config current,
                                           std::optional<atrest::master_key_config> previous = std::nullopt) {
    atrest::encryption_config c;
    c.data_encryption_method = atrest::method::aes256_ctr;
    c.master_key = std::move(current);
    c.previous_master_key = std::move(previous);
    return c;
}

inline std::vector<std::byte> key_bytes(const atrest::file_info& info) {
    return {info.key->bytes().begin(), info.key->bytes().end()};
}

/// The sealed blob inside key.dict (docs/format.md: 16-byte header, then the blob, then a CRC).
inline std::string sealed_blob(const std::filesystem::path& data) {
    const auto bytes = read_text(data / "key.dict");
    return bytes.substr(16, bytes.size() - 20);
}

}  // namespace atrest_test
