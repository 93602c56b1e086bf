// The KMIP master key against a real KMIP server, pykmip-server, started on 127.0.0.1 by the test
// (kmip_server.hpp), in both modes: create a data directory, reopen (one Decrypt or Get per open,
// counted by the server's own log), rotate file -> KMIP -> file through previous-master-key, a key
// of another identity or another server is wrong_key so the previous key is tried, and every
// failure (server down, key revoked, destroyed or missing, no client certificate, a certificate of
// another CA, a wrong CA) names what is wrong and changes no byte of the data directory.
#include "catch.hpp"
#include "expect_error.hpp"
#include "kmip_server.hpp"
#include "master_key_sections.hpp"
#include "temp_dir.hpp"

#include <atrest/config.hpp>
#include <atrest/kmip/kmip_master_key.hpp>

#include <string>
#include <vector>

namespace {

template <class F>
void expect_error(F&& f, atrest::errc kind, const std::string& part) {
    atrest_test::require_error(std::forward<F>(f), kind, {part});
}
using atrest_test::config_of;
using atrest_test::file_section;
using atrest_test::key_bytes;
using atrest_test::sealed_blob;
using atrest_test::temp_dir;
namespace fs = std::filesystem;
using mode = atrest::master_key_config::kmip_mode;

atrest::master_key_config kmip_section(const std::string& key_id, mode m, const std::string& who = "client",
                                       std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    const auto& server = atrest_test::kmip_server();
    atrest::master_key_config mk;
    mk.type = atrest::master_key_config::kind::kmip;
    mk.key_id = key_id;
    mk.endpoint = server.endpoint();
    mk.mode = m;
    mk.tls = server.tls(who);
    mk.timeout = timeout;
    return mk;
}


std::string operation_of(mode m) { return m == mode::wrap ? "Decrypt" : "Get"; }

void write_key_file(const fs::path& path) {
    std::ofstream(path) << "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\n";
    fs::permissions(path, fs::perms::owner_read | fs::perms::owner_write);
}

}  // namespace

TEST_CASE("KMIP master key: versions, create, reopen with one call per open, in both modes", "[servers]") {
    auto& server = atrest_test::kmip_server();
    auto admin = server.admin();
    for (mode m : {mode::wrap, mode::get}) {
        DYNAMIC_SECTION(operation_of(m)) {
            const auto key_id = admin.create_aes256();
            REQUIRE(admin.version());
            CHECK(*admin.version() == atrest::kmip::protocol_version{1, 2});
            temp_dir dir;
            const auto data = dir / "data";
            const auto config = config_of(kmip_section(key_id, m));
            const auto encrypts = server.served("Encrypt");
            const auto opens = server.served(operation_of(m));
            std::vector<std::byte> key_a;
            {
                const auto km = atrest::open_key_manager(config, data);
                key_a = key_bytes(km->new_file(data / "a"));
                km->rotate_data_key();  // re-seals key.dict: no call
                (void)km->new_file(data / "b");
            }
            CHECK(server.served("Encrypt") == encrypts + (m == mode::wrap ? 1 : 0));
            CHECK(server.served(operation_of(m)) == opens + (m == mode::get ? 1 : 0));

            // The sealed blob: backend 0x04, version 1, the mode, the key id.
            const auto blob = sealed_blob(data);
            REQUIRE(blob.size() > 4 + key_id.size());
            CHECK(blob[0] == '\x04');
            CHECK(blob[1] == '\x01');
            CHECK(blob[2] == (m == mode::wrap ? '\x01' : '\x02'));
            CHECK(blob.substr(5, key_id.size()) == key_id);

            const auto before = server.served(operation_of(m));
            for (int open = 1; open <= 2; ++open) {
                const auto km = atrest::open_key_manager(config, data);
                CHECK(key_bytes(km->get_file(data / "a")) == key_a);
                km->rotate_data_key();
                (void)km->new_file(data / ("c" + std::to_string(open)));
                CHECK(server.served(operation_of(m)) == before + static_cast<std::size_t>(open));
            }
            CHECK(server.served("Encrypt") == encrypts + (m == mode::wrap ? 1 : 0));
        }
    }
}

