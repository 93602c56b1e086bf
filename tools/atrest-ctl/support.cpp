#include "support.hpp"

#include <unistd.h>

#include <iostream>
#include <memory>

namespace atrest_ctl {

void warn(std::string_view message) {
    std::fprintf(stderr, "atrest-ctl: warning: %s\n", escaped(message).c_str());
}

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

namespace {

bool has_metadata(const std::filesystem::path& dir) {
    return atrest::detail::posix::exists(dir / manager::key_dictionary_name) ||
           atrest::detail::posix::exists(dir / manager::file_dictionary_name);
}

}  // namespace

atrest::encryption_config open_config(const key_options& o, bool writable, bool command_has_init) {
    if (o.data_dir.empty()) throw atrest::error(atrest::errc::invalid_argument, "--data-dir is required");
    auto config = flags_config(o);
    atrest::validate(config);  // a bad config or master key is reported before anything about the directory
    (void)atrest::make_master_key(config);
    const bool creating = writable && o.init && !has_metadata(o.data_dir);
    if (!has_metadata(o.data_dir) && !creating) {
        throw atrest::error(atrest::errc::not_found,
                            "no atrest metadata in '" + o.data_dir + "' (neither key.dict nor file.dict exists): check "
                            "--data-dir" + (command_has_init ? "; to create new metadata there, add --init" : ""));
    }
    if (!o.method.empty()) {
        config.data_encryption_method = atrest::parse_method(o.method);
    } else if (creating) {
        if (o.config.empty()) config.data_encryption_method = init_default_method;
    } else if (writable && o.config.empty()) {
        // No config names a method: keep whatever the engine uses now, the current key's method.
        auto peek = config;
        peek.read_only = true;
        const auto current = atrest::open_key_manager(peek, o.data_dir, warn);
        for (const auto& k : current->data_keys()) {
            if (k.id == current->current_key_id()) config.data_encryption_method = k.method;
        }
    }
    config.read_only = !writable;
    config.create_if_missing = creating;
    return config;
}

std::unique_ptr<manager> open_manager(const key_options& o, bool writable, bool command_has_init) {
    return atrest::open_key_manager(open_config(o, writable, command_has_init), o.data_dir, warn);
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
        throw atrest::error(atrest::errc::invalid_argument, std::string(what) + ": a character that is not a hex digit");
    };
    if (hex.size() % 2 != 0) {
        throw atrest::error(atrest::errc::invalid_argument,
                            std::string(what) + ": odd number of hex digits (" + std::to_string(hex.size()) + ")");
    }
    std::vector<std::byte> out(hex.size() / 2);
    for (std::size_t i = 0; i < out.size(); ++i) out[i] = static_cast<std::byte>(nibble(hex[2 * i]) << 4 | nibble(hex[2 * i + 1]));
    return out;
}

std::vector<std::byte> read_key_file(const std::string& path) {
    std::string text;
    if (path == "-") {
        text.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
    } else {
        const auto bytes = atrest::detail::posix::read_file_if_exists(path, "key file");
        if (!bytes) throw atrest::error(atrest::errc::not_found, "key file '" + path + "' does not exist");
        text.assign(reinterpret_cast<const char*>(bytes->data()), bytes->size());
    }
    if (text.ends_with("\n")) text.pop_back();
    if (text.ends_with("\r")) text.pop_back();
    if (text.empty()) throw atrest::error(atrest::errc::invalid_argument, "--key-file " + path + ": no key in it");
    auto key = from_hex(text, "--key-file " + path);
    atrest::detail::botan_compat::secure_scrub(text.data(), text.size());
    return key;
}

namespace {

/// Length of the valid UTF-8 sequence at `s[i]`, or 0 if there is none (overlong forms,
/// surrogates and code points above U+10FFFF are invalid).
std::size_t utf8_length(std::string_view s, std::size_t i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) return 1;
    std::size_t n = 0;
    unsigned min = 0, cp = 0;
    if ((c & 0xE0) == 0xC0) n = 2, min = 0x80, cp = c & 0x1F;
    else if ((c & 0xF0) == 0xE0) n = 3, min = 0x800, cp = c & 0x0F;
    else if ((c & 0xF8) == 0xF0) n = 4, min = 0x10000, cp = c & 0x07;
    else return 0;
    if (i + n > s.size()) return 0;
    for (std::size_t k = 1; k < n; ++k) {
        const auto d = static_cast<unsigned char>(s[i + k]);
        if ((d & 0xC0) != 0x80) return 0;
        cp = cp << 6 | (d & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
    return n;
}

}  // namespace

bool is_utf8(std::string_view text) {
    for (std::size_t i = 0; i < text.size();) {
        const auto n = utf8_length(text, i);
        if (n == 0) return false;
        i += n;
    }
    return true;
}

std::string escaped(std::string_view text) {
    static constexpr char digits[] = "0123456789abcdef";
    std::string out;
    for (std::size_t i = 0; i < text.size();) {
        const auto c = static_cast<unsigned char>(text[i]);
        const auto n = utf8_length(text, i);
        if (c == '\\') {
            out += "\\\\";
        } else if (c == '\n') {
            out += "\\n";
        } else if (c == '\t') {
            out += "\\t";
        } else if (c == '\r') {
            out += "\\r";
        } else if (n == 0 || c < 0x20 || c == 0x7F) {
            out += "\\x";
            out += digits[c >> 4];
            out += digits[c & 15];
            ++i;
            continue;
        } else {
            out.append(text.substr(i, n));
            i += n;
            continue;
        }
        ++i;
    }
    return out;
}

void put_path(nlohmann::json& object, std::string_view path) {
    if (is_utf8(path)) {
        object["path"] = std::string(path);
        return;
    }
    std::string lossy;
    for (std::size_t i = 0; i < path.size();) {
        const auto n = utf8_length(path, i);
        if (n == 0) {
            lossy += "\xEF\xBF\xBD";  // U+FFFD
            ++i;
        } else {
            lossy.append(path.substr(i, n));
            i += n;
        }
    }
    object["path"] = lossy;
    object["path_hex"] = to_hex(std::as_bytes(std::span(path.data(), path.size())));
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
