#pragma once
/// Reads `[security.encryption]` from a TiKV/TiFlash-style TOML file (toml++). Part of the optional
/// target `atrest::config`, not of the core umbrella, so engines that never read TOML do not need
/// toml++. Other tables in the file (the engine's own settings) are ignored; inside
/// `security.encryption` every key is checked, and every error names the file, line and column.

#include <atrest/config/encryption_config.hpp>
#include <atrest/detail/posix.hpp>
#include <atrest/error.hpp>

#include <toml++/toml.h>

#include <filesystem>
#include <string>
#include <string_view>

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
    std::string text = e.what();
    const std::string suffix = ": " + e.code().message();  // std::system_error appends it; drop it
    if (text.size() >= suffix.size() && text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0) {
        text.resize(text.size() - suffix.size());
    }
    return error(e.kind(), prefix + text);
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
/// for the two master-key sections.
inline void read_toml_table(const toml::table& table, const std::string& prefix, config_builder& builder,
                            std::string_view source_name) {
    for (const auto& [name, node] : table) {
        const std::string key = prefix + "." + std::string(name.str());
        const bool is_section = prefix == "security.encryption" &&
                                (key == master_key_section || key == previous_master_key_section);
        const auto* sub = node.as_table();
        try {
            if (is_section && sub == nullptr) throw error(errc::config, key + " must be a table ([" + key + "])");
            if (sub != nullptr && !is_section) throw unknown_key_error(key);
            if (sub != nullptr) {
                builder.open_section(key);
            } else {
                builder.set(key, toml_value_text(key, node));
            }
        } catch (const error& e) {
            throw with_location(e, toml_location(source_name, node.source()));
        }
        if (sub != nullptr) read_toml_table(*sub, key, builder, source_name);
    }
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
        root = toml::parse(text, std::string(source_name));
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