TEST_CASE("KMIP master key: key-name is located once, a name that is not there is named", "[servers]") {
    auto& server = atrest_test::kmip_server();
    auto admin = server.admin();
    const std::string name = "atrest-test-" + std::to_string(atrest_test::free_port());
    const auto key_id = admin.create_aes256(name);
    auto mk = kmip_section({}, mode::wrap);
    mk.key_name = name;
    temp_dir dir;
    const auto data = dir / "data";
    std::vector<std::byte> key_a;
    key_a = key_bytes(atrest::open_key_manager(config_of(mk), data)->new_file(data / "a"));
    CHECK(sealed_blob(data).find(key_id) != std::string::npos);
    CHECK(key_bytes(atrest::open_key_manager(config_of(mk), data)->get_file(data / "a")) == key_a);
    mk.key_name = name + "-missing";
    const auto before = atrest_test::directory_bytes(data);
    expect_error([&] { (void)atrest::open_key_manager(config_of(mk), data); }, atrest::errc::kms,
                 "has 0 objects named \"" + name + "-missing\"");
    CHECK(atrest_test::directory_bytes(data) == before);
}

TEST_CASE("KMIP master key: rotation file -> KMIP -> file, and KMIP -> KMIP, through previous-master-key", "[servers]") {
    auto& server = atrest_test::kmip_server();
    auto admin = server.admin();
    for (mode m : {mode::wrap, mode::get}) {
        DYNAMIC_SECTION(operation_of(m)) {
            temp_dir dir;
            const auto data = dir / "data";
            const auto master = dir / "master.key";
            write_key_file(master);
            std::vector<std::byte> key_a;
            {
                const auto km = atrest::open_key_manager(config_of(file_section(master)), data);
                key_a = key_bytes(km->new_file(data / "a"));
            }
            // file -> KMIP
            const auto key1 = admin.create_aes256();
            CHECK(key_bytes(atrest::open_key_manager(config_of(kmip_section(key1, m), file_section(master)), data)
                                ->get_file(data / "a")) == key_a);
            CHECK(sealed_blob(data)[0] == '\x04');
            CHECK(key_bytes(atrest::open_key_manager(config_of(kmip_section(key1, m)), data)->get_file(data / "a")) == key_a);
            // KMIP -> another KMIP key: the old blob names key1, so key2 says wrong_key without a call.
            const auto key2 = admin.create_aes256();
            expect_error([&] { (void)atrest::open_key_manager(config_of(kmip_section(key2, m)), data); },
                         atrest::errc::wrong_key, "sealed under KMIP key \"" + key1 + "\"");
            CHECK(key_bytes(atrest::open_key_manager(config_of(kmip_section(key2, m), kmip_section(key1, m)), data)
                                ->get_file(data / "a")) == key_a);
            CHECK(sealed_blob(data).find(key2) != std::string::npos);
            // KMIP -> file
            CHECK(key_bytes(atrest::open_key_manager(config_of(file_section(master), kmip_section(key2, m)), data)
                                ->get_file(data / "a")) == key_a);
            CHECK(sealed_blob(data)[0] == '\x02');
            CHECK(key_bytes(atrest::open_key_manager(config_of(file_section(master)), data)->get_file(data / "a")) == key_a);
        }
    }
}

