// atrest-ctl with --config (TiKV's [security.encryption] TOML) and stats --prometheus, driven as a
// user would: real files, child processes, output parsed back.
#include "ctl_helpers.hpp"
#include "promtool.hpp"

#include <nlohmann/json.hpp>

#include <map>
#include <sstream>

using namespace atrest_test;

namespace {

struct config_workspace : workspace {
    std::string config = (dir / "tikv.toml").string();

    /// A TiKV-style file: another table the tool must ignore, then the encryption sections.
    void write_config(const std::string& method, const std::string& master, const std::string& previous = {}) const {
        std::string text = "[storage]\ndata-dir = \"/somewhere/else\"\n\n[security.encryption]\n"
                           "data-encryption-method = \"" + method + "\"\ndata-key-rotation-period = \"7d\"\n\n"
                           "[security.encryption.master-key]\ntype = \"file\"\npath = \"" + master + "\"\n";
        if (!previous.empty()) {
            text += "\n[security.encryption.previous-master-key]\ntype = \"file\"\npath = \"" + previous + "\"\n";
        }
        write_text(config, text);
    }
    std::vector<std::string> with_config(std::vector<std::string> args) const {
        args.insert(args.end(), {"--config", config, "--data-dir", data});
        return args;
    }
};

/// Prometheus text format: series (name with labels) → value; checks every line parses.
std::map<std::string, std::string> parse_prometheus(const std::string& text) {
    std::map<std::string, std::string> series;
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line)) {
        if (line.starts_with("# HELP ") || line.starts_with("# TYPE ")) continue;
        const auto space = line.rfind(' ');
        INFO(line);
        REQUIRE(space != std::string::npos);
        REQUIRE(line.starts_with("atrest_encryption_"));
        series[line.substr(0, space)] = line.substr(space + 1);
    }
    return series;
}

}  // namespace

