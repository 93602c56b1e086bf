// The AWS KMS master key against two independent KMS servers, local-kms and moto, started on
// 127.0.0.1 by the test (kms_servers.hpp): TiKV's flow (one GenerateDataKey when key.dict is first
// sealed, one Decrypt per open, counted by the servers themselves), rotation through
// previous-master-key in both directions, and every failure: a refusal to decrypt is wrong_key,
// missing and disabled keys name key id and region, 5xx / throttling / network errors are retried
// until the deadline, and no failure changes a byte of the data directory.
#include "catch.hpp"
#include "expect_error.hpp"
#include "fault_proxy.hpp"
#include "kms_servers.hpp"
#include "master_key_sections.hpp"
#include "temp_dir.hpp"

#include <atrest/config.hpp>
#include <atrest/kms/aws_kms_master_key.hpp>
#include <atrest/metrics/prometheus_metrics.hpp>

#include <string>
#include <vector>

namespace {

using atrest_test::expect_error;
using atrest_test::kms_server;
using atrest_test::config_of;
using atrest_test::file_section;
using atrest_test::key_bytes;
using atrest_test::sealed_blob;
using atrest_test::temp_dir;
namespace fs = std::filesystem;
using kms_key = atrest::aws_kms_master_key<>;

constexpr std::string_view test_secret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";

atrest::master_key_config kms_section(const kms_server& s, const std::string& key_id, std::string endpoint = {},
                                      std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    atrest::master_key_config mk;
    mk.type = atrest::master_key_config::kind::kms;
    mk.key_id = key_id;
    mk.region = s.region();
    mk.endpoint = endpoint.empty() ? s.endpoint() : std::move(endpoint);
    mk.vendor = "aws";
    mk.access_key = "AKIDEXAMPLE";
    mk.secret_access_key = std::string(test_secret);
    mk.timeout = timeout;
    return mk;
}


/// An open that acts as a fresh process: no data key cached from an earlier open.
template <class... Args>
auto open_fresh(Args&&... args) {
    kms_key::clear_process_cache();
    return atrest::open_key_manager(std::forward<Args>(args)...);
}

void check_no_secret(const atrest::error& e) {
    INFO(e.what());
    CHECK(std::string(e.what()).find(test_secret) == std::string::npos);
}

}  // namespace

TEST_CASE("KMS master key: one GenerateDataKey when key.dict is first sealed, one Decrypt per open", "[servers]") {
    for (kms_server* server : atrest_test::servers().all()) {
        DYNAMIC_SECTION(server->name()) {
            const auto key_id = server->create_key();
            temp_dir dir;
            const auto data = dir / "data";
            const auto config = config_of(kms_section(*server, key_id));
            const auto generates = server->generates();
            const auto decrypts = server->decrypts();
            std::vector<std::byte> key_a;
            {
                const auto km = open_fresh(config, data);
                key_a = key_bytes(km->new_file(data / "a"));
                km->rotate_data_key();  // re-seals key.dict: no KMS call
                (void)km->new_file(data / "b");
            }
            CHECK(server->generates() == generates + 1);
            CHECK(server->decrypts() == decrypts);

            // The sealed blob: backend 0x03, version 1, vendor "aws", the key id, the key ARN, the KMS blob.
            const auto blob = sealed_blob(data);
            REQUIRE(blob.size() > 4);
            CHECK(blob[0] == '\x03');
            CHECK(blob[1] == '\x01');
            CHECK(blob.substr(2, 4) == std::string("\x03" "aws", 4));
            CHECK(blob.find(key_id) != std::string::npos);
            CHECK(blob.find("arn:aws:kms:" + server->region() + ":") != std::string::npos);

            for (int open = 1; open <= 2; ++open) {  // each open in a new process: one Decrypt each
                const auto km = open_fresh(config, data);
                CHECK(key_bytes(km->get_file(data / "a")) == key_a);
                km->rotate_data_key();
                (void)km->new_file(data / ("c" + std::to_string(open)));
                CHECK(server->decrypts() == decrypts + static_cast<std::size_t>(open));
            }
            {  // another open in the same process: the data key is cached, no call at all
                const auto km = atrest::open_key_manager(config, data);
                CHECK(key_bytes(km->get_file(data / "a")) == key_a);
            }
            auto read_only = config;
            read_only.read_only = true;
            CHECK(key_bytes(open_fresh(read_only, data)->get_file(data / "a")) == key_a);
            CHECK(server->decrypts() == decrypts + 3);
            CHECK(server->generates() == generates + 1);
        }
    }
}

