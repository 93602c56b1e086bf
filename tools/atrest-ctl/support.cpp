#include "support.hpp"

#include <unistd.h>

#include <memory>

namespace atrest_ctl {

atrest::encryption_config flags_config(const key_options& o) {
    if (!o.config.empty()) return atrest::load_toml_config(o.config);
    if (o.master_key_file.empty()) {
        throw atrest::error(atrest::errc::invalid_argument, "give --config FILE or --master-key-file FILE");
    }
    atrest::encryption_config config;
    config.master_key = atrest::master_key_config{atrest::master_key_config::kind::file, o.master_key_file, {}, {}, {}};
    if (!o.previous_master_key_file.empty()) {
        config.previous_master_key =
            atrest::master_key_config{atrest::master_key_config::kind::file, o.previous_master_key_file, {}, {}, {}};
    }
    return config;
}

atrest::encryption_config open_config(const key_options& o, bool writable) {
    auto config = flags_config(o);
    if (!o.method.empty()) {
        config.data_encryption_method = atrest::parse_method(o.method);
    } else if (writable && o.config.empty()) {
        // No config names a method: keep whatever the engine uses now, the current key's method.
        atrest::open_settings peek{true, {}};
        const auto current = atrest::open_key_manager(config, o.data_dir, peek);
        for (const auto& k : current->data_keys()) {
            if (k.id == current->current_key_id()) config.data_encryption_method = k.method;
        }
    }
    return config;
}

atrest::open_settings settings(bool writable) { return atrest::open_settings{!writable, warn}; }

std::unique_ptr<manager> open_manager(const key_options& o, bool writable) {
    if (o.data_dir.empty()) throw atrest::error(atrest::errc::invalid_argument, "--data-dir is required");
    return atrest::open_key_manager(open_config(o, writable), o.data_dir, settings(writable));
}

std::string to_hex(std::span<const std::byte> bytes) {
    static constexpr char digits[] = "0123456789abcdef";
    std::string out;
    out.reserve(bytes.size() * 2);
    for (auto b : bytes) {
        out += digits[static_cast<unsigned>(b) >> 4];
        out += digits[static_cast<unsigned>(b) & 15];
    }
    return out;
}

std::vector<std::byte> from_hex(std::string_view hex, std::string_view what) {
    auto nibble = [&](char c) -> unsigned {
        if (c >= '0' && c <= '9') return static_cast<unsigned>(c - '0');
        if (c >= 'a' && c <= 'f') return static_cast<unsigned>(c - 'a' + 10);
        if (c >= 'A' && c <= 'F') return static_cast<unsigned>(c - 'A' + 10);
        throw atrest::error(atrest::errc::invalid_argument, std::string(what) + ": '" + c + "' is not a hex digit");
    };
    if (hex.size() % 2 != 0) {
        throw atrest::error(atrest::errc::invalid_argument,
                            std::string(what) + ": odd number of hex digits (" + std::to_string(hex.size()) + ")");
    }
    std::vector<std::byte> out(hex.size() / 2);
    for (std::size_t i = 0; i < out.size(); ++i) out[i] = static_cast<std::byte>(nibble(hex[2 * i]) << 4 | nibble(hex[2 * i + 1]));
    return out;
}

progress::progress(std::string label, std::uint64_t total)
    : m_label(std::move(label)), m_total(total), m_enabled(::isatty(STDERR_FILENO) == 1 && total > 0) {}

void progress::update(std::uint64_t done) {
    if (!m_enabled) return;
    const int percent = static_cast<int>(done * 100 / m_total);
    if (percent == m_last_percent) return;
    m_last_percent = percent;
    std::fprintf(stderr, "\r%s %3d%%", m_label.c_str(), percent);
    std::fflush(stderr);
}

progress::~progress() {
    if (m_enabled && m_last_percent >= 0) std::fputs("\n", stderr);
}

}  // namespace atrest_ctl
