// The operator's cycle through `atrest-ctl --config` with a KMS master key, against both servers:
// create a directory under a KMS key, reopen (one Decrypt per command, counted by the server),
// KMS metrics in `stats --prometheus`, rotate file -> KMS -> file through previous-master-key,
// KMS down at start and a wrong key id: exit 1 with one error line and no byte changed.
#include "catch.hpp"
#include "kms_servers.hpp"
#include "subprocess.hpp"
#include "temp_dir.hpp"

#include <fstream>
#include <string>

#ifdef ATREST_CTL_PATH
namespace {

using atrest_test::kms_server;
namespace fs = std::filesystem;

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

std::string kms_table(const std::string& section, const kms_server& s, const std::string& key_id,
                      const std::string& endpoint, const std::string& timeout = "10s") {
    return "[security.encryption." + section + "]\ntype = \"kms\"\nkey-id = \"" + key_id + "\"\nregion = \"" + s.region() +
           "\"\nendpoint = \"" + endpoint + "\"\nvendor = \"aws\"\ntimeout = \"" + timeout + "\"\n\n[security.encryption." +
           section + ".aws]\naccess-key = \"AKIDEXAMPLE\"\nsecret-access-key = \"ctl-test-secret\"\n\n";
}

std::string file_table(const std::string& section, const fs::path& key) {
    return "[security.encryption." + section + "]\ntype = \"file\"\npath = \"" + key.string() + "\"\n\n";
}

void write_config(const fs::path& path, const std::string& tables) {
    std::ofstream(path) << "[security.encryption]\ndata-encryption-method = \"aes256-ctr\"\n\n" << tables;
}

atrest_test::process_result ctl(const std::vector<std::string>& args) {
    // No AWS_* from the caller's environment: the config's [.aws] table is what signs.
    return atrest_test::run_process(ATREST_CTL_PATH, args, {{"AWS_ACCESS_KEY_ID", ""}, {"AWS_SECRET_ACCESS_KEY", ""}});
}

}  // namespace

TEST_CASE("atrest-ctl --config with a KMS master key: create, reopen, metrics, rotate, failures", "[ctl]") {
    for (kms_server* server : atrest_test::servers().all()) {
        DYNAMIC_SECTION(server->name()) {
            atrest_test::temp_dir dir;
            const auto data = dir / "data";
            const auto config = (dir / "tikv.toml").string();
            const auto key_id = server->create_key();
            const auto kms = kms_table("master-key", *server, key_id, server->endpoint());
            write_config(config, kms);
            {
                std::ofstream(dir / "plain") << "some plaintext";
            }
            const auto generates = server->generates();
            const auto decrypts = server->decrypts();

            auto r = ctl({"encrypt-file", "--config", config, "--data-dir", data.string(), "--file",
                          (dir / "plain").string(), "--out", (data / "000001.sst").string(), "--init"});
            INFO(r.err);
            REQUIRE(r.exit_code == 0);
            CHECK(server->generates() == generates + 1);
            CHECK(server->decrypts() == decrypts);

            r = ctl({"stats", "--config", config, "--data-dir", data.string(), "--prometheus"});
            INFO(r.err);
            REQUIRE(r.exit_code == 0);
            CHECK(contains(r.out, "atrest_kms_requests_total{operation=\"Decrypt\",outcome=\"ok\"} 1\n"));
            CHECK(contains(r.out, "atrest_kms_requests_total{operation=\"GenerateDataKey\",outcome=\"ok\"} 0\n"));
            CHECK(contains(r.out, "atrest_kms_request_duration_seconds_count{operation=\"Decrypt\"} 1\n"));
            CHECK(server->decrypts() == decrypts + 1);  // one command, one process: one Decrypt
            const auto lint = atrest_test::run_process(ATREST_PROMTOOL, {"check", "metrics"}, {}, r.out);
            INFO(lint.out << lint.err);
            CHECK(lint.exit_code == 0);

            // KMS -> file: the file key current, the KMS key previous.
            const auto master = dir / "master.key";
            REQUIRE(ctl({"keygen", "--out", master.string()}).exit_code == 0);
            write_config(config, file_table("master-key", master) + kms_table("previous-master-key", *server, key_id,
                                                                                server->endpoint()));
            r = ctl({"rotate-master-key", "--config", config, "--data-dir", data.string()});
            INFO(r.out << r.err);
            REQUIRE(r.exit_code == 0);
            CHECK(contains(r.out, "re-sealed"));
            CHECK(server->decrypts() == decrypts + 2);
            REQUIRE(ctl({"decrypt-file", "--master-key-file", master.string(), "--data-dir", data.string(), "--file",
                         (data / "000001.sst").string(), "--out", (dir / "back1").string()})
                        .exit_code == 0);
            CHECK(atrest_test::read_text(dir / "back1") == "some plaintext");

            // file -> KMS again.
            write_config(config, kms + file_table("previous-master-key", master));
            r = ctl({"rotate-master-key", "--config", config, "--data-dir", data.string()});
            INFO(r.out << r.err);
            REQUIRE(r.exit_code == 0);
            CHECK(server->generates() == generates + 2);
            write_config(config, kms);
            r = ctl({"decrypt-file", "--config", config, "--data-dir", data.string(), "--file",
                     (data / "000001.sst").string(), "--out", (dir / "back2").string()});
            INFO(r.err);
            REQUIRE(r.exit_code == 0);
            CHECK(atrest_test::read_text(dir / "back2") == "some plaintext");

            // KMS down at start, and a wrong key id: one error line, exit 1, nothing changed.
            const auto before = atrest_test::directory_bytes(data);
            const auto down = "http://127.0.0.1:" + std::to_string(atrest_test::free_port());
            write_config(config, kms_table("master-key", *server, key_id, down, "500ms"));
            r = ctl({"rotate-data-key", "--config", config, "--data-dir", data.string()});
            CHECK(r.exit_code == 1);
            CHECK(contains(r.err, "atrest-ctl: error: KMS unavailable"));
            CHECK(atrest_test::count_of(r.err, "\n") == 1);
            CHECK_FALSE(contains(r.err, "ctl-test-secret"));
            write_config(config, kms_table("master-key", *server, server->create_key(), server->endpoint()));
            r = ctl({"rotate-data-key", "--config", config, "--data-dir", data.string()});
            CHECK(r.exit_code == 1);
            CHECK(contains(r.err, "atrest-ctl: error: "));
            CHECK(contains(r.err, key_id));  // names the key the data was sealed under
            CHECK(atrest_test::directory_bytes(data) == before);
        }
    }
}
#endif