TEST_CASE("KMIP master key: a key that does not open the blob is wrong_key, so the previous key is tried", "[servers]") {
    auto& server = atrest_test::kmip_server();
    auto admin = server.admin();
    // The same Unique Identifier naming another key (as on another server, where ids restart):
    // server-side Decrypt fails (Cryptographic Failure or a data key that does not authenticate),
    // and a fetched key does not authenticate the blob.
    for (mode m : {mode::wrap, mode::get}) {
        DYNAMIC_SECTION(operation_of(m)) {
            const auto key1 = admin.create_aes256();
            temp_dir dir;
            const auto data = dir / "data";
            (void)atrest::open_key_manager(config_of(kmip_section(key1, m)), data)->new_file(data / "a");
            // The blob's key id rewritten to another key's id of the same length (what a same-id
            // key on another server looks like; the header is also the GCM associated data).
            const auto key2 = admin.create_aes256();
            REQUIRE(key2.size() == key1.size());
            atrest::kmip_master_key<> k2(kmip_section(key2, m), atrest::master_key_section);
            const auto blob = sealed_blob(data);
            std::vector<std::byte> changed(blob.size());
            std::transform(blob.begin(), blob.end(), changed.begin(), [](char c) { return static_cast<std::byte>(c); });
            const auto id_at = blob.find(key1, 4);
            REQUIRE(id_at != std::string::npos);
            for (std::size_t i = 0; i < key2.size(); ++i) changed[id_at + i] = static_cast<std::byte>(key2[i]);
            expect_error([&] { (void)k2.open(changed, {}); }, atrest::errc::wrong_key, "");
            // Through with_previous: key2 reports wrong_key, key1 sees a blob naming key2; neither opens.
            atrest::with_previous<atrest::kmip_master_key<>, atrest::kmip_master_key<>> both(
                atrest::kmip_master_key<>(kmip_section(key2, m), atrest::master_key_section),
                atrest::kmip_master_key<>(kmip_section(key1, m), atrest::previous_master_key_section));
            expect_error([&] { (void)both.open(changed, {}); }, atrest::errc::wrong_key, "neither the current master key");
        }
    }
}

TEST_CASE("KMIP master key: failures name what is wrong and change no byte", "[servers]") {
    auto& server = atrest_test::kmip_server();
    auto admin = server.admin();
    for (mode m : {mode::wrap, mode::get}) {
        DYNAMIC_SECTION(operation_of(m)) {
            const auto key_id = admin.create_aes256();
            temp_dir dir;
            const auto data = dir / "data";
            {
                const auto km = atrest::open_key_manager(config_of(kmip_section(key_id, m)), data);
                (void)km->new_file(data / "a");
            }
            const auto before = atrest_test::directory_bytes(data);
            auto fails = [&](const atrest::master_key_config& mk, atrest::errc kind, const std::string& part) {
                INFO(part);
                expect_error([&] { (void)atrest::open_key_manager(config_of(mk), data); }, kind, part);
                CHECK(atrest_test::directory_bytes(data) == before);
            };
            // Server down: retried until the deadline, then "unavailable" with the last error.
            auto down = kmip_section(key_id, m, "client", std::chrono::milliseconds(600));
            down.endpoint = "127.0.0.1:" + std::to_string(atrest_test::free_port());
            const auto started = std::chrono::steady_clock::now();
            fails(down, atrest::errc::kms, "KMIP server unavailable");
            const auto took = std::chrono::steady_clock::now() - started;
            CHECK(took >= std::chrono::milliseconds(500));
            CHECK(took < std::chrono::seconds(5));
            // No client certificate: the server refuses the handshake.
            auto anonymous = kmip_section(key_id, m);
            anonymous.tls.cert_path.clear();
            anonymous.tls.key_path.clear();
            fails(anonymous, atrest::errc::kms, "no client certificate");
            // A client certificate from another CA.
            fails(kmip_section(key_id, m, "stranger"), atrest::errc::kms, "TLS");
            // A wrong CA: the server's certificate is not accepted.
            auto wrong_ca = kmip_section(key_id, m);
            wrong_ca.tls.ca_path = server.file("other-ca.pem");
            fails(wrong_ca, atrest::errc::kms, "the server's certificate was not accepted");
            // TLS 1.3 required, the server speaks 1.2 only: no fallback.
            auto new_tls = kmip_section(key_id, m);
            new_tls.tls.min_version = atrest::tls_version::tls1_3;
            fails(new_tls, atrest::errc::kms, "minimum TLSv1.3");
            // Another client identity may not use this key.
            fails(kmip_section(key_id, m, "client2"), atrest::errc::kms, "refused");
            // Revoked, then destroyed.
            admin.revoke(key_id);
            fails(kmip_section(key_id, m), atrest::errc::kms, "is Deactivated (revoked), not Active");
            admin.destroy(key_id);
            fails(kmip_section(key_id, m), atrest::errc::kms, "no such object (never created, or destroyed)");
            // A key id the server never had: a new data directory is not created.
            temp_dir other;
            expect_error([&] { (void)atrest::open_key_manager(config_of(kmip_section("999999", m)), other / "data"); },
                         atrest::errc::kms, "no such object");
            CHECK_FALSE(fs::exists(other / "data" / "key.dict"));
        }
    }
}

