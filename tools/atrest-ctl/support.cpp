#include "support.hpp"

#include <unistd.h>

#include <memory>

namespace atrest_ctl {

namespace {
atrest::any_master_key with_optional_previous(atrest::file_master_key<> current, const std::string& previous) {
    if (previous.empty()) return atrest::any_master_key(std::move(current));
    return atrest::any_master_key(atrest::with_previous<atrest::file_master_key<>, atrest::file_master_key<>>(
        std::move(current), atrest::file_master_key<>(previous, warn)));
}
}  // namespace

atrest::any_master_key open_master_key(const key_options& o) {
    if (!o.config.empty()) {
        throw atrest::error(atrest::errc::unsupported, "--config is not supported by this build of atrest-ctl");
    }
    if (o.master_key_file.empty()) {
        throw atrest::error(atrest::errc::invalid_argument, "give --config FILE or --master-key-file FILE");
    }
    return with_optional_previous(atrest::file_master_key<>(o.master_key_file, warn), o.previous_master_key_file);
}

std::unique_ptr<manager> open_manager(const key_options& o, bool writable) {
    if (o.data_dir.empty()) throw atrest::error(atrest::errc::invalid_argument, "--data-dir is required");
    atrest::key_manager_options options;
    options.read_only = !writable;
    if (writable) {
        if (!o.method.empty()) {
            options.data_encryption_method = atrest::parse_method(o.method);
        } else {
            // Keep whatever the engine uses now: the current key's method.
            atrest::key_manager_options peek;
            peek.read_only = true;
            const manager current(o.data_dir, open_master_key(o), peek);
            const auto keys = current.data_keys();
            for (const auto& k : keys) {
                if (k.id == current.current_key_id()) options.data_encryption_method = k.method;
            }
        }
    }
    return std::make_unique<manager>(o.data_dir, open_master_key(o), options);
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
