// A KMS master key's config, exactly as TiKV spells it, and where its credentials come from:
// the config's [...master-key.aws] section, then the environment, then the shared credentials
// file (AWS_SHARED_CREDENTIALS_FILE or ~/.aws/credentials, profile AWS_PROFILE or "default").
// http:// endpoints only on loopback. No secret in any message.
#include "catch.hpp"
#include "expect_error.hpp"
#include "temp_dir.hpp"

#include <atrest/config.hpp>
#include <atrest/config/toml_config.hpp>
#include <atrest/kms/credentials.hpp>

#include <cstdlib>
#include <fstream>
#include <string>

namespace {

using atrest::errc;
using atrest_test::expect_error;
using atrest_test::require_error;

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

void write_text(const std::filesystem::path& p, const std::string& text) { std::ofstream(p) << text; }

constexpr std::string_view header = R"(
[security.encryption]
data-encryption-method = "aes256-ctr"
)";

}  // namespace

TEST_CASE("KMS config: TiKV's keys, the aws credentials table, vendor, TLS and timeout", "[config]") {
    const auto c = atrest::parse_toml_config(std::string(header) + R"(
[security.encryption.master-key]
type = "kms"
key-id = "arn:aws:kms:us-west-2:111122223333:alias/tikv"
region = "us-west-2"
endpoint = "https://vpce-1a2b.kms.us-west-2.vpce.amazonaws.com"
vendor = "aws"
timeout = "3s"
tls-version = "TLSv1.3"

[security.encryption.master-key.aws]
access-key = "AKIDEXAMPLE"
secret-access-key = "very-secret"

[security.encryption.previous-master-key]
type = "kms"
key-id = "1234abcd-12ab-34cd-56ef-1234567890ab"
region = "us-east-1"
)",
                                             "tikv.toml");
    REQUIRE(c.master_key);
    const auto& mk = *c.master_key;
    CHECK(mk.type == atrest::master_key_config::kind::kms);
    CHECK(mk.key_id == "arn:aws:kms:us-west-2:111122223333:alias/tikv");
    CHECK(mk.region == "us-west-2");
    CHECK(mk.endpoint == "https://vpce-1a2b.kms.us-west-2.vpce.amazonaws.com");
    CHECK(mk.vendor == "aws");
    CHECK(mk.access_key == "AKIDEXAMPLE");
    CHECK(mk.secret_access_key == "very-secret");
    CHECK(mk.timeout == std::chrono::seconds(3));
    CHECK(mk.tls.min_version == atrest::tls_version::tls1_3);
    REQUIRE(c.previous_master_key);
    CHECK(c.previous_master_key->region == "us-east-1");
    CHECK(c.previous_master_key->access_key.empty());
    CHECK(c.previous_master_key->timeout == atrest::master_key_config::default_key_service_timeout);
}

TEST_CASE("KMS config: refusals name the key, the secret is never printed", "[config]") {
    auto parse = [](const std::string& master_key_lines) {
        return atrest::parse_toml_config(std::string(header) + "[security.encryption.master-key]\ntype = \"kms\"\n" +
                                             "key-id = \"k\"\nregion = \"us-west-2\"\n" + master_key_lines,
                                         "tikv.toml");
    };
    const std::string mk = "security.encryption.master-key.";
    // http:// only to a loopback address.
    for (const char* ok : {"http://127.0.0.1:4566", "http://127.1.2.3", "http://[::1]:8080", "http://localhost:1",
                           "https://kms.example.com", "https://10.0.0.1:8443"}) {
        INFO(ok);
        CHECK(parse(std::string("endpoint = \"") + ok + "\"\n").master_key->endpoint == ok);
    }
    for (const char* bad : {"http://kms.example.com", "http://10.0.0.1:4566", "http://128.0.0.1", "http://localhost.evil.com"}) {
        INFO(bad);
        require_error([&] { (void)parse(std::string("endpoint = \"") + bad + "\"\n"); }, errc::config,
                      {mk + "endpoint", bad, "loopback"});
    }
    require_error([&] { (void)parse("endpoint = \"ftp://kms\"\n"); }, errc::config, {mk + "endpoint"});
    require_error([&] { (void)parse("endpoint = \"https://kms.example.com/path\"\n"); }, errc::config, {mk + "endpoint"});
    require_error([&] { (void)parse("vendor = \"gcp\"\n"); }, errc::config, {mk + "vendor", "\"gcp\"", "\"aws\""});
    require_error([&] { (void)parse("tls-version = \"TLSv1.1\"\n"); }, errc::config, {mk + "tls-version", "TLSv1.2"});
    require_error([&] { (void)parse("timeout = \"0s\"\n"); }, errc::config, {mk + "timeout"});
    require_error([&] { (void)parse("cert-path = \"/c.pem\"\n"); }, errc::config, {mk + "cert-path", mk + "key-path"});
    require_error([&] { (void)parse("[security.encryption.master-key.aws]\naccess-key = \"AKID\"\n"); }, errc::config,
                  {mk + "aws.access-key", "secret-access-key"});
    const auto e = expect_error([&] { (void)parse("[security.encryption.master-key.aws]\nsecret-access-key = \"s3cr3t-value\"\n"); });
    CHECK(e.kind() == errc::config);
    CHECK_FALSE(contains(e.what(), "s3cr3t-value"));
    require_error([&] { (void)parse("[security.encryption.master-key.aws]\nsecret-key = \"x\"\n"); }, errc::config,
                  {"security.encryption.master-key.aws.secret-key"});
    // A file master key does not take KMS keys.
    require_error([&] {
        (void)atrest::parse_toml_config(std::string(header) + "[security.encryption.master-key]\ntype = \"file\"\n"
                                                              "path = \"/k\"\nvendor = \"aws\"\n", "tikv.toml");
    }, errc::config, {mk + "vendor"});
}

