// The optional TOML reader (target atrest::config): TiKV's documented examples, the engine's own
// tables ignored, every error located by file, line and column, and files on disk.
#include "catch.hpp"
#include "expect_error.hpp"
#include "temp_dir.hpp"

#include <atrest/config/toml_config.hpp>

#include <fstream>
#include <initializer_list>
#include <string>
#include <string_view>

using namespace std::chrono_literals;
using atrest::errc;
using atrest::master_key_config;

namespace {

atrest::error error_of(std::string_view toml, atrest::insecure_master_key insecure = atrest::insecure_master_key::refuse) {
    INFO(toml);
    return atrest_test::expect_error([&] { (void)atrest::parse_toml_config(toml, "tikv.toml", insecure); });
}

void require_error(std::string_view toml, errc kind, std::initializer_list<std::string_view> parts) {
    const auto e = error_of(toml);
    INFO(e.what());
    CHECK(e.kind() == kind);
    for (auto part : parts) CHECK(std::string_view(e.what()).find(part) != std::string_view::npos);
}

}  // namespace

TEST_CASE("TOML: TiKV's documented KMS rotation example", "[config][toml]") {
    const auto c = atrest::parse_toml_config(R"(
# An engine's own settings live beside ours and are ignored.
[storage]
data-dir = "/data"
[security]
ca-path = "/ca.pem"

[security.encryption]
data-encryption-method = "aes128-ctr"
data-key-rotation-period = "168h" # 7 days

[security.encryption.master-key]
type = "kms"
key-id = "50a0c603-1c6f-11e6-bb9e-3fadde80ce75"
region = "us-west-2"
endpoint = "https://kms.us-west-2.amazonaws.com"

[security.encryption.previous-master-key]
type = "kms"
key-id = "0987dcba-09fe-87dc-65ba-ab0987654321"
region = "us-west-2"
)",
                                             "tikv.toml");
    CHECK(c.data_encryption_method == atrest::method::aes128_ctr);
    CHECK(c.data_key_rotation_period == 168h);
    CHECK(c.enable_file_dictionary_log);
    CHECK(c.file_dictionary_rewrite_threshold == 1'000'000);
    REQUIRE(c.master_key);
    CHECK(*c.master_key ==
          master_key_config{master_key_config::kind::kms, {}, "50a0c603-1c6f-11e6-bb9e-3fadde80ce75", "us-west-2",
                            "https://kms.us-west-2.amazonaws.com"});
    REQUIRE(c.previous_master_key);
    CHECK(c.previous_master_key->key_id == "0987dcba-09fe-87dc-65ba-ab0987654321");
    CHECK(c.previous_master_key->endpoint.empty());
}

TEST_CASE("TOML: dotted keys, inline tables and all scalar keys", "[config][toml]") {
    const auto c = atrest::parse_toml_config(R"(
security.encryption.data-encryption-method = "sm4-ctr"
security.encryption.data-key-rotation-period = "1h30m"
security.encryption.enable-file-dictionary-log = false
security.encryption.file-dictionary-rewrite-threshold = 42
security.encryption.master-key = { type = "file", path = "/secrets/master.key" }
)",
                                             "inline.toml");
    CHECK(c.data_encryption_method == atrest::method::sm4_ctr);
    CHECK(c.data_key_rotation_period == 5400s);
    CHECK_FALSE(c.enable_file_dictionary_log);
    CHECK(c.file_dictionary_rewrite_threshold == 42);
    REQUIRE(c.master_key);
    CHECK(c.master_key->type == master_key_config::kind::file);
    CHECK(c.master_key->path == "/secrets/master.key");
    // The same config through the flat map gives an equal result.
    CHECK(atrest::from_flat_map(atrest::to_flat_map(c)) == c);
}

TEST_CASE("TOML: no security.encryption table means TiKV's defaults", "[config][toml]") {
    CHECK(atrest::parse_toml_config("", "empty.toml") == atrest::encryption_config{});
    CHECK(atrest::parse_toml_config("[security]\n[server]\naddr = \"x\"\n", "t.toml") == atrest::encryption_config{});
    CHECK(atrest::parse_toml_config("[security.encryption]\n", "t.toml") == atrest::encryption_config{});
}

TEST_CASE("TOML: syntax errors name the file, line and column", "[config][toml]") {
    require_error("[security.encryption]\ndata-encryption-method = aes128-ctr\n", errc::config,
                  {"tikv.toml:2:", "invalid TOML"});
    require_error("[security.encryption]\n\n\ndata-key-rotation-period = \"168h\nx = 1\n", errc::config,
                  {"tikv.toml:4:", "invalid TOML"});
    require_error("[security.encryption]\ndata-encryption-method = \"a\"\ndata-encryption-method = \"b\"\n",
                  errc::config, {"tikv.toml:3:", "invalid TOML"});
}

