// A KMIP master key's config: `type = "kmip"` with endpoint (host[:port], default 5696), key-id
// or key-name, mode, the shared TLS keys and timeout; refusals name the key; the flat map
// round-trips; a build without atrest::kmip says so (checked where it is built: here it is).
#include "catch.hpp"
#include "expect_error.hpp"

#include <atrest/config.hpp>
#include <atrest/config/toml_config.hpp>
#include <atrest/kmip/kmip_client.hpp>

#include <string>

namespace {

using atrest::errc;
using atrest_test::require_error;

constexpr std::string_view header = R"(
[security.encryption]
data-encryption-method = "aes256-ctr"
)";

atrest::encryption_config parse(const std::string& master_key_lines) {
    return atrest::parse_toml_config(std::string(header) + "[security.encryption.master-key]\ntype = \"kmip\"\n" +
                                         master_key_lines,
                                     "tikv.toml");
}

}  // namespace

TEST_CASE("KMIP config: endpoint, key-id or key-name, mode, TLS and timeout", "[config]") {
    const auto c = parse(R"(endpoint = "kmip.example.com"
key-id = "4a1c2b3d"
ca-path = "/etc/kmip/ca.pem"
cert-path = "/etc/kmip/client.pem"
key-path = "/etc/kmip/client.key"
timeout = "3s"
[security.encryption.previous-master-key]
type = "kmip"
endpoint = "10.0.0.7:15696"
key-name = "tikv-master"
mode = "get"
)");
    REQUIRE(c.master_key);
    const auto& mk = *c.master_key;
    CHECK(mk.type == atrest::master_key_config::kind::kmip);
    CHECK(mk.mode == atrest::master_key_config::kmip_mode::wrap);
    CHECK(mk.tls.cert_path == "/etc/kmip/client.pem");
    CHECK(mk.timeout == std::chrono::seconds(3));
    const auto s = atrest::kmip::kmip_settings::from(mk, atrest::master_key_section);
    CHECK(s.host == "kmip.example.com");
    CHECK(s.port == 5696);
    CHECK(s.key_id == "4a1c2b3d");
    REQUIRE(c.previous_master_key);
    const auto p = atrest::kmip::kmip_settings::from(*c.previous_master_key, atrest::previous_master_key_section);
    CHECK(p.host == "10.0.0.7");
    CHECK(p.port == 15696);
    CHECK(p.key_name == "tikv-master");
    CHECK(p.mode == atrest::master_key_config::kmip_mode::get);
    CHECK(atrest::from_flat_map(atrest::to_flat_map(c)) == c);
    CHECK(atrest::to_flat_map(c).at("security.encryption.previous-master-key.mode") == "get");
}

TEST_CASE("KMIP config: refusals name the key", "[config]") {
    const std::string mk = "security.encryption.master-key.";
    require_error([] { (void)parse("key-id = \"1\"\n"); }, errc::config, {mk + "endpoint is required", "5696"});
    require_error([] { (void)parse("endpoint = \"h\"\n"); }, errc::config, {mk + "key-id or " + mk + "key-name is required"});
    require_error([] { (void)parse("endpoint = \"h\"\nkey-id = \"1\"\nkey-name = \"n\"\n"); }, errc::config,
                  {"are both set"});
    require_error([] { (void)parse("endpoint = \"https://h:5696\"\nkey-id = \"1\"\n"); }, errc::config,
                  {mk + "endpoint = \"https://h:5696\"", "no scheme"});
    require_error([] { (void)parse("endpoint = \"h:99999\"\nkey-id = \"1\"\n"); }, errc::config, {mk + "endpoint", "65535"});
    require_error([] { (void)parse("endpoint = \"h\"\nkey-id = \"1\"\nmode = \"encrypt\"\n"); }, errc::config,
                  {mk + "mode = \"encrypt\"", "\"wrap\"", "\"get\""});
    require_error([] { (void)parse("endpoint = \"h\"\nkey-id = \"1\"\nregion = \"us-west-2\"\n"); }, errc::config,
                  {mk + "region is set but", "type = \"kmip\" does not use it", "\"kms\""});
    require_error([] { (void)parse("endpoint = \"h\"\nkey-id = \"1\"\ncert-path = \"/c\"\n"); }, errc::config,
                  {mk + "cert-path is set without " + mk + "key-path"});
    require_error(
        [] {
            (void)atrest::parse_toml_config(std::string(header) +
                                                "[security.encryption.master-key]\ntype = \"file\"\npath = \"/k\"\n"
                                                "mode = \"get\"\n",
                                            "tikv.toml");
        },
        errc::config, {mk + "mode is set but", "it applies to type = \"kmip\""});
    require_error(
        [] {
            (void)atrest::parse_toml_config(std::string(header) +
                                                "[security.encryption.master-key]\ntype = \"file\"\npath = \"/k\"\n"
                                                "endpoint = \"h\"\n",
                                            "tikv.toml");
        },
        errc::config, {mk + "endpoint is set but", "it applies to type = \"kms\" or \"kmip\""});
}

TEST_CASE("KMIP config: this build makes type = \"kmip\" master keys", "[config]") {
    STATIC_REQUIRE(atrest::has_kmip);
}
