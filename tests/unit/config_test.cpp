// The core config: duration parsing (known answers, every rejection), the flat-map reader with
// TiUP's dotted keys, validation of every bad value or combination, and flat-map round trips.
#include "catch.hpp"
#include "expect_error.hpp"

#include <atrest/config.hpp>

#include <functional>
#include <initializer_list>
#include <map>
#include <string>
#include <string_view>
#include <vector>

using namespace std::chrono_literals;
using atrest::errc;
using atrest::master_key_config;
using flat = std::map<std::string, std::string>;
using atrest_test::require_error;

namespace {


const std::string p = "security.encryption.";
const std::string mk = "security.encryption.master-key.";
const std::string pmk = "security.encryption.previous-master-key.";

flat file_key(std::string method = "aes256-ctr") {
    return {{p + "data-encryption-method", method}, {mk + "type", "file"}, {mk + "path", "/secrets/master.key"}};
}

}  // namespace

// Known answers: each was checked against TiKV's ReadableDuration::from_str (tikv_util's
// config.rs, the version with "us"), whose f64 arithmetic parse_duration repeats.
TEST_CASE("parse_duration reads what TiKV's config reads", "[config][duration]") {
    using atrest::parse_duration;
    using us = std::chrono::microseconds;
    CHECK(parse_duration("168h") == 604800s);
    CHECK(parse_duration("7d") == 604800s);
    CHECK(parse_duration("30m") == 1800s);
    CHECK(parse_duration("1h30m") == 5400s);
    CHECK(parse_duration("90s") == 90s);
    CHECK(parse_duration("1d2h3m4s") == 93784s);
    CHECK(parse_duration("0s") == 0s);
    CHECK(parse_duration("007h") == 7h);
    // Fractions, exponents and a plus sign, as Rust's f64 parser reads them.
    CHECK(parse_duration("1.5h") == 5400s);
    CHECK(parse_duration("0.5d") == 12h);
    CHECK(parse_duration(".5s") == 500ms);
    CHECK(parse_duration("5.s") == 5s);
    CHECK(parse_duration("1.e1s") == 10s);
    CHECK(parse_duration("1e3s") == 1000s);
    CHECK(parse_duration("1E-2s") == 10ms);
    CHECK(parse_duration("+2h") == 2h);
    CHECK(parse_duration("0.1s") == 100ms);
    // Milliseconds and microseconds; below a microsecond is truncated.
    CHECK(parse_duration("500ms") == 500ms);
    CHECK(parse_duration("2.5ms") == us(2500));
    CHECK(parse_duration("100us") == us(100));
    CHECK(parse_duration("1s1ms1us") == us(1'001'001));
    CHECK(parse_duration("1d2h3m4s5ms6us") == us(93'784'005'006));
    CHECK(parse_duration("0.0000005s") == 0s);
    // Spaces around the text (Unicode's too) and around each number.
    CHECK(parse_duration("  1h  ") == 1h);
    CHECK(parse_duration("\t30m\n") == 30min);
    CHECK(parse_duration("1h 30m") == 5400s);
    CHECK(parse_duration(" 1 h ") == 1h);
    CHECK(parse_duration("\xc2\xa0" "1h\xe3\x80\x80") == 1h);  // U+00A0, U+3000
    // No range check per unit (TiKV: "do we need to check 12h360m?").
    CHECK(parse_duration("1h90m") == 9000s);
    // The largest whole number of days; one more is over 2^63 microseconds.
    CHECK(parse_duration("106751991d") == 106'751'991 * 24h);
}

TEST_CASE("parse_duration rejects malformed text with the reason", "[config][duration]") {
    using atrest::parse_duration;
    const auto bad = [](std::string_view text, std::string_view reason) {
        INFO(text);
        require_error([&] { (void)parse_duration(text); }, errc::config, {reason, "accepted"});
    };
    // TiKV reads these as 0 or saturates; atrest refuses them as typos.
    bad("", "empty");
    bad(" \t ", "empty");
    bad("-1h", "invalid number \"-1\" at position 0: negative");
    bad("1h-30m", "negative");  // TiKV: 30m
    bad("infh", "only finite numbers");
    bad("NaNs", "only finite numbers");
    bad("1e400s", "out of range");
    bad("106751992d", "too large");
    // TiKV rejects these too.
    bad("1w", "unknown unit \"w\" at position 1");
    bad("1x", "unknown unit \"x\" at position 1");
    bad("1u", "unknown unit \"u\" at position 1");
    bad("h", "expected a number before unit \"h\" at position 0");
    bad("1", "has no unit");
    bad("168", "number \"168\" at position 0 has no unit");
    bad("1h30", "number \"30\" at position 2 has no unit");
    bad("30m1h", "unit \"h\" at position 4 repeats or follows a smaller unit");
    bad("1h1h", "repeats or follows a smaller unit");
    bad("1ms1s", "repeats or follows a smaller unit");
    bad("1.5.5h", "invalid number \"1.5.5\"");
    bad("1 . 5h", "invalid number");
    bad(".h", "invalid number \".\"");
    bad("1eh", "invalid number \"1e\"");
    bad("7 days", "invalid number \"ay\"");
    bad("0x10s", "invalid number");
    bad("1h\xc3\xa9", "non-ASCII character at position 2");
    bad("1\x01h", "\\x01");  // control characters are shown escaped
}

TEST_CASE("format_duration writes TiKV's canonical spelling and round-trips", "[config][duration]") {
    using atrest::format_duration;
    using us = std::chrono::microseconds;
    CHECK(format_duration(604800s) == "7d");
    CHECK(format_duration(5400s) == "1h30m");
    CHECK(format_duration(0s) == "0s");
    CHECK(format_duration(93784s) == "1d2h3m4s");
    CHECK(format_duration(86401s) == "1d1s");
    CHECK(format_duration(1500ms) == "1s500ms");
    CHECK(format_duration(us(93'784'005'006)) == "1d2h3m4s5ms6us");
    CHECK(format_duration(us(1)) == "1us");
    // Exact up to 2^53 microseconds, where TiKV's double arithmetic stops being exact.
    for (std::int64_t v : std::initializer_list<std::int64_t>{1, 999, 1000, 59'999'999, 60'000'000, 3'599'000'001,
                                                               86'400'000'000, 604'800'000'000, 123'456'789'012,
                                                               std::int64_t{1} << 53}) {
        CHECK(atrest::parse_duration(format_duration(us(v))).count() == v);
    }
    require_error([] { (void)format_duration(-1s); }, errc::invalid_argument, {"-1000000us"});
}

TEST_CASE("data-key-rotation-period: fractions of a second round up to whole seconds", "[config][duration]") {
    const std::string period = p + "data-key-rotation-period";
    const auto read = [&](std::string value) {
        auto entries = file_key();
        entries[period] = std::move(value);
        return atrest::from_flat_map(entries).data_key_rotation_period;
    };
    // TiKV accepts sub-second periods (its own tests use "100ms") and rotates at every check;
    // the key manager counts whole seconds, so they become one second, never zero.
    CHECK(read("100ms") == 1s);
    CHECK(read("1us") == 1s);
    CHECK(read("1.5s") == 2s);
    CHECK(read("1.5h") == 5400s);
    CHECK(read(" 7d ") == 168h);
    CHECK(read("1h 30m") == 5400s);
    require_error([&] { (void)read("0.0000005s"); }, errc::config, {period, "positive"});
    // The longest period reads back from to_flat_map; one second more is refused.
    CHECK(read("104249d23h47m34s") == atrest::max_rotation_period);
    CHECK(atrest::max_rotation_period == 9'007'199'254s);
    require_error([&] { (void)read("104249d23h47m35s"); }, errc::config, {period, "at most 9007199254s"});
}

TEST_CASE("An empty flat map gives TiKV's defaults", "[config]") {
    const auto c = atrest::from_flat_map({});
    CHECK(c == atrest::encryption_config{});
    CHECK(c.data_encryption_method == atrest::method::plaintext);
    CHECK(c.data_key_rotation_period == 168h);
    CHECK(c.enable_file_dictionary_log);
    CHECK(c.file_dictionary_rewrite_threshold == 1'000'000);
    CHECK_FALSE(c.master_key);
    CHECK_FALSE(c.previous_master_key);
    CHECK(c.effective_master_key().type == master_key_config::kind::plaintext);
    atrest::validate(c);
}

TEST_CASE("A TiUP-style flat map with KMS master-key rotation is read", "[config]") {
    const auto c = atrest::from_flat_map({
        {p + "data-encryption-method", "aes128-ctr"},
        {p + "data-key-rotation-period", "1h30m"},
        {p + "enable-file-dictionary-log", "false"},
        {p + "file-dictionary-rewrite-threshold", "18446744073709551615"},
        {mk + "type", "kms"},
        {mk + "key-id", "50a0c603-1c6f-11e6-bb9e-3fadde80ce75"},
        {mk + "region", "us-west-2"},
        {mk + "endpoint", "https://kms.us-west-2.amazonaws.com"},
        {pmk + "type", "file"},
        {pmk + "path", "/old/master.key"},
    });
    CHECK(c.data_encryption_method == atrest::method::aes128_ctr);
    CHECK(c.data_key_rotation_period == 5400s);
    CHECK_FALSE(c.enable_file_dictionary_log);
    CHECK(c.file_dictionary_rewrite_threshold == UINT64_MAX);
    REQUIRE(c.master_key);
    CHECK(c.master_key->type == master_key_config::kind::kms);
    CHECK(c.master_key->key_id == "50a0c603-1c6f-11e6-bb9e-3fadde80ce75");
    CHECK(c.master_key->region == "us-west-2");
    CHECK(c.master_key->endpoint == "https://kms.us-west-2.amazonaws.com");
    CHECK(c.master_key->path.empty());
    REQUIRE(c.previous_master_key);
    CHECK(c.previous_master_key->type == master_key_config::kind::file);
    CHECK(c.previous_master_key->path == "/old/master.key");
    CHECK_FALSE(c.allow_insecure_master_key);
}

TEST_CASE("Every method name is accepted", "[config]") {
    for (auto m : atrest::all_methods) {
        auto entries = file_key(std::string(atrest::to_string(m)));
        CHECK(atrest::from_flat_map(entries).data_encryption_method == m);
    }
}

TEST_CASE("Bad values name the key, the value and what is accepted", "[config]") {
    const auto bad = [](flat entries, std::initializer_list<std::string_view> parts, errc kind = errc::config) {
        require_error([&] { (void)atrest::from_flat_map(entries); }, kind, parts);
    };
    const std::string method_key = p + "data-encryption-method";
    bad({{method_key, "aes512-ctr"}}, {method_key, "\"aes512-ctr\"", "\"aes256-ctr\"", "\"sm4-ctr\""});
    bad({{method_key, "AES128-CTR"}}, {method_key, "accepted"});
    const std::string period = p + "data-key-rotation-period";
    bad({{period, "1w"}}, {period, "\"1w\"", "unknown unit", "168h"});
    bad({{period, "1h-30m"}}, {period, "negative"});
    bad({{period, "0s"}}, {period, "positive"});
    bad({{period, "0d0h"}}, {period, "positive"});
    bad({{period, "-168h"}}, {period, "negative"});
    bad({{period, ""}}, {period, "empty"});
    const std::string log = p + "enable-file-dictionary-log";
    bad({{log, "yes"}}, {log, "\"yes\"", "true or false"});
    bad({{log, "True"}}, {log, "true or false"});
    const std::string threshold = p + "file-dictionary-rewrite-threshold";
    for (const char* v : {"0", "-1", "abc", "1e6", "", "18446744073709551616", "1 000", "+5"}) {
        bad({{threshold, v}}, {threshold, "whole number"});
    }
    bad({{mk + "type", "aws"}}, {mk + "type", "\"aws\"", "\"file\", \"kms\", \"kmip\", \"plaintext\""});
    bad({{mk + "type", "File"}}, {mk + "type", "\"File\""});
    bad({{mk + "type", "file"}}, {mk + "path is required", "64 hex digits"});
    bad({{mk + "type", "file"}, {mk + "path", ""}}, {mk + "path", "must not be empty"});
    bad({{mk + "type", "kms"}, {mk + "region", "us-west-2"}}, {mk + "key-id is required"});
    bad({{mk + "type", "kms"}, {mk + "key-id", "k"}}, {mk + "region is required"});
    bad({{mk + "type", "kms"}, {mk + "key-id", "k"}, {mk + "region", "r"}, {mk + "endpoint", "kms.example.com"}},
        {mk + "endpoint", "\"kms.example.com\"", "https://"});
    bad({{mk + "type", "kms"}, {mk + "key-id", "k"}, {mk + "region", "r"}, {mk + "path", "/k"}},
        {mk + "path is set but", "\"kms\""});
    bad({{mk + "type", "file"}, {mk + "path", "/k"}, {mk + "key-id", "k"}}, {mk + "key-id is set but", "\"file\""});
    bad({{mk + "type", "plaintext"}, {mk + "region", "r"}}, {mk + "region is set but"});
    bad({{mk + "path", "/k"}}, {mk + "type is missing"});
    bad({{pmk + "type", "kms"}, {pmk + "key-id", "k"}}, {pmk + "region is required"});
    bad({{pmk + "path", "/k"}}, {pmk + "type is missing"});
}

TEST_CASE("Encryption under a plaintext master key is refused unless allowed", "[config]") {
    const flat explicit_plaintext = {{p + "data-encryption-method", "sm4-ctr"}, {mk + "type", "plaintext"}};
    const flat no_master_key = {{p + "data-encryption-method", "aes128-ctr"}};
    require_error([&] { (void)atrest::from_flat_map(explicit_plaintext); }, errc::insecure,
                  {"plaintext", "\"sm4-ctr\"", "\"file\", \"kms\" or \"kmip\""});
    require_error([&] { (void)atrest::from_flat_map(no_master_key); }, errc::insecure, {"no master-key section"});
    const auto allowed = atrest::from_flat_map(explicit_plaintext, atrest::insecure_master_key::allow);
    CHECK(allowed.allow_insecure_master_key);
    CHECK(allowed.data_encryption_method == atrest::method::sm4_ctr);
    CHECK(atrest::from_flat_map(no_master_key, atrest::insecure_master_key::allow).allow_insecure_master_key);
    // Plaintext data with a plaintext master key is TiKV's default and fine.
    CHECK_NOTHROW(atrest::from_flat_map({{mk + "type", "plaintext"}}));
    // Migrating away from a plaintext master key is fine too.
    auto migrate = file_key();
    migrate[pmk + "type"] = "plaintext";
    CHECK(atrest::from_flat_map(migrate).previous_master_key->type == master_key_config::kind::plaintext);
}

TEST_CASE("Unknown keys are errors that suggest the closest valid key", "[config]") {
    require_error([] { (void)atrest::from_flat_map({{"security.encryption.data-encryption-metod", "aes128-ctr"}}); },
                  errc::config,
                  {"unknown configuration key \"security.encryption.data-encryption-metod\"",
                   "did you mean \"security.encryption.data-encryption-method\"", "accepted keys"});
    require_error([] { (void)atrest::from_flat_map({{"security.encryption.master_key.type", "file"}}); }, errc::config,
                  {"did you mean \"security.encryption.master-key.type\""});
    require_error([] { (void)atrest::from_flat_map({{"security.encyption.previous-master-key.path", "/k"}}); },
                  errc::config, {"did you mean \"security.encryption.previous-master-key.path\""});
    require_error([] { (void)atrest::from_flat_map({{"storage.data-dir", "/data"}}); }, errc::config,
                  {"\"storage.data-dir\"", "accepted keys"});
    try {
        (void)atrest::from_flat_map({{"storage.data-dir", "/data"}});
    } catch (const atrest::error& e) {
        CHECK(std::string_view(e.what()).find("did you mean") == std::string_view::npos);
    }
    CHECK(atrest::detail::closest_config_key("security.encryption.master-key.typ") ==
          "security.encryption.master-key.type");
    CHECK(atrest::detail::closest_config_key("security.encryption.master-keys") == "security.encryption.master-key");
    CHECK(atrest::detail::closest_config_key("x").empty());
    CHECK(atrest::detail::edit_distance("kitten", "sitting") == 3);
    CHECK(atrest::detail::edit_distance("", "abc") == 3);
    CHECK(atrest::detail::edit_distance("kitten", "sitting", 4) == 3);  // below the limit: the distance
    CHECK(atrest::detail::edit_distance("kitten", "sitting", 3) == 3);  // at or above it: the limit
    CHECK(atrest::detail::edit_distance("kitten", "sitting", 2) == 2);
    CHECK(atrest::detail::edit_distance(std::string(100, 'x'), "security.encryption.master-key", 4) == 4);
}

TEST_CASE("validate checks configs built in code", "[config]") {
    atrest::encryption_config c;
    c.data_encryption_method = atrest::method::unknown;
    require_error([&] { atrest::validate(c); }, errc::config, {"data-encryption-method", "method number 0"});
    c = {};
    c.data_encryption_method = static_cast<atrest::method>(77);
    require_error([&] { atrest::validate(c); }, errc::config, {"method number 77"});
    c = {};
    c.data_key_rotation_period = 0s;
    require_error([&] { atrest::validate(c); }, errc::config, {"data-key-rotation-period = \"0s\"", "positive"});
    c.data_key_rotation_period = -5s;
    require_error([&] { atrest::validate(c); }, errc::config, {"\"-5s\"", "positive"});
    c.data_key_rotation_period = atrest::max_rotation_period + 1s;
    require_error([&] { atrest::validate(c); }, errc::config, {"\"9007199255s\"", "at most 9007199254s"});
    c = {};
    c.file_dictionary_rewrite_threshold = 0;
    require_error([&] { atrest::validate(c); }, errc::config, {"file-dictionary-rewrite-threshold", "at least 1"});
    c = {};
    c.previous_master_key = master_key_config{master_key_config::kind::file, {}, {}, {}, {}};
    require_error([&] { atrest::validate(c); }, errc::config, {"previous-master-key.path is required"});
    c = {};
    c.data_encryption_method = atrest::method::aes192_ctr;
    require_error([&] { atrest::validate(c); }, errc::insecure, {"aes192-ctr"});
    c.allow_insecure_master_key = true;
    CHECK_NOTHROW(atrest::validate(c));
    c.allow_insecure_master_key = false;
    c.master_key = master_key_config{master_key_config::kind::kms, {}, "key", "eu-west-1", {}};
    CHECK_NOTHROW(atrest::validate(c));
    c.master_key->endpoint = "http://localhost:4566";
    CHECK_NOTHROW(atrest::validate(c));
}

TEST_CASE("to_flat_map writes what from_flat_map reads back", "[config]") {
    std::vector<atrest::encryption_config> configs(4);
    configs[1].data_encryption_method = atrest::method::aes256_ctr;
    configs[1].master_key = master_key_config{master_key_config::kind::file, "/keys/a b.key", {}, {}, {}};
    configs[1].data_key_rotation_period = 93784s;
    configs[2] = configs[1];
    configs[2].enable_file_dictionary_log = false;
    configs[2].file_dictionary_rewrite_threshold = 7;
    configs[2].authenticated_files = atrest::authenticated_files::logs;
    configs[2].previous_master_key = master_key_config{master_key_config::kind::kms, {}, "id", "r", "https://e"};
    configs[3].master_key = master_key_config{};  // explicit plaintext section
    for (const auto& c : configs) {
        const auto entries = atrest::to_flat_map(c);
        CHECK(entries.at(p + "data-encryption-method") == atrest::to_string(c.data_encryption_method));
        CHECK(atrest::from_flat_map(entries) == c);
    }
    CHECK(atrest::to_flat_map(configs[1]).at(p + "data-key-rotation-period") == "1d2h3m4s");
    CHECK(atrest::to_flat_map(configs[0]).count(mk + "type") == 0);
    CHECK(atrest::to_flat_map(configs[3]).at(mk + "type") == "plaintext");
    CHECK(atrest::to_flat_map(configs[2]).at(p + "authenticated-files") == "logs");
    CHECK(atrest::to_flat_map(configs[0]).at(p + "authenticated-files") == "none");
    auto all = atrest::from_flat_map({{p + "authenticated-files", "all"}});
    CHECK(all.authenticated_files == atrest::authenticated_files::all);
    require_error([&] { (void)atrest::from_flat_map({{p + "authenticated-files", "wal"}}); }, errc::config,
                  {"authenticated-files", "\"wal\"", "\"logs\""});
}

TEST_CASE("Error messages show control characters escaped", "[config]") {
    require_error([] { (void)atrest::from_flat_map({{p + "data-encryption-method", std::string("aes\n\x01\xff", 6)}}); },
                  errc::config, {"\"aes\\n\\x01\\xff\""});
}