TEST_CASE("TOML: bad values are located and name key, value and what is accepted", "[config][toml]") {
    require_error("[security.encryption]\n\ndata-encryption-method = \"aes-128-ctr\"\n", errc::config,
                  {"tikv.toml:3:", "security.encryption.data-encryption-method = \"aes-128-ctr\"", "\"aes128-ctr\""});
    require_error("[security.encryption]\ndata-key-rotation-period = \"7 days\"\n", errc::config,
                  {"tikv.toml:2:", "data-key-rotation-period = \"7 days\"", "168h"});
    require_error("[security.encryption]\ndata-key-rotation-period = \"0s\"\n", errc::config,
                  {"tikv.toml:2:", "positive"});
    require_error("[security.encryption]\ndata-key-rotation-period = 168\n", errc::config,
                  {"tikv.toml:2:", "data-key-rotation-period must be a string"});
    require_error("[security.encryption]\nenable-file-dictionary-log = \"true\"\n", errc::config,
                  {"tikv.toml:2:", "enable-file-dictionary-log must be a boolean"});
    require_error("[security.encryption]\nfile-dictionary-rewrite-threshold = \"1000\"\n", errc::config,
                  {"tikv.toml:2:", "file-dictionary-rewrite-threshold must be an integer"});
    require_error("[security.encryption]\nfile-dictionary-rewrite-threshold = -3\n", errc::config,
                  {"tikv.toml:2:", "file-dictionary-rewrite-threshold = \"-3\"", "whole number"});
    require_error("[security.encryption]\nfile-dictionary-rewrite-threshold = 0\n", errc::config,
                  {"tikv.toml:2:", "whole number"});
    require_error("[security.encryption.master-key]\ntype = \"aws-kms\"\n", errc::config,
                  {"tikv.toml:2:", "master-key.type = \"aws-kms\"", "\"file\", \"kms\", \"kmip\", \"plaintext\""});
    require_error("[security.encryption.master-key]\ntype = \"file\"\npath = 5\n", errc::config,
                  {"tikv.toml:3:", "master-key.path must be a string"});
    require_error("[security.encryption]\nmaster-key = \"file\"\n", errc::config,
                  {"tikv.toml:2:", "security.encryption.master-key must be a table"});
    require_error("[[security.encryption.master-key]]\ntype = \"file\"\n", errc::config,
                  {"tikv.toml:1:", "security.encryption.master-key must be a table"});
    require_error("security = 1\n", errc::config, {"tikv.toml:1:", "security must be a table"});
    require_error("[security]\nencryption = \"on\"\n", errc::config,
                  {"tikv.toml:2:", "security.encryption must be a table"});
}

TEST_CASE("TOML: unknown keys in the encryption tables are located errors with a suggestion", "[config][toml]") {
    require_error("[security.encryption]\ndata-encryption-method = \"plaintext\"\ndata-key-rotation = \"1h\"\n",
                  errc::config,
                  {"tikv.toml:3:", "unknown configuration key \"security.encryption.data-key-rotation\"",
                   "did you mean \"security.encryption.data-key-rotation-period\""});
    require_error("[security.encryption.master_key]\ntype = \"file\"\n", errc::config,
                  {"tikv.toml:1:", "\"security.encryption.master_key\"", "did you mean \"security.encryption.master-key\""});
    require_error("[security.encryption.master-key]\ntype = \"kms\"\nkey_id = \"k\"\n", errc::config,
                  {"tikv.toml:3:", "did you mean \"security.encryption.master-key.key-id\""});
    require_error("[security.encryption.master-key.extra]\n", errc::config,
                  {"unknown configuration key \"security.encryption.master-key.extra\""});
}

TEST_CASE("TOML: cross-key errors name the file and the keys", "[config][toml]") {
    require_error("[security.encryption.master-key]\ntype = \"file\"\n", errc::config,
                  {"tikv.toml: ", "security.encryption.master-key.path is required"});
    require_error("[security.encryption.previous-master-key]\ntype = \"kms\"\nkey-id = \"k\"\n", errc::config,
                  {"tikv.toml: ", "previous-master-key.region is required"});
    require_error("[security.encryption.master-key]\n", errc::config,
                  {"tikv.toml: ", "security.encryption.master-key.type is missing"});
    require_error("[security.encryption]\ndata-encryption-method = \"aes256-ctr\"\n", errc::insecure,
                  {"tikv.toml: ", "plaintext", "\"aes256-ctr\""});
    const auto text = "[security.encryption]\ndata-encryption-method = \"aes256-ctr\"\n"
                      "[security.encryption.master-key]\ntype = \"plaintext\"\n";
    require_error(text, errc::insecure, {"tikv.toml: ", "plaintext"});
    const auto allowed = atrest::parse_toml_config(text, "t.toml", atrest::insecure_master_key::allow);
    CHECK(allowed.allow_insecure_master_key);
    CHECK(allowed.data_encryption_method == atrest::method::aes256_ctr);
    // The message does not carry std::system_error's suffix twice.
    const std::string what = error_of("[security.encryption.master-key]\n").what();
    CHECK(what.find("invalid configuration") == what.rfind("invalid configuration"));
}

TEST_CASE("TOML: load_toml_config reads a file and names missing ones", "[config][toml]") {
    atrest_test::temp_dir dir;
    const auto path = dir / "tikv.toml";
    {
        std::ofstream out(path);
        out << "[security.encryption]\ndata-encryption-method = \"aes192-ctr\"\n"
               "[security.encryption.master-key]\ntype = \"file\"\npath = \"/run/keys/master.key\"\n";
    }
    const auto c = atrest::load_toml_config(path);
    CHECK(c.data_encryption_method == atrest::method::aes192_ctr);
    CHECK(c.master_key->path == "/run/keys/master.key");

    {
        std::ofstream out(path);
        out << "[security.encryption]\n\n  enable-file-dictionary-log = 1\n";
    }
    try {
        (void)atrest::load_toml_config(path);
        FAIL("accepted");
    } catch (const atrest::error& e) {
        CHECK(e.kind() == errc::config);
        CHECK(std::string_view(e.what()).starts_with(path.string() + ":3:"));
    }
    try {
        (void)atrest::load_toml_config(dir / "missing.toml");
        FAIL("accepted");
    } catch (const atrest::error& e) {
        CHECK(e.kind() == errc::not_found);
        CHECK(std::string_view(e.what()).find("missing.toml") != std::string_view::npos);
    }
}