TEST_CASE("KMS credentials: the config's section, then the environment, then the shared file and profile", "[config]") {
    atrest_test::temp_dir dir;
    write_text(dir / "credentials", "# shared credentials\n[default]\naws_access_key_id = AKIDDEFAULT\n"
                                    "aws_secret_access_key = default-secret\n\n[ops]\naws_access_key_id=AKIDOPS\n"
                                    "aws_secret_access_key=ops-secret\naws_session_token = ops-token\n");
    atrest::aws::credential_sources s;
    s.config_section = "security.encryption.master-key";
    s.config_access_key = "AKIDCONFIG";
    s.config_secret_access_key = "config-secret";
    s.env_access_key_id = "AKIDENV";
    s.env_secret_access_key = "env-secret";
    s.env_session_token = "env-token";
    s.shared_credentials_file = (dir / "credentials").string();
    s.profile = "ops";

    auto c = atrest::aws::resolve_credentials(s);
    CHECK(c.access_key_id == "AKIDCONFIG");
    CHECK(c.secret_access_key == "config-secret");
    CHECK(c.session_token.empty());
    CHECK(c.source == "[security.encryption.master-key.aws]");

    s.config_access_key.clear();
    s.config_secret_access_key.clear();
    c = atrest::aws::resolve_credentials(s);
    CHECK(c.access_key_id == "AKIDENV");
    CHECK(c.session_token == "env-token");

    s.env_access_key_id.clear();
    s.env_secret_access_key.clear();
    s.env_session_token.clear();
    c = atrest::aws::resolve_credentials(s);
    CHECK(c.access_key_id == "AKIDOPS");
    CHECK(c.secret_access_key == "ops-secret");
    CHECK(c.session_token == "ops-token");
    CHECK(contains(c.source, "profile \"ops\""));

    s.profile.clear();
    CHECK(atrest::aws::resolve_credentials(s).access_key_id == "AKIDDEFAULT");

    // ~/.aws/credentials when AWS_SHARED_CREDENTIALS_FILE is not set.
    std::filesystem::create_directories(dir / "home" / ".aws");
    std::filesystem::copy_file(dir / "credentials", dir / "home" / ".aws" / "credentials");
    s.shared_credentials_file.clear();
    s.home = (dir / "home").string();
    CHECK(atrest::aws::resolve_credentials(s).access_key_id == "AKIDDEFAULT");

    // Nothing anywhere: errc::kms naming every place looked at and what is not supported.
    s.profile = "absent";
    const auto none = expect_error([&] { (void)atrest::aws::resolve_credentials(s); });
    INFO(none.what());
    CHECK(none.kind() == errc::kms);
    for (const std::string& part : {std::string("AWS_ACCESS_KEY_ID"), std::string("profile \"absent\""),
                                    std::string("no such profile"), std::string("instance metadata")}) {
        CHECK(contains(none.what(), part));
    }
    CHECK_FALSE(contains(none.what(), "default-secret"));

    // Half a pair is an error, not a reason to look further.
    s.env_access_key_id = "AKIDENV";
    require_error([&] { (void)atrest::aws::resolve_credentials(s); }, errc::config,
                  {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"});
    s.env_access_key_id.clear();
    write_text(dir / "half", "[default]\naws_access_key_id = AKIDHALF\n");
    s.shared_credentials_file = (dir / "half").string();
    s.profile.clear();
    require_error([&] { (void)atrest::aws::resolve_credentials(s); }, errc::config, {"aws_secret_access_key"});
}

TEST_CASE("KMS credentials: from_environment reads AWS_* and HOME", "[config]") {
    ::setenv("AWS_ACCESS_KEY_ID", "AKIDFROMENV", 1);
    ::setenv("AWS_SECRET_ACCESS_KEY", "env-secret", 1);
    ::setenv("AWS_SESSION_TOKEN", "env-token", 1);
    ::setenv("AWS_PROFILE", "p", 1);
    const auto s = atrest::aws::credential_sources::from_environment({}, {}, "security.encryption.master-key");
    ::unsetenv("AWS_ACCESS_KEY_ID");
    ::unsetenv("AWS_SECRET_ACCESS_KEY");
    ::unsetenv("AWS_SESSION_TOKEN");
    ::unsetenv("AWS_PROFILE");
    CHECK(s.env_access_key_id == "AKIDFROMENV");
    CHECK(s.env_session_token == "env-token");
    CHECK(s.profile == "p");
    const auto c = atrest::aws::resolve_credentials(s);
    CHECK(c.access_key_id == "AKIDFROMENV");
    CHECK(c.source == "the environment (AWS_ACCESS_KEY_ID)");
}
