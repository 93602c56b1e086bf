// atrest-ctl driven as a user would: real files, child processes, JSON parsed back.
#include "ctl_helpers.hpp"

#include <atrest/dict.hpp>
#include <atrest/master_key.hpp>

#include <nlohmann/json.hpp>

#include <sys/stat.h>

using namespace atrest_test;

TEST_CASE("atrest-ctl --help works for the tool and every subcommand", "[ctl]") {
    const auto top = run_ctl({"--help"});
    CHECK(top.exit_code == 0);
    for (const char* sub : {"keygen", "dump-files", "dump-keys", "decrypt-file", "encrypt-file", "rotate-master-key",
                            "rotate-data-key", "cleanup", "stats", "crypt"}) {
        CHECK(top.out.find(sub) != std::string::npos);
        const auto r = run_ctl({sub, "--help"});
        INFO(sub);
        CHECK(r.exit_code == 0);
        CHECK(r.out.find("--") != std::string::npos);
    }
    CHECK(run_ctl({}).exit_code != 0);
    CHECK(run_ctl({"no-such-command"}).exit_code != 0);
}

TEST_CASE("keygen writes the spec's format with mode 0600 and never overwrites", "[ctl]") {
    temp_dir dir;
    const auto key = (dir / "k").string();
    ok({"keygen", "--out", key});
    const auto bytes = read_all(key);
    REQUIRE(bytes.size() == 65);
    CHECK(bytes[64] == std::byte{'\n'});
    struct ::stat st {};
    REQUIRE(::stat(key.c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0600);
    fails({"keygen", "--out", key}, key);
    CHECK(read_all(key) == bytes);
}

TEST_CASE("encrypt-file, dump-files, dump-keys and crypt round-trip to the original bytes", "[ctl]") {
    workspace w;
    const auto plain = (w.dir / "plain.bin").string();
    const auto enc = (w.dir / "enc.bin").string();
    const auto original = random_bytes(3 * 1024 * 1024 + 123, 1);
    write_all(plain, original);
    ok(w.with_keys({"encrypt-file", "--method", "aes256-ctr", "--file", plain, "--out", enc}));
    const auto encrypted = read_all(enc);
    CHECK(encrypted.size() == original.size());
    CHECK(encrypted != original);

    const auto files = nlohmann::json::parse(ok(w.with_keys({"dump-files", "--json"})).out);
    REQUIRE(files["files"].size() == 1);
    const auto& f = files["files"][0];
    CHECK(f["path"] == enc);
    CHECK(f["method"] == "aes256-ctr");
    CHECK(f["iv"].get<std::string>().size() == 32);
    const auto key_id = f["key_id"].get<std::uint64_t>();

    fails(w.with_keys({"dump-keys"}), "--i-consent");
    const auto ids = nlohmann::json::parse(ok(w.with_keys({"dump-keys", "--ids", "--json"})).out);
    CHECK(ids["current_key_id"].get<std::uint64_t>() == key_id);
    CHECK_FALSE(ids["keys"][0].contains("key"));
    const auto keys = nlohmann::json::parse(ok(w.with_keys({"dump-keys", "--json", "--i-consent"})).out);
    REQUIRE(keys["keys"].size() == 1);
    CHECK(keys["keys"][0]["id"].get<std::uint64_t>() == key_id);
    CHECK(keys["keys"][0]["was_exposed"] == false);
    CHECK(keys["keys"][0]["creation_time"].get<std::int64_t>() > 1700000000);
    const auto key_hex = keys["keys"][0]["key"].get<std::string>();
    CHECK(key_hex.size() == 64);

    const auto via_crypt = (w.dir / "crypt.out").string();
    ok({"crypt", "--method", "aes256-ctr", "--key-hex", key_hex, "--iv-hex", f["iv"], enc, via_crypt});
    CHECK(read_all(via_crypt) == original);

    // A tail of the file decrypts on its own from its offset.
    const std::size_t offset = 1000003;
    const auto tail = (w.dir / "tail.enc").string();
    write_all(tail, std::vector<std::byte>(encrypted.begin() + offset, encrypted.end()));
    const auto tail_out = (w.dir / "tail.out").string();
    ok({"crypt", "--method", "aes256-ctr", "--key-hex", key_hex, "--iv-hex", f["iv"], "--offset", std::to_string(offset),
        tail, tail_out});
    CHECK(read_all(tail_out) == std::vector<std::byte>(original.begin() + offset, original.end()));

    const auto dec = (w.dir / "dec.bin").string();
    ok(w.with_keys({"decrypt-file", "--file", enc, "--out", dec}));
    CHECK(read_all(dec) == original);
    fails(w.with_keys({"decrypt-file", "--file", enc, "--out", dec}), dec);  // never overwrites

    const auto text = ok(w.with_keys({"dump-files"})).out;
    CHECK(text.find(enc) != std::string::npos);
    CHECK(text.find("aes256-ctr") != std::string::npos);
}

TEST_CASE("rotate-data-key, rotate-master-key, cleanup and stats", "[ctl]") {
    workspace w;
    const auto plain = (w.dir / "p").string();
    write_all(plain, random_bytes(5000, 2));
    const auto enc1 = (w.dir / "e1").string();
    ok(w.with_keys({"encrypt-file", "--method", "sm4-ctr", "--file", plain, "--out", enc1}));
    ok(w.with_keys({"rotate-data-key"}));  // keeps the current method
    const auto keys = nlohmann::json::parse(ok(w.with_keys({"dump-keys", "--ids", "--json"})).out);
    REQUIRE(keys["keys"].size() == 2);
    for (const auto& k : keys["keys"]) CHECK(k["method"] == "sm4-ctr");

    // Master key rotation: new key + previous key, then the new key alone.
    const auto new_key = (w.dir / "new.key").string();
    ok({"keygen", "--out", new_key});
    fails({"rotate-master-key", "--master-key-file", new_key, "--data-dir", w.data}, "previous");
    const auto r = ok({"rotate-master-key", "--master-key-file", new_key, "--previous-master-key-file", w.key,
                       "--data-dir", w.data});
    CHECK(r.out.find("re-sealed") != std::string::npos);
    ok({"dump-files", "--master-key-file", new_key, "--data-dir", w.data});
    fails(w.with_keys({"dump-files"}), "wrong key");
    const auto dec = (w.dir / "d").string();
    ok({"decrypt-file", "--master-key-file", new_key, "--data-dir", w.data, "--file", enc1, "--out", dec});
    CHECK(read_all(dec) == read_all(plain));

    const auto stats = ok({"stats", "--master-key-file", new_key, "--data-dir", w.data}).out;
    CHECK(stats.find("encrypted files: 1") != std::string::npos);
    CHECK(stats.find("data keys: 2") != std::string::npos);

    std::filesystem::remove(enc1);
    const auto cleaned = ok({"cleanup", "--master-key-file", new_key, "--data-dir", w.data}).out;
    CHECK(cleaned.find("removed 1 stale entry") != std::string::npos);
    const auto files = nlohmann::json::parse(ok({"dump-files", "--json", "--master-key-file", new_key, "--data-dir", w.data}).out);
    CHECK(files["files"].empty());
}

TEST_CASE("atrest-ctl error paths exit 1 with one clear line", "[ctl]") {
    workspace w;
    const auto bad_key = (w.dir / "bad.key").string();
    write_all(bad_key, std::vector<std::byte>(63, std::byte{'a'}));
    fails({"dump-files", "--master-key-file", bad_key, "--data-dir", w.data}, bad_key);
    fails({"dump-files", "--master-key-file", (w.dir / "missing.key").string(), "--data-dir", w.data}, "missing.key");
    fails(w.with_keys({"dump-files"}), "key.dict");  // nothing there yet
    const auto in = (w.dir / "in").string();
    write_all(in, random_bytes(10, 3));
    fails({"crypt", "--method", "aes512-ctr", "--key-hex", "00", "--iv-hex", "00", in, (w.dir / "o1").string()},
          "\"aes128-ctr\"");
    fails({"crypt", "--method", "aes128-ctr", "--key-hex", "zz", "--iv-hex", "00", in, (w.dir / "o2").string()},
          "--key-hex");
    fails({"crypt", "--method", "aes128-ctr", "--key-hex", std::string(32, '0'), "--iv-hex", "00", in,
           (w.dir / "o3").string()},
          "IV");
    fails(w.with_keys({"encrypt-file", "--file", in, "--out", (w.dir / "o4").string()}), "key.dict");  // no method
    fails(w.with_keys({"encrypt-file", "--method", "nope", "--file", in, "--out", (w.dir / "o5").string()}), "\"nope\"");
    ok(w.with_keys({"encrypt-file", "--method", "aes128-ctr", "--file", in, "--out", (w.dir / "o6").string()}));
    fails(w.with_keys({"dump-files", "--path", "/not/there"}), "/not/there");
    // A failed copy leaves neither a partial output file nor a dictionary entry for it.
    const auto missing = (w.dir / "no-such-input").string();
    const auto o7 = (w.dir / "o7").string();
    fails(w.with_keys({"encrypt-file", "--file", missing, "--out", o7}), missing);
    CHECK_FALSE(std::filesystem::exists(o7));
    fails(w.with_keys({"dump-files", "--path", o7}), o7);
    fails(w.with_keys({"decrypt-file", "--file", missing, "--out", o7}), missing);
    CHECK_FALSE(std::filesystem::exists(o7));
    // Usage errors come from the argument parser with a non-zero code.
    CHECK(run_ctl({"dump-files", "--master-key-file", w.key}).exit_code != 0);  // no --data-dir
    CHECK(run_ctl({"dump-files", "--previous-master-key-file", w.key, "--data-dir", w.data}).exit_code != 0);
}

TEST_CASE("writing commands refuse a directory an engine has open; reading ones still work", "[ctl][lock]") {
    const workspace w;
    const auto plain = (w.dir / "plain").string();
    write_all(plain, random_bytes(1000, 3));
    std::filesystem::create_directories(w.data);
    ok(w.with_keys({"encrypt-file", "--method", "aes128-ctr", "--file", plain, "--out", (w.dir / "data" / "a").string()}));
    {
        // The "engine": a key manager holding the directory for writing.
        atrest::key_manager<atrest::file_master_key<>> engine(w.data, atrest::file_master_key<>(w.key));
        const auto key_dict = read_all(w.data + "/key.dict");
        const auto file_dict = read_all(w.data + "/file.dict");
        fails(w.with_keys({"rotate-data-key"}), "is locked");
        fails(w.with_keys({"cleanup"}), "is locked");
        fails(w.with_keys({"encrypt-file", "--file", plain, "--out", (w.dir / "data" / "b").string()}), "is locked");
        CHECK_FALSE(std::filesystem::exists(w.dir / "data" / "b"));
        CHECK(read_all(w.data + "/key.dict") == key_dict);
        CHECK(read_all(w.data + "/file.dict") == file_dict);
        CHECK(ok(w.with_keys({"dump-files", "--json"})).out.find("\"method\":\"aes128-ctr\"") != std::string::npos);
        ok(w.with_keys({"stats"}));
    }
    ok(w.with_keys({"rotate-data-key"}));  // the engine stopped: the lock went with it
}