TEST_CASE("atrest-ctl --config takes the master key and method from TiKV's TOML", "[ctl][config]") {
    config_workspace w;
    w.write_config("aes192-ctr", w.key);
    const auto plain = (w.dir / "plain").string();
    const auto enc = (w.dir / "enc").string();
    const auto original = random_bytes(100'000, 7);
    write_all(plain, original);
    fails(w.with_config({"encrypt-file", "--file", plain, "--out", enc}), "--init");  // no metadata yet
    ok(w.with_config({"encrypt-file", "--init", "--file", plain, "--out", enc}));  // no --method: the config's

    const auto files = nlohmann::json::parse(ok(w.with_config({"dump-files", "--json"})).out);
    REQUIRE(files["files"].size() == 1);
    CHECK(files["files"][0]["method"] == "aes192-ctr");
    // The same metadata opens with the equivalent flags.
    const auto same = nlohmann::json::parse(ok(w.with_keys({"dump-files", "--json"})).out);
    CHECK(same == files);

    const auto dec = (w.dir / "dec").string();
    ok(w.with_config({"decrypt-file", "--file", enc, "--out", dec}));
    CHECK(read_all(dec) == original);

    // --method still overrides the config for commands that make keys.
    ok(w.with_config({"rotate-data-key", "--method", "sm4-ctr"}));
    const auto keys = nlohmann::json::parse(ok(w.with_config({"dump-keys", "--ids", "--json"})).out);
    REQUIRE(keys["keys"].size() == 2);
    std::size_t sm4 = 0;
    for (const auto& k : keys["keys"]) sm4 += k["method"] == "sm4-ctr" ? 1 : 0;
    CHECK(sm4 == 1);
}

TEST_CASE("atrest-ctl rotate-master-key with a previous-master-key section in --config", "[ctl][config]") {
    config_workspace w;
    w.write_config("aes128-ctr", w.key);
    const auto plain = (w.dir / "plain").string();
    write_all(plain, random_bytes(4096, 8));
    ok(w.with_config({"encrypt-file", "--init", "--file", plain, "--out", (w.dir / "enc").string()}));

    const auto new_key = (w.dir / "new.key").string();
    ok({"keygen", "--out", new_key});
    w.write_config("aes128-ctr", new_key);
    fails(w.with_config({"rotate-master-key"}), "previous-master-key");
    fails(w.with_config({"dump-files"}), "wrong key");

    w.write_config("aes128-ctr", new_key, w.key);
    CHECK(ok(w.with_config({"rotate-master-key"})).out.find("re-sealed") != std::string::npos);
    CHECK(ok(w.with_config({"rotate-master-key"})).out.find("already sealed") != std::string::npos);
    w.write_config("aes128-ctr", new_key);
    ok(w.with_config({"dump-files"}));
    fails(w.with_keys({"dump-files"}), "wrong key");  // the old key alone no longer opens it
}

TEST_CASE("atrest-ctl --config errors name the file, the key and what is accepted", "[ctl][config]") {
    config_workspace w;
    fails(w.with_config({"dump-files"}), w.config);  // no such file
    write_text(w.config, "[security.encryption]\ndata-encryption-methd = \"aes128-ctr\"\n");
    fails(w.with_config({"dump-files"}), "did you mean \"security.encryption.data-encryption-method\"");
    write_text(w.config, "[security.encryption]\ndata-encryption-method = \"aes128-gcm\"\n"
                         "[security.encryption.master-key]\ntype = \"file\"\npath = \"" + w.key + "\"\n");
    fails(w.with_config({"dump-files"}), "\"aes128-gcm\"");
    write_text(w.config, "[security.encryption]\ndata-encryption-method = \"aes128-ctr\"\n");
    fails(w.with_config({"dump-files"}), "plaintext");  // encryption under the default plaintext master key
    write_text(w.config, "[security.encryption]\ndata-encryption-method = \"aes128-ctr\"\n"
                         "[security.encryption.master-key]\ntype = \"kms\"\nkey-id = \"alias/tikv\"\n"
                         "region = \"us-east-1\"\n");
    fails(w.with_config({"dump-files"}), "\"kms\"");
    write_text(w.config, "[security.encryption\n");
    fails(w.with_config({"dump-files"}), "invalid TOML");
    // --config and --master-key-file exclude each other: a usage error.
    CHECK(run_ctl({"dump-files", "--config", w.config, "--master-key-file", w.key, "--data-dir", w.data}).exit_code != 0);
}

TEST_CASE("atrest-ctl stats --prometheus prints the key manager's metrics, passes promtool and changes nothing",
          "[ctl][metrics][promtool]") {
    config_workspace w;
    w.write_config("aes256-ctr", w.key);
    const auto plain = (w.dir / "plain").string();
    write_all(plain, random_bytes(1000, 9));
    for (int i = 0; i < 3; ++i) {
        ok(w.with_config({"encrypt-file", "--init", "--file", plain, "--out", (w.dir / ("enc" + std::to_string(i))).string()}));
    }
    ok(w.with_config({"rotate-data-key"}));
    const auto key_dict = read_all(w.data + "/key.dict");
    const auto file_dict = read_all(w.data + "/file.dict");

    for (const auto& args : {w.with_config({"stats", "--prometheus"}), w.with_keys({"stats", "--prometheus"})}) {
        const auto text = ok(args).out;
        require_promtool_clean(text);
        CHECK(text.find("# TYPE atrest_encryption_write_read_file_duration_seconds histogram\n") != std::string::npos);
        const auto m = parse_prometheus(text);
        CHECK(m.at("atrest_encryption_is_initialized") == "1");
        CHECK(m.at("atrest_encryption_file_dictionary_entries") == "3");
        CHECK(m.at("atrest_encryption_data_keys") == "2");
        CHECK(m.at("atrest_encryption_meta_file_size_bytes{name=\"file_dictionary\"}") ==
              std::to_string(file_dict.size()));
        CHECK(m.at("atrest_encryption_meta_file_size_bytes{name=\"key_dictionary\"}") == std::to_string(key_dict.size()));
        CHECK(m.at("atrest_encryption_write_read_file_duration_seconds_count{type=\"key_dictionary\",operation=\"read\"}") ==
              "1");
        CHECK(m.at("atrest_encryption_write_read_file_duration_seconds_count{type=\"file_dictionary\",operation=\"write\"}") ==
              "0");  // read-only: nothing written
    }
    CHECK(read_all(w.data + "/key.dict") == key_dict);
    CHECK(read_all(w.data + "/file.dict") == file_dict);
    fails({"stats", "--prometheus", "--config", w.config, "--data-dir", (w.dir / "nothing").string()}, "key.dict");
}