TEST_CASE("KMS master key: rotation file -> KMS -> file through previous-master-key", "[servers]") {
    for (kms_server* server : atrest_test::servers().all()) {
        DYNAMIC_SECTION(server->name()) {
            const auto key_id = server->create_key();
            temp_dir dir;
            const auto data = dir / "data";
            atrest::generate_master_key_file(dir / "master.key");
            const auto file = file_section(dir / "master.key");
            const auto kms = kms_section(*server, key_id);
            std::vector<std::byte> key_a;
            key_a = key_bytes(atrest::open_key_manager(config_of(file), data)->new_file(data / "a"));

            const auto generates = server->generates();
            const auto decrypts = server->decrypts();
            (void)open_fresh(config_of(kms, file), data);  // re-sealed under KMS: one GenerateDataKey
            CHECK(sealed_blob(data)[0] == '\x03');
            CHECK(server->generates() == generates + 1);
            CHECK(server->decrypts() == decrypts);
            CHECK(key_bytes(open_fresh(config_of(kms), data)->get_file(data / "a")) == key_a);
            CHECK(server->decrypts() == decrypts + 1);
            CHECK(expect_error([&] { (void)open_fresh(config_of(file), data); }).kind() == atrest::errc::wrong_key);

            (void)open_fresh(config_of(file, kms), data);  // and back: one Decrypt, re-sealed under the file
            CHECK(sealed_blob(data)[0] == '\x02');
            CHECK(server->decrypts() == decrypts + 2);
            CHECK(key_bytes(open_fresh(config_of(file), data)->get_file(data / "a")) == key_a);
            const auto e = expect_error([&] { (void)open_fresh(config_of(kms), data); });
            CHECK(e.kind() == atrest::errc::wrong_key);  // another backend's blob: no call needed
            CHECK(server->decrypts() == decrypts + 2);
            CHECK(server->generates() == generates + 1);
        }
    }
}

TEST_CASE("KMS master key: a refusal to decrypt is wrong_key, so previous-master-key is tried", "[servers]") {
    for (kms_server* server : atrest_test::servers().all()) {
        DYNAMIC_SECTION(server->name()) {
            const auto key_a = server->create_key();
            const auto key_b = server->create_key();
            const auto alias_b = "alias/atrest-" + key_b;
            server->create_alias(alias_b, key_b);

            // KMS's own refusal (InvalidCiphertextException): a blob bound to another encryption context.
            const auto other = server->call("GenerateDataKey", {{"KeyId", key_a},
                                                                {"KeySpec", "AES_256"},
                                                                {"EncryptionContext", {{"purpose", "something else"}}}});
            const auto blob_text = other.at("CiphertextBlob").get<std::string>();
            const auto blob = Botan::base64_decode(blob_text);
            atrest::aws::kms_client client(atrest::aws::kms_settings::from(kms_section(*server, key_a),
                                                                           atrest::master_key_section),
                                           atrest_test::test_credentials());
            const auto refused = expect_error([&] {
                (void)client.decrypt(std::as_bytes(std::span(blob.data(), blob.size())));
            });
            INFO(refused.what());
            CHECK(refused.kind() == atrest::errc::wrong_key);
            CHECK(std::string(refused.what()).find("InvalidCiphertextException") != std::string::npos);
            CHECK(std::string(refused.what()).find(key_a) != std::string::npos);

            temp_dir dir;
            const auto data = dir / "data";
            const auto sealed_a = key_bytes(open_fresh(config_of(kms_section(*server, key_a)), data)->new_file(data / "f"));

            // A different key id: wrong_key at once (the blob names its key), previous tried.
            const auto decrypts = server->decrypts();
            CHECK(expect_error([&] { (void)open_fresh(config_of(kms_section(*server, key_b)), data); }).kind() ==
                  atrest::errc::wrong_key);
            CHECK(server->decrypts() == decrypts);
            {
                temp_dir copy;
                fs::copy(data, copy / "data", fs::copy_options::recursive);
                const auto km = open_fresh(config_of(kms_section(*server, key_b), kms_section(*server, key_a)), copy / "data");
                CHECK(key_bytes(km->get_file(copy / "data" / "f")) == sealed_a);
            }

            // An alias of another key: only KMS can tell. AWS and local-kms refuse the Decrypt
            // (IncorrectKeyException / InvalidCiphertextException: wrong_key, previous tried);
            // moto answers AccessDeniedException, which is a refusal atrest reports as it is.
            const auto before = atrest_test::directory_bytes(data);
            const auto e = expect_error([&] { (void)open_fresh(config_of(kms_section(*server, alias_b)), data); });
            INFO(e.what());
            if (server->name() == "moto") {
                CHECK(e.kind() == atrest::errc::kms);
                CHECK(std::string(e.what()).find("AccessDeniedException") != std::string::npos);
            } else {
                CHECK(e.kind() == atrest::errc::wrong_key);
                const auto km = open_fresh(config_of(kms_section(*server, alias_b), kms_section(*server, key_a)), data);
                CHECK(key_bytes(km->get_file(data / "f")) == sealed_a);
                CHECK(sealed_blob(data).find(alias_b) != std::string::npos);  // re-sealed under the alias's key
            }
            check_no_secret(e);
            if (server->name() == "moto") CHECK(atrest_test::directory_bytes(data) == before);
        }
    }
}