TEST_CASE("KMIP master key: the server stopped and started again between opens", "[servers]") {
    auto& server = atrest_test::kmip_server();
    auto admin = server.admin();
    const auto key_id = admin.create_aes256();
    temp_dir dir;
    const auto data = dir / "data";
    const auto key_a = key_bytes(atrest::open_key_manager(config_of(kmip_section(key_id, mode::wrap)), data)->new_file(data / "a"));
    server.stop();
    const auto before = atrest_test::directory_bytes(data);
    expect_error([&] {
        (void)atrest::open_key_manager(config_of(kmip_section(key_id, mode::wrap, "client", std::chrono::milliseconds(400))), data);
    }, atrest::errc::kms, "KMIP server unavailable");
    CHECK(atrest_test::directory_bytes(data) == before);
    server.start();  // a new port; the same database, so the same key
    CHECK(key_bytes(atrest::open_key_manager(config_of(kmip_section(key_id, mode::wrap)), data)->get_file(data / "a")) == key_a);
}

TEST_CASE("KMIP master key: certificates replaced on disk are used without a restart, validity in the metrics",
          "[servers]") {
    auto& server = atrest_test::kmip_server();
    auto admin = server.admin();
    const auto key_id = admin.create_aes256();
    temp_dir dir;
    // The files the config names; the test replaces their contents under one running master key.
    auto mk = kmip_section(key_id, mode::wrap);
    mk.tls.cert_path = dir / "client.pem";
    mk.tls.key_path = dir / "client.key";
    auto install = [&](const std::string& who) {
        fs::copy_file(server.file(who + ".pem"), mk.tls.cert_path, fs::copy_options::overwrite_existing);
        fs::copy_file(server.file(who + ".key"), mk.tls.key_path, fs::copy_options::overwrite_existing);
    };
    std::vector<std::pair<std::int64_t, std::int64_t>> seen;
    atrest::key_service_observer observer;
    observer.on_client_certificate = [&](std::int64_t not_before, std::int64_t not_after) {
        seen.emplace_back(not_before, not_after);
    };
    install("stranger");  // a certificate the server does not trust
    atrest::kmip_master_key<> key(mk, atrest::master_key_section, observer);
    expect_error([&] { key.prepare_seal(); }, atrest::errc::kms, "TLS");
    install("client");  // replaced on disk: the next connection presents it
    key.prepare_seal();
    const std::vector<std::byte> secret(16, std::byte{42});
    const auto sealed = key.seal(secret, {});
    REQUIRE_FALSE(seen.empty());
    const auto first = seen.back();
    const auto now = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
    CHECK(first.first <= now);
    CHECK(first.second > now + 86400);  // -days 2
    CHECK(first.second < now + 3 * 86400);
    install("renewed");  // a renewed certificate of the same identity, valid 30 days
    atrest::kmip_master_key<> reopened(mk, atrest::master_key_section, observer);
    const auto opened = reopened.open(sealed, {});
    CHECK(std::vector<std::byte>(opened.data.bytes().begin(), opened.data.bytes().end()) == secret);
    CHECK(seen.back().second > now + 29 * 86400);  // the metrics show the renewed certificate
}
