// open_key_manager: a config (as TOML or a flat map would give it) opens the right key manager —
// master key from a file, master-key rotation through the previous key, refusals for KMS in the
// core and for encryption under a plaintext master key, read-only opens, and metrics.
#include "catch.hpp"
#include "key_manager_fixture.hpp"
#include "temp_dir.hpp"

#include <atrest/config.hpp>
#include <atrest/metrics/prometheus_metrics.hpp>

#include <string>

namespace {

using atrest_test::expect_error;
using atrest_test::temp_dir;

atrest::master_key_config key_file(const std::filesystem::path& path) {
    atrest::master_key_config k;
    k.type = atrest::master_key_config::kind::file;
    k.path = path;
    return k;
}

atrest::encryption_config config_with(const std::filesystem::path& master, atrest::method m = atrest::method::aes256_ctr) {
    atrest::encryption_config c;
    c.data_encryption_method = m;
    c.master_key = key_file(master);
    return c;
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

}  // namespace

TEST_CASE("open_key_manager opens with the configured key file, method and options, and reopens", "[config]") {
    temp_dir dir;
    atrest::generate_master_key_file(dir / "master.key");
    auto config = config_with(dir / "master.key");
    config.enable_file_dictionary_log = false;
    std::uint64_t key_id = 0;
    {
        const auto km = atrest::open_key_manager(config, dir.path());
        CHECK(km->options().data_encryption_method == atrest::method::aes256_ctr);
        CHECK_FALSE(km->options().enable_file_dictionary_log);
        const auto info = km->new_file(dir / "000001.sst");
        CHECK(info.method == atrest::method::aes256_ctr);
        REQUIRE(info.key);
        CHECK(info.key->size() == 32);
        key_id = info.key_id;
    }
    const auto again = atrest::open_key_manager(config, dir.path());
    CHECK(again->get_file(dir / "000001.sst").key_id == key_id);
    CHECK_FALSE(again->data_keys().front().was_exposed);
}

TEST_CASE("open_key_manager rotates the master key through previous-master-key", "[config]") {
    temp_dir dir;
    atrest::generate_master_key_file(dir / "old.key");
    atrest::generate_master_key_file(dir / "new.key");
    const auto data = dir / "data";
    std::filesystem::create_directory(data);
    (void)atrest::open_key_manager(config_with(dir / "old.key"), data)->new_file(data / "a");

    // The new key alone cannot open what the old one sealed.
    CHECK(expect_error([&] { (void)atrest::open_key_manager(config_with(dir / "new.key"), data); }).kind() ==
          atrest::errc::wrong_key);

    auto rotating = config_with(dir / "new.key");
    rotating.previous_master_key = key_file(dir / "old.key");
    const auto before = atrest_test::file_bytes(data / "key.dict");
    (void)atrest::open_key_manager(rotating, data);
    CHECK(atrest_test::file_bytes(data / "key.dict") != before);  // re-sealed before open returned

    // Now the new key alone opens it and the old one no longer does.
    CHECK(atrest::open_key_manager(config_with(dir / "new.key"), data)->get_file(data / "a").encrypted());
    CHECK(expect_error([&] { (void)atrest::open_key_manager(config_with(dir / "old.key"), data); }).kind() ==
          atrest::errc::wrong_key);
}

TEST_CASE("open_key_manager refuses what it cannot or must not open, naming the cause", "[config]") {
    temp_dir dir;
    SECTION("a missing key file names the path") {
        const auto e = expect_error([&] { (void)atrest::open_key_manager(config_with(dir / "absent.key"), dir.path()); });
        CHECK(contains(e.what(), (dir / "absent.key").string()));
        CHECK_FALSE(std::filesystem::exists(dir / "key.dict"));
    }
    SECTION("a KMS master key is unsupported in the core and says which section asked for it") {
        atrest::encryption_config c;
        c.data_encryption_method = atrest::method::aes128_ctr;
        c.master_key = atrest::master_key_config{atrest::master_key_config::kind::kms, {}, "alias/tikv", "us-west-2", {}};
        const auto e = expect_error([&] { (void)atrest::open_key_manager(c, dir.path()); });
        CHECK(e.kind() == atrest::errc::unsupported);
        CHECK(contains(e.what(), "security.encryption.master-key.type = \"kms\""));
        CHECK(contains(e.what(), "alias/tikv"));
    }
    SECTION("encryption under the default plaintext master key is refused unless code allows it") {
        atrest::encryption_config c;
        c.data_encryption_method = atrest::method::aes128_ctr;
        CHECK(expect_error([&] { (void)atrest::open_key_manager(c, dir.path()); }).kind() == atrest::errc::insecure);
        CHECK_FALSE(std::filesystem::exists(dir / "key.dict"));
        c.allow_insecure_master_key = true;
        const auto km = atrest::open_key_manager(c, dir.path());
        CHECK(km->new_file(dir / "x").encrypted());
        CHECK(km->data_keys().front().was_exposed);
    }
    SECTION("a hand-built config gets the same validation as a parsed one") {
        auto c = config_with(dir / "absent.key");
        c.data_key_rotation_period = std::chrono::seconds(0);
        const auto e = expect_error([&] { (void)atrest::open_key_manager(c, dir.path()); });
        CHECK(e.kind() == atrest::errc::config);
        CHECK(contains(e.what(), "data-key-rotation-period"));
    }
}

TEST_CASE("open_key_manager read-only inspects without writing, metrics reach the engine's registry", "[config]") {
    temp_dir dir;
    atrest::generate_master_key_file(dir / "master.key");
    const auto config = config_with(dir / "master.key", atrest::method::sm4_ctr);
    (void)atrest::open_key_manager(config, dir.path())->new_file(dir / "f1");
    const auto key_dict = atrest_test::file_bytes(dir / "key.dict");
    const auto file_dict = atrest_test::file_bytes(dir / "file.dict");

    atrest::prometheus_metrics registry;
    auto read_only = config;
    read_only.read_only = true;
    const auto km = atrest::open_key_manager(read_only, dir.path(), {}, registry);
    CHECK(km->get_file(dir / "f1").method == atrest::method::sm4_ctr);
    CHECK(expect_error([&] { (void)km->new_file(dir / "f2"); }).kind() == atrest::errc::invalid_argument);
    CHECK(atrest_test::file_bytes(dir / "key.dict") == key_dict);
    CHECK(atrest_test::file_bytes(dir / "file.dict") == file_dict);

    const std::string text = registry.render();
    CHECK(contains(text, "atrest_encryption_is_initialized 1\n"));
    CHECK(contains(text, "atrest_encryption_file_dictionary_entries 1\n"));
    CHECK(contains(text, "atrest_encryption_data_keys 1\n"));
}

TEST_CASE("make_master_key passes key-file warnings to the caller", "[config]") {
    temp_dir dir;
    atrest::generate_master_key_file(dir / "master.key");
    std::filesystem::permissions(dir / "master.key", std::filesystem::perms::group_read, std::filesystem::perm_options::add);
    std::vector<std::string> warnings;
    const auto key = atrest::make_master_key(config_with(dir / "master.key"),
                                             [&](std::string_view w) { warnings.emplace_back(w); });
    CHECK(key.is_secure());
    REQUIRE(warnings.size() == 1);
    CHECK(contains(warnings.front(), (dir / "master.key").string()));
}