TEST_CASE("KMS master key: a missing or disabled key names key id and region and changes nothing", "[servers]") {
    for (kms_server* server : atrest_test::servers().all()) {
        DYNAMIC_SECTION(server->name()) {
            temp_dir dir;
            const auto data = dir / "data";
            fs::create_directory(data);
            const std::string absent = "00000000-1111-2222-3333-444444444444";
            const auto before = atrest_test::directory_bytes(data);
            const auto e = expect_error([&] { (void)open_fresh(config_of(kms_section(*server, absent)), data); });
            INFO(e.what());
            CHECK(e.kind() == atrest::errc::kms);
            for (const std::string& part : {absent, server->region(), std::string("NotFoundException"), std::string("GenerateDataKey")}) {
                CHECK(std::string(e.what()).find(part) != std::string::npos);
            }
            check_no_secret(e);
            CHECK(atrest_test::directory_bytes(data) == before);
            CHECK_FALSE(fs::exists(data / "key.dict"));

            if (server->name() == "moto") continue;  // moto does not enforce a key's state (it serves disabled keys)
            const auto key_id = server->create_key();
            (void)open_fresh(config_of(kms_section(*server, key_id)), data)->new_file(data / "f");
            const auto sealed = atrest_test::directory_bytes(data);
            server->disable_key(key_id);
            const auto d = expect_error([&] { (void)open_fresh(config_of(kms_section(*server, key_id)), data); });
            INFO(d.what());
            CHECK(d.kind() == atrest::errc::kms);
            for (const std::string& part : {key_id, server->region(), std::string("DisabledException"), std::string("Decrypt")}) {
                CHECK(std::string(d.what()).find(part) != std::string::npos);
            }
            check_no_secret(d);
            CHECK(atrest_test::directory_bytes(data) == sealed);
            server->enable_key(key_id);
            CHECK(open_fresh(config_of(kms_section(*server, key_id)), data)->get_file(data / "f").encrypted());
        }
    }
}

