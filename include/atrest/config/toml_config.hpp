#pragma once
/// Reads `[security.encryption]` from a TiKV/TiFlash-style TOML file (toml++). Part of the optional
/// target `atrest::config`, not of the core umbrella, so engines that never read TOML do not need
/// toml++. Other tables in the file (the engine's own settings) are ignored; inside
/// `security.encryption` every key is checked, and every error names the file, line and column.

#include <atrest/config/encryption_config.hpp>
#include <atrest/detail/posix.hpp>
#include <atrest/error.hpp>

#include <toml++/toml.h>

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#if !TOML_EXCEPTIONS
#error "atrest/config/toml_config.hpp needs toml++ built with exceptions (TOML_EXCEPTIONS=1)"
#endif

namespace atrest {

namespace detail {

[[nodiscard]] inline std::string toml_location(std::string_view source_name, const toml::source_region& where) {
    return std::string(source_name) + ":" + std::to_string(where.begin.line) + ":" +
           std::to_string(where.begin.column) + ": ";
}

/// `e` with `prefix` in front of its message and the same kind.
[[nodiscard]] inline error with_location(const error& e, const std::string& prefix) {
    return error(e.kind(), prefix + e.what());
}

/// The value as the text `config_builder::set` reads, after checking its TOML type.
[[nodiscard]] inline std::string toml_value_text(const std::string& key, const toml::node& value) {
    switch (config_builder::kind_of(key)) {
        case value_kind::boolean:
            if (const auto* b = value.as_boolean()) return b->get() ? "true" : "false";
            throw error(errc::config, key + " must be a boolean; accepted: true or false (unquoted)");
        case value_kind::integer:
            if (const auto* i = value.as_integer()) return std::to_string(i->get());
            throw error(errc::config, key + " must be an integer; accepted: a whole number such as 1000000 (unquoted)");
        case value_kind::text: break;
    }
    if (const auto* s = value.as_string()) return s->get();
    throw error(errc::config, key + " must be a string; accepted: a quoted value such as \"...\"");
}

/// Feeds every entry of `table` (a table at `prefix`) to `builder`; nested tables are allowed only
/// for the two master-key sections and their `aws` credentials (TiKV's `[...master-key.aws]`).
inline void read_toml_table(const toml::table& table, const std::string& prefix, config_builder& builder,
                            std::string_view source_name) {
    for (const auto& [name, node] : table) {
        const std::string key = prefix + "." + std::string(name.str());
        const bool in_master_key = prefix == master_key_section || prefix == previous_master_key_section;
        const bool is_section = (prefix == "security.encryption" &&
                                 (key == master_key_section || key == previous_master_key_section)) ||
                                (in_master_key && name.str() == "aws");
        const auto* sub = node.as_table();
        try {
            if (is_section && sub == nullptr) throw error(errc::config, key + " must be a table ([" + key + "])");
            if (sub != nullptr && !is_section) throw unknown_key_error(key);
            if (sub != nullptr) {
                if (!in_master_key) builder.open_section(key);
            } else {
                builder.set(key, toml_value_text(key, node));
            }
        } catch (const error& e) {
            throw with_location(e, toml_location(source_name, node.source()));
        }
        if (sub != nullptr) read_toml_table(*sub, key, builder, source_name);
    }
}

/// TOML 1.0's escapes after a backslash in a basic string.
[[nodiscard]] constexpr bool is_toml_escape(char c) noexcept {
    return c == 'b' || c == 't' || c == 'n' || c == 'f' || c == 'r' || c == '"' || c == '\\' || c == 'u' || c == 'U';
}
[[nodiscard]] constexpr bool is_toml_bare_key_char(char c) noexcept {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
}

/// The code point at `text[i]` and its length, or nullopt for invalid UTF-8 (a stray or missing
/// continuation byte, an overlong form, a surrogate, or beyond U+10FFFF).
[[nodiscard]] inline std::optional<std::pair<char32_t, std::size_t>> decode_utf8(std::string_view text, std::size_t i) {
    const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(text[i + k]); };
    const unsigned char b0 = byte(0);
    if (b0 < 0x80) return std::pair{char32_t{b0}, std::size_t{1}};
    std::size_t len = 0;
    char32_t cp = 0;
    char32_t min = 0;
    if (b0 >= 0xc2 && b0 <= 0xdf) {
        len = 2, cp = b0 & 0x1fu, min = 0x80;
    } else if (b0 >= 0xe0 && b0 <= 0xef) {
        len = 3, cp = b0 & 0x0fu, min = 0x800;
    } else if (b0 >= 0xf0 && b0 <= 0xf4) {
        len = 4, cp = b0 & 0x07u, min = 0x10000;
    } else {
        return std::nullopt;  // a continuation byte, C0/C1 (always overlong) or F5..FF
    }
    if (text.size() - i < len) return std::nullopt;
    for (std::size_t k = 1; k < len; ++k) {
        if ((byte(k) & 0xc0u) != 0x80u) return std::nullopt;
        cp = cp << 6 | (byte(k) & 0x3fu);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return std::nullopt;
    return std::pair{cp, len};
}

/// Checks `text` (a whole TOML document) for what TOML 1.0 forbids everywhere and for what toml++
/// 3.3.0 (Debian 12's) mishandles, before toml++ sees it, and returns it without a leading BOM.
/// toml++ 3.3.0 asserts — undefined behaviour under NDEBUG — when a table header's '[' is followed
/// by something that cannot start a key ("[\x01", "[&", "[[["), and reaches `__builtin_unreachable`
/// when it asks whether some non-ASCII characters are whitespace (U+00A1..U+0499, U+2C5E..U+3057
/// but U+3000, U+FB26..U+FEFE: "EF BB 9F" is U+FEDF), which it does for any non-ASCII character
/// outside a string or comment, after a backslash in a multi-line basic string, and for the first
/// character after a line-ending backslash's whitespace. Both are fixed on toml++'s master after
/// v3.4.0 (pull requests #301 and #305, for issues #294 and #295), in no release yet.
/// Rejected, as `errc::config` naming `source_name`, line and column: invalid UTF-8 (overlong
/// forms, surrogates, above U+10FFFF); control characters but tab, LF and the CR of CRLF; a BOM
/// anywhere but as the first three bytes; non-ASCII characters outside strings and comments;
/// escapes TOML 1.0 lacks; a table header that does not start with a key; and, the one thing
/// valid TOML can hit, a non-ASCII character first after a line-ending backslash.
[[nodiscard]] inline std::string_view checked_toml_text(std::string_view text, std::string_view source_name) {
    if (text.starts_with("\xef\xbb\xbf")) text.remove_prefix(3);
    enum class state : std::uint8_t { normal, comment, basic, literal, ml_basic, ml_literal };
    state st = state::normal;
    std::size_t line = 1;
    std::size_t column = 1;            // in code points, as toml++ counts
    std::size_t depth = 0;             // open '[' and '{' of values
    bool line_start = true;            // only whitespace so far on this line
    bool in_header = false;            // this line is a table header: its brackets are not values
    bool after_line_escape = false;    // skipping whitespace after a line-ending backslash
    const auto fail = [&](const std::string& why) {
        throw error(errc::config, std::string(source_name) + ":" + std::to_string(line) + ":" + std::to_string(column) +
                                      ": invalid TOML: " + why);
    };
    const auto hex = [](char32_t cp) {
        char out[16];
        std::snprintf(out, sizeof out, "U+%04X", static_cast<unsigned>(cp));
        return std::string(out);
    };
    const auto quote_run = [&](std::size_t i, char q) {
        std::size_t n = 0;
        while (i + n < text.size() && text[i + n] == q) ++n;
        return n;
    };
    std::size_t i = 0;
    while (i < text.size()) {
        const auto decoded = decode_utf8(text, i);
        if (!decoded) {
            char byte[8];
            std::snprintf(byte, sizeof byte, "0x%02X", static_cast<unsigned>(static_cast<unsigned char>(text[i])));
            fail(std::string("invalid UTF-8 at byte ") + byte + " (offset " + std::to_string(i) + ")");
        }
        const auto [cp, len] = *decoded;
        if (cp == '\r' && (i + 1 == text.size() || text[i + 1] != '\n')) {
            fail("carriage return (U+000D) without a line feed; TOML allows CR only in CRLF");
        }
        if ((cp < 0x20 && cp != '\t' && cp != '\n' && cp != '\r') || cp == 0x7f) {
            fail("control character " + hex(cp) + "; TOML allows only tab, LF and CRLF");
        }
        std::size_t step = len;  // bytes consumed here
        const char c = cp < 0x80 ? static_cast<char>(cp) : '\0';  // U+0422's low byte is not '"' (a fuzzer-found hang)
        switch (st) {
            case state::normal:
                if (cp >= 0x80) fail("non-ASCII character " + hex(cp) + " outside a string or comment");
                if (c == '#') {
                    st = state::comment;
                } else if (c == '"' || c == '\'') {
                    const bool multi = quote_run(i, c) >= 3;
                    st = c == '"' ? (multi ? state::ml_basic : state::basic) : (multi ? state::ml_literal : state::literal);
                    if (multi) step = 3;
                } else if (c == '[' && depth == 0 && line_start) {
                    std::size_t j = i + 1;  // a table header: toml++ 3.3.0 needs a key to start it
                    while (j < text.size() && (text[j] == ' ' || text[j] == '\t')) ++j;
                    if (j == i + 1 && j < text.size() && text[j] == '[') {
                        ++j;
                        while (j < text.size() && (text[j] == ' ' || text[j] == '\t')) ++j;
                    }
                    if (j < text.size() && !is_toml_bare_key_char(text[j]) && text[j] != '"' && text[j] != '\'' &&
                        text[j] != ']') {
                        column += j - i;
                        fail("a table header must start with a key (a bare key or a quoted one)");
                    }
                    in_header = true;
                } else if ((c == '[' || c == '{') && !in_header) {
                    ++depth;
                } else if ((c == ']' || c == '}') && !in_header && depth > 0) {
                    --depth;
                } else if (c == '\n') {
                    in_header = false;
                }
                if (c != ' ' && c != '\t' && c != '\r') line_start = c == '\n';
                break;
            case state::comment:
                if (c == '\n') st = state::normal, line_start = true, in_header = false;
                break;
            case state::basic:
            case state::ml_basic: {
                const bool multi = st == state::ml_basic;
                if (after_line_escape) {
                    if (c == ' ' || c == '\t' || c == '\r' || c == '\n') break;
                    after_line_escape = false;
                    if (cp >= 0x80) {
                        fail("non-ASCII character " + hex(cp) +
                             " right after a line-ending backslash (toml++ 3.3 cannot read it; put it on the "
                             "backslash's line or escape it as \\u)");
                    }
                }
                if (c == '\\') {
                    const char e = i + 1 < text.size() ? text[i + 1] : '\0';
                    if (multi && (e == ' ' || e == '\t' || e == '\r' || e == '\n')) {
                        after_line_escape = true;  // toml++ checks that only whitespace follows on the line
                    } else if (is_toml_escape(e)) {
                        step = 2;
                    } else if (i + 1 < text.size()) {
                        ++column;
                        fail("invalid escape sequence after a backslash; TOML accepts \\b \\t \\n \\f \\r \\\" \\\\ "
                             "\\uXXXX \\UXXXXXXXX" + std::string(multi ? " and a line-ending backslash" : ""));
                    }
                } else if (c == '"') {
                    const auto run = quote_run(i, '"');
                    if (!multi) {
                        st = state::normal, line_start = false;
                    } else if (run >= 3) {
                        st = state::normal, line_start = false, step = run;
                    } else {
                        step = run;
                    }
                } else if (c == '\n' && !multi) {
                    st = state::normal, line_start = true, in_header = false;  // unterminated: toml++ says so
                }
                break;
            }
            case state::literal:
                if (c == '\'') st = state::normal, line_start = false;
                if (c == '\n') st = state::normal, line_start = true, in_header = false;
                break;
            case state::ml_literal:
                if (c == '\'') {
                    step = quote_run(i, '\'');
                    if (step >= 3) st = state::normal, line_start = false;
                }
                break;
        }
        for (std::size_t k = 0; k < step;) {  // advance line and column over what was consumed
            const auto [next, n] = k == 0 ? std::pair{cp, len} : *decode_utf8(text, i + k);
            if (next == '\n') {
                ++line, column = 1;
            } else {
                ++column;
            }
            k += n;
        }
        i += step;
    }
    return text;
}

}  // namespace detail

/// Parses TOML text; `source_name` (usually the path) prefixes every message. Syntax errors and
/// bad keys or values are `errc::config` ("name:line:column: …"); an encryption-on config under a
/// plaintext master key is `errc::insecure` unless `insecure` allows it. No
/// `[security.encryption]` table means TiKV's defaults (encryption off).
[[nodiscard]] inline encryption_config parse_toml_config(std::string_view text, std::string_view source_name,
                                                         insecure_master_key insecure = insecure_master_key::refuse) {
    toml::table root;
    try {
        root = toml::parse(detail::checked_toml_text(text, source_name), std::string(source_name));
    } catch (const toml::parse_error& e) {
        throw error(errc::config,
                    detail::toml_location(source_name, e.source()) + "invalid TOML: " + std::string(e.description()));
    }
    detail::config_builder builder;
    if (const toml::node* security = root.get("security")) {
        const auto* security_table = security->as_table();
        if (security_table == nullptr) {
            throw error(errc::config, detail::toml_location(source_name, security->source()) +
                                          "security must be a table ([security])");
        }
        if (const toml::node* encryption = security_table->get("encryption")) {
            const auto* encryption_table = encryption->as_table();
            if (encryption_table == nullptr) {
                throw error(errc::config, detail::toml_location(source_name, encryption->source()) +
                                              "security.encryption must be a table ([security.encryption])");
            }
            detail::read_toml_table(*encryption_table, "security.encryption", builder, source_name);
        }
    }
    try {
        return builder.finish(insecure);
    } catch (const error& e) {
        throw detail::with_location(e, std::string(source_name) + ": ");
    }
}

/// Reads and parses the file at `path`; a missing file is `errc::not_found`, an unreadable one
/// `errc::io_error`, both naming the path.
[[nodiscard]] inline encryption_config load_toml_config(const std::filesystem::path& path,
                                                        insecure_master_key insecure = insecure_master_key::refuse) {
    const auto bytes = detail::posix::read_file_if_exists(path);
    if (!bytes) throw error(errc::not_found, "config file '" + path.string() + "' does not exist");
    const std::string_view text(reinterpret_cast<const char*>(bytes->data()), bytes->size());
    return parse_toml_config(text, path.string(), insecure);
}

}  // namespace atrest
