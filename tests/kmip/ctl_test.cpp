// The operator's cycle through `atrest-ctl --config` with a KMIP master key, in both modes,
// against pykmip-server: create a directory under a KMIP key, reopen (one Decrypt or Get per
// command, counted by the server), the key-service metrics in `stats --prometheus` (requests and
// the client certificate's validity), rotate KMIP -> file -> KMIP through previous-master-key,
// the server down and a revoked key: exit 1 with one error line and no byte changed.
#include "catch.hpp"
#include "kmip_server.hpp"
#include "subprocess.hpp"
#include "temp_dir.hpp"

#include <fstream>
#include <string>

#ifdef ATREST_CTL_PATH
namespace {

namespace fs = std::filesystem;

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

std::string kmip_table(const std::string& section, const std::string& endpoint, const std::string& key_id,
                       const std::string& mode, const std::string& timeout = "10s") {
    const auto& server = atrest_test::kmip_server();
    return "[security.encryption." + section + "]\ntype = \"kmip\"\nendpoint = \"" + endpoint + "\"\nkey-id = \"" + key_id +
           "\"\nmode = \"" + mode + "\"\nca-path = \"" + server.file("ca.pem").string() + "\"\ncert-path = \"" +
           server.file("client.pem").string() + "\"\nkey-path = \"" + server.file("client.key").string() +
           "\"\ntimeout = \"" + timeout + "\"\n\n";
}

std::string file_table(const std::string& section, const fs::path& key) {
    return "[security.encryption." + section + "]\ntype = \"file\"\npath = \"" + key.string() + "\"\n\n";
}

void write_config(const fs::path& path, const std::string& tables) {
    std::ofstream(path) << "[security.encryption]\ndata-encryption-method = \"aes256-ctr\"\n\n" << tables;
}

atrest_test::process_result ctl(const std::vector<std::string>& args) { return atrest_test::run_process(ATREST_CTL_PATH, args, {}); }

}  // namespace

TEST_CASE("atrest-ctl --config with a KMIP master key: create, reopen, metrics, rotate, failures", "[ctl]") {
    auto& server = atrest_test::kmip_server();
    auto admin = server.admin();
    for (const std::string mode : {"wrap", "get"}) {
        DYNAMIC_SECTION(mode) {
            const std::string opening = mode == "wrap" ? "Decrypt" : "Get";
            atrest_test::temp_dir dir;
            const auto data = dir / "data";
            const auto config = (dir / "tikv.toml").string();
            const auto key_id = admin.create_aes256();
            const auto kmip = kmip_table("master-key", server.endpoint(), key_id, mode);
            write_config(config, kmip);
            std::ofstream(dir / "plain") << "some plaintext";
            const auto encrypts = server.served("Encrypt");
            const auto opens = server.served(opening);

            auto r = ctl({"encrypt-file", "--config", config, "--data-dir", data.string(), "--file", (dir / "plain").string(),
                          "--out", (data / "000001.sst").string(), "--init"});
            INFO(r.err);
            REQUIRE(r.exit_code == 0);
            CHECK(server.served("Encrypt") == encrypts + (mode == "wrap" ? 1 : 0));

            r = ctl({"stats", "--config", config, "--data-dir", data.string(), "--prometheus"});
            INFO(r.err);
            REQUIRE(r.exit_code == 0);
            // Decrypt (wrap) or Get Attributes + Get (get) count as the "Decrypt" key-service operation.
            CHECK(contains(r.out, std::string("atrest_kms_requests_total{operation=\"Decrypt\",outcome=\"ok\"} ") +
                                      (mode == "wrap" ? "1" : "2") + "\n"));
            CHECK(contains(r.out, "atrest_tls_client_certificate_not_after_timestamp_seconds "));
            CHECK(server.served(opening) == opens + (mode == "wrap" ? 1 : 2));

            // KMIP -> file: the file key current, the KMIP key previous.
            const auto master = dir / "master.key";
            REQUIRE(ctl({"keygen", "--out", master.string()}).exit_code == 0);
            write_config(config, file_table("master-key", master) +
                                     kmip_table("previous-master-key", server.endpoint(), key_id, mode));
            r = ctl({"rotate-master-key", "--config", config, "--data-dir", data.string()});
            INFO(r.out << r.err);
            REQUIRE(r.exit_code == 0);
            CHECK(contains(r.out, "re-sealed"));
            REQUIRE(ctl({"decrypt-file", "--master-key-file", master.string(), "--data-dir", data.string(), "--file",
                         (data / "000001.sst").string(), "--out", (dir / "back1").string()})
                        .exit_code == 0);
            CHECK(atrest_test::read_text(dir / "back1") == "some plaintext");

            // file -> KMIP again.
            write_config(config, kmip + file_table("previous-master-key", master));
            r = ctl({"rotate-master-key", "--config", config, "--data-dir", data.string()});
            INFO(r.out << r.err);
            REQUIRE(r.exit_code == 0);
            write_config(config, kmip);
            r = ctl({"decrypt-file", "--config", config, "--data-dir", data.string(), "--file",
                     (data / "000001.sst").string(), "--out", (dir / "back2").string()});
            INFO(r.err);
            REQUIRE(r.exit_code == 0);
            CHECK(atrest_test::read_text(dir / "back2") == "some plaintext");

            // The server down, then the key revoked: one error line, exit 1, nothing changed.
            const auto before = atrest_test::directory_bytes(data);
            write_config(config, kmip_table("master-key", "127.0.0.1:" + std::to_string(atrest_test::free_port()), key_id,
                                            mode, "500ms"));
            r = ctl({"rotate-data-key", "--config", config, "--data-dir", data.string()});
            CHECK(r.exit_code == 1);
            CHECK(contains(r.err, "atrest-ctl: error: KMIP server unavailable"));
            CHECK(atrest_test::count_of(r.err, "\n") == 1);
            admin.revoke(key_id);
            write_config(config, kmip);
            r = ctl({"rotate-data-key", "--config", config, "--data-dir", data.string()});
            CHECK(r.exit_code == 1);
            CHECK(contains(r.err, "atrest-ctl: error: KMIP key \"" + key_id + "\""));
            CHECK(contains(r.err, "(revoked), not Active"));
            CHECK(atrest_test::directory_bytes(data) == before);
        }
    }
}
#endif