TEST_CASE("KMS master key: 5xx, throttling and dropped connections are retried within the deadline", "[servers]") {
    for (kms_server* server : atrest_test::servers().all()) {
        DYNAMIC_SECTION(server->name()) {
            const auto key_id = server->create_key();
            temp_dir dir;
            const auto data = dir / "data";
            (void)open_fresh(config_of(kms_section(*server, key_id)), data)->new_file(data / "f");
            struct fault {
                int status;
                std::string body;
                std::string outcome;  // as the metrics count it
            };
            for (const auto& f : {fault{503, R"({"__type":"KMSInternalException","message":"try again"})", "server_error"},
                                  fault{400, R"({"__type":"ThrottlingException","message":"Rate exceeded"})", "throttled"},
                                  fault{0, "", "network_error"}}) {
                INFO("fault status " << f.status);
                atrest_test::fault_proxy twice(server->port(), 2, f.status, f.body);
                atrest::prometheus_metrics metrics;
                const auto km = open_fresh(config_of(kms_section(*server, key_id, twice.endpoint())), data,
                                           atrest::diagnostic_sink{}, metrics);
                CHECK(km->get_file(data / "f").encrypted());
                CHECK(twice.requests() == 3);
                const auto text = metrics.render();
                CHECK(text.find("atrest_kms_requests_total{operation=\"Decrypt\",outcome=\"ok\"} 1\n") != std::string::npos);
                CHECK(text.find("atrest_kms_request_duration_seconds_count{operation=\"Decrypt\"} 3\n") != std::string::npos);
                CHECK(text.find("atrest_kms_requests_total{operation=\"Decrypt\",outcome=\"" + f.outcome + "\"} 2\n") !=
                      std::string::npos);
            }
            const auto before = atrest_test::directory_bytes(data);  // a successful writable open compacts file.dict: compare from here
            atrest_test::fault_proxy always(server->port(), -1, 500, R"({"__type":"KMSInternalException"})");
            const auto started = std::chrono::steady_clock::now();
            const auto e = expect_error([&] {
                (void)open_fresh(config_of(kms_section(*server, key_id, always.endpoint(), std::chrono::milliseconds(1200))),
                                 data);
            });
            const auto took = std::chrono::steady_clock::now() - started;
            INFO(e.what());
            CHECK(e.kind() == atrest::errc::kms);
            CHECK(std::string(e.what()).find("KMS unavailable") != std::string::npos);
            CHECK(std::string(e.what()).find("HTTP 500 KMSInternalException") != std::string::npos);
            CHECK(always.requests() >= 3);
            CHECK(took >= std::chrono::milliseconds(1000));
            CHECK(took < std::chrono::milliseconds(3000));
            CHECK(atrest_test::directory_bytes(data) == before);

            // Access denied is an answer, not an outage: reported at once, with the permission to check.
            atrest_test::fault_proxy denied(server->port(), -1, 400,
                                            R"({"__type":"AccessDeniedException","message":"not authorized"})");
            const auto a = expect_error([&] {
                (void)open_fresh(config_of(kms_section(*server, key_id, denied.endpoint())), data);
            });
            INFO(a.what());
            CHECK(a.kind() == atrest::errc::kms);
            CHECK(denied.requests() == 1);
            for (const std::string& part : {key_id, server->region(), std::string("AccessDeniedException"), std::string("kms:Decrypt")}) {
                CHECK(std::string(a.what()).find(part) != std::string::npos);
            }
            check_no_secret(a);
            CHECK(atrest_test::directory_bytes(data) == before);
        }
    }
}

TEST_CASE("KMS master key: KMS down at start is 'KMS unavailable' after the deadline, nothing changes", "[servers]") {
    const auto down = "http://127.0.0.1:" + std::to_string(atrest_test::free_port());
    kms_server& server = *atrest_test::servers().local;
    temp_dir dir;
    const auto data = dir / "data";
    fs::create_directory(data);
    const auto key_id = server.create_key();
    for (int existing = 0; existing < 2; ++existing) {
        INFO((existing ? "existing directory" : "first start"));
        if (existing) (void)open_fresh(config_of(kms_section(server, key_id)), data)->new_file(data / "f");
        const auto before = atrest_test::directory_bytes(data);
        const auto started = std::chrono::steady_clock::now();
        const auto e = expect_error([&] {
            (void)open_fresh(config_of(kms_section(server, key_id, down, std::chrono::milliseconds(800))), data);
        });
        const auto took = std::chrono::steady_clock::now() - started;
        INFO(e.what());
        CHECK(e.kind() == atrest::errc::kms);
        CHECK(std::string(e.what()).find("KMS unavailable") != std::string::npos);
        CHECK(std::string(e.what()).find("network error") != std::string::npos);
        CHECK(std::string(e.what()).find(key_id) != std::string::npos);
        CHECK(took >= std::chrono::milliseconds(700));
        CHECK(took < std::chrono::milliseconds(2500));
        check_no_secret(e);
        CHECK(atrest_test::directory_bytes(data) == before);
    }
}
