// atrest-ctl driven as a user would: real files, child processes, JSON parsed back.
#include "ctl_helpers.hpp"

#include <atrest/dict.hpp>
#include <atrest/master_key.hpp>
#include <atrest/version.hpp>

#include <nlohmann/json.hpp>

#include <sys/stat.h>

using namespace atrest_test;

namespace {

/// A key file holding `hex` (and a newline), as `crypt --key-file` reads it.
std::string key_file_with(const temp_dir& dir, const std::string& hex) {
    const auto path = (dir / "data-key.hex").string();
    std::filesystem::remove(path);
    write_text(path, hex + "\n");
    return path;
}

}  // namespace

TEST_CASE("atrest-ctl --help and --version work, an unknown subcommand is named", "[ctl]") {
    const auto top = run_ctl({"--help"});
    CHECK(top.exit_code == 0);
    for (const char* sub : {"keygen", "dump-files", "dump-keys", "decrypt-file", "encrypt-file", "rotate-master-key",
                            "rotate-data-key", "collect-keys", "cleanup", "stats", "crypt", "seal-stream", "open-stream",
                            "verify-stream", "put-object", "get-object", "verify-object", "rotate-object"}) {
        CHECK(top.out.find(sub) != std::string::npos);
        const auto r = run_ctl({sub, "--help"});
        INFO(sub);
        CHECK(r.exit_code == 0);
        CHECK(r.out.find("--") != std::string::npos);
    }
    CHECK(run_ctl({}).exit_code != 0);
    const auto unknown = run_ctl({"no-such-command"});
    CHECK(unknown.exit_code != 0);
    CHECK(unknown.err.find("unknown subcommand 'no-such-command'") != std::string::npos);
    const auto version = run_ctl({"--version"});
    CHECK(version.exit_code == 0);
    CHECK(version.out.find(atrest::version_string) != std::string::npos);
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
    ok(w.with_keys({"encrypt-file", "--init", "--method", "aes256-ctr", "--file", plain, "--out", enc}));
    const auto encrypted = read_all(enc);
    CHECK(encrypted.size() == original.size());
    CHECK(encrypted != original);

    const auto files = nlohmann::json::parse(ok(w.with_keys({"dump-files", "--json"})).out);
    REQUIRE(files["files"].size() == 1);
    const auto& f = files["files"][0];
    CHECK(f["path"] == enc);  // outside the data directory: an absolute name
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

    // crypt takes the data key from a file or standard input, never from the command line.
    const auto key_path = key_file_with(w.dir, key_hex);
    const auto via_crypt = (w.dir / "crypt.out").string();
    ok({"crypt", "--method", "aes256-ctr", "--key-file", key_path, "--iv-hex", f["iv"], enc, via_crypt});
    CHECK(read_all(via_crypt) == original);
    CHECK(run_ctl({"crypt", "--method", "aes256-ctr", "--key-hex", key_hex, "--iv-hex", f["iv"], enc,
                   (w.dir / "never").string()})
              .exit_code != 0);

    // A tail of the file decrypts on its own from its offset.
    const std::size_t offset = 1000003;
    const auto tail = (w.dir / "tail.enc").string();
    write_all(tail, std::vector<std::byte>(encrypted.begin() + offset, encrypted.end()));
    const auto tail_out = (w.dir / "tail.out").string();
    ok({"crypt", "--method", "aes256-ctr", "--key-file", key_path, "--iv-hex", f["iv"], "--offset",
        std::to_string(offset), tail, tail_out});
    CHECK(read_all(tail_out) == std::vector<std::byte>(original.begin() + offset, original.end()));
    for (const char* bad : {"-1", "12x", "", "99999999999999999999"}) {
        fails({"crypt", "--method", "aes256-ctr", "--key-file", key_path, "--iv-hex", f["iv"], "--offset", bad, tail,
               (w.dir / "bad-offset").string()},
              "--offset");
    }
    CHECK_FALSE(std::filesystem::exists(w.dir / "bad-offset"));

    const auto dec = (w.dir / "dec.bin").string();
    ok(w.with_keys({"decrypt-file", "--file", enc, "--out", dec}));
    CHECK(read_all(dec) == original);
    fails(w.with_keys({"decrypt-file", "--file", enc, "--out", dec}), dec);  // never overwrites

    const auto text = ok(w.with_keys({"dump-files"})).out;
    CHECK(text.find(enc) != std::string::npos);
    CHECK(text.find("aes256-ctr") != std::string::npos);
}

TEST_CASE("rotate-data-key, rotate-master-key, collect-keys, cleanup and stats", "[ctl]") {
    workspace w;
    const auto plain = (w.dir / "p").string();
    write_all(plain, random_bytes(5000, 2));
    const auto enc1 = (w.dir / "e1").string();
    ok(w.with_keys({"encrypt-file", "--init", "--method", "sm4-ctr", "--file", plain, "--out", enc1}));
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
    const auto with_new = [&](std::vector<std::string> args) {
        args.insert(args.end(), {"--master-key-file", new_key, "--data-dir", w.data});
        return args;
    };
    const auto dec = (w.dir / "d").string();
    ok(with_new({"decrypt-file", "--file", enc1, "--out", dec}));
    CHECK(read_all(dec) == read_all(plain));

    const auto stats = ok(with_new({"stats"})).out;
    CHECK(stats.find("encrypted files: 1") != std::string::npos);
    CHECK(stats.find("data keys: 2") != std::string::npos);
    const auto stats_json = nlohmann::json::parse(ok(with_new({"stats", "--json"})).out);
    CHECK(stats_json["encrypted_files"] == 1);
    CHECK(stats_json["data_keys"] == 2);
    CHECK(stats_json["current_key_method"] == "sm4-ctr");

    // The first key is e1's; the current one stays: nothing to collect yet.
    CHECK(ok(with_new({"collect-keys"})).out.find("removed 0 unused data keys") != std::string::npos);

    std::filesystem::remove(enc1);
    // The only entry would go: refused unless asked for, so a mistyped directory loses nothing.
    fails(with_new({"cleanup"}), "--force");
    const auto dry = nlohmann::json::parse(ok(with_new({"cleanup", "--dry-run", "--json"})).out);
    CHECK(dry["stale"].size() == 1);
    CHECK(dry["stale"][0]["path"] == enc1);
    CHECK(ok(with_new({"cleanup", "--force"})).out.find("removed 1 stale entry") != std::string::npos);
    const auto files = nlohmann::json::parse(ok(with_new({"dump-files", "--json"})).out);
    CHECK(files["files"].empty());

    // Now the first data key is unused: collect-keys lists it, then removes it.
    const auto listed = nlohmann::json::parse(ok(with_new({"collect-keys", "--dry-run", "--json"})).out);
    REQUIRE(listed["unused_key_ids"].size() == 1);
    CHECK(ok(with_new({"collect-keys"})).out.find("removed 1 unused data key") != std::string::npos);
    CHECK(nlohmann::json::parse(ok(with_new({"dump-keys", "--ids", "--json"})).out)["keys"].size() == 1);
}

TEST_CASE("atrest-ctl error paths exit 1 with one clear line", "[ctl]") {
    workspace w;
    const auto bad_key = (w.dir / "bad.key").string();
    write_all(bad_key, std::vector<std::byte>(63, std::byte{'a'}));
    fails({"dump-files", "--master-key-file", bad_key, "--data-dir", w.data}, bad_key);
    fails({"dump-files", "--master-key-file", (w.dir / "missing.key").string(), "--data-dir", w.data}, "missing.key");
    fails(w.with_keys({"dump-files"}), "no atrest metadata");  // nothing there yet
    const auto in = (w.dir / "in").string();
    write_all(in, random_bytes(10, 3));
    fails({"crypt", "--method", "aes512-ctr", "--key-file", key_file_with(w.dir, "00"), "--iv-hex", "00", in,
           (w.dir / "o1").string()},
          "\"aes128-ctr\"");
    fails({"crypt", "--method", "aes128-ctr", "--key-file", key_file_with(w.dir, "zz"), "--iv-hex", "00", in,
           (w.dir / "o2").string()},
          "--key-file");
    fails({"crypt", "--method", "aes128-ctr", "--key-file", key_file_with(w.dir, std::string(32, '0')), "--iv-hex", "00",
           in, (w.dir / "o3").string()},
          "IV");
    fails(w.with_keys({"encrypt-file", "--file", in, "--out", (w.dir / "o4").string()}), "--init");
    fails(w.with_keys({"encrypt-file", "--init", "--method", "nope", "--file", in, "--out", (w.dir / "o5").string()}),
          "\"nope\"");
    CHECK_FALSE(std::filesystem::exists(w.data));  // a refused command created nothing
    ok(w.with_keys({"encrypt-file", "--init", "--method", "aes128-ctr", "--file", in, "--out", (w.dir / "o6").string()}));
    fails(w.with_keys({"dump-files", "--path", "/not/there"}), "/not/there");
    // A failed copy leaves neither a partial output file nor a dictionary entry for it.
    const auto missing = (w.dir / "no-such-input").string();
    const auto o7 = (w.dir / "o7").string();
    fails(w.with_keys({"encrypt-file", "--file", missing, "--out", o7}), missing);
    CHECK_FALSE(std::filesystem::exists(o7));
    fails(w.with_keys({"dump-files", "--path", o7}), o7);
    fails(w.with_keys({"decrypt-file", "--file", missing, "--out", o7}), "--allow-plaintext");
    CHECK_FALSE(std::filesystem::exists(o7));
    // encrypt-file never replaces an existing file or its entry.
    fails(w.with_keys({"encrypt-file", "--file", in, "--out", (w.dir / "o6").string()}), "o6");
    // Usage errors come from the argument parser with a non-zero code.
    CHECK(run_ctl({"dump-files", "--master-key-file", w.key}).exit_code != 0);  // no --data-dir
    CHECK(run_ctl({"dump-files", "--previous-master-key-file", w.key, "--data-dir", w.data}).exit_code != 0);
}

TEST_CASE("decrypt-file of a file without an entry fails unless a plaintext copy is asked for", "[ctl]") {
    workspace w;
    const auto in = (w.dir / "in").string();
    write_all(in, random_bytes(100, 4));
    ok(w.with_keys({"encrypt-file", "--init", "--file", in, "--out", (w.data + "/enc")}));
    const auto plain = w.data + "/plain.log";  // in the data directory, never registered
    write_all(plain, random_bytes(50, 5));
    const auto out = (w.dir / "copy").string();
    fails(w.with_keys({"decrypt-file", "--file", plain, "--out", out}), "no dictionary entry");
    CHECK_FALSE(std::filesystem::exists(out));
    ok(w.with_keys({"decrypt-file", "--file", plain, "--out", out, "--allow-plaintext"}));
    CHECK(read_all(out) == read_all(plain));
}

TEST_CASE("every subcommand gives the same answer from any working directory", "[ctl][paths]") {
    workspace w;
    const auto in = (w.dir / "in").string();
    const auto original = random_bytes(4000, 6);
    write_all(in, original);
    std::filesystem::create_directories(w.data);
    // Created from inside the data directory with a relative name: the entry is "x.sst".
    ok({"encrypt-file", "--init", "--master-key-file", w.key, "--data-dir", ".", "--file", in, "--out", "x.sst"}, w.data);
    const auto names = nlohmann::json::parse(ok(w.with_keys({"dump-files", "--json"})).out);
    REQUIRE(names["files"].size() == 1);
    CHECK(names["files"][0]["path"] == "x.sst");

    temp_dir elsewhere;
    const auto rel_data = std::filesystem::relative(w.data, elsewhere.path()).string();
    for (const auto& [cwd, data, file] :
         std::vector<std::tuple<std::string, std::string, std::string>>{
             {w.data, ".", "x.sst"},
             {w.data, ".", "./x.sst"},
             {w.dir.path().string(), "data", "data/x.sst"},
             {w.dir.path().string(), "data/", "data//x.sst"},
             {w.dir.path().string(), "./data", "data/sub/../x.sst"},
             {elsewhere.path().string(), rel_data, rel_data + "/x.sst"},
             {elsewhere.path().string(), w.data, w.data + "/x.sst"}}) {
        INFO("cwd " << cwd << ", --data-dir " << data << ", file " << file);
        const auto with = [&](std::vector<std::string> args) {
            args.insert(args.end(), {"--master-key-file", w.key, "--data-dir", data});
            return args;
        };
        const auto listed = nlohmann::json::parse(ok(with({"dump-files", "--json", "--path", file}), cwd).out);
        CHECK(listed == names);
        const auto out = (elsewhere / "out").string();
        std::filesystem::remove(out);
        ok(with({"decrypt-file", "--file", file, "--out", out}), cwd);
        CHECK(read_all(out) == original);
        const auto dry = nlohmann::json::parse(ok(with({"cleanup", "--dry-run", "--json"}), cwd).out);
        CHECK(dry["stale"].empty());
        CHECK(ok(with({"cleanup"}), cwd).out.find("removed 0 stale entries of 1") != std::string::npos);
        CHECK(nlohmann::json::parse(ok(with({"stats", "--json"}), cwd).out)["encrypted_files"] == 1);
    }
}

TEST_CASE("maintenance commands on a mistyped or emptied data directory create nothing", "[ctl][paths]") {
    workspace w;
    const auto in = (w.dir / "in").string();
    write_all(in, random_bytes(100, 7));
    ok(w.with_keys({"encrypt-file", "--init", "--file", in, "--out", w.data + "/a"}));
    const auto typo = (w.dir / "dta").string();
    std::filesystem::create_directories(typo);
    const auto at = [&](const std::string& dir, std::vector<std::string> args) {
        args.insert(args.end(), {"--master-key-file", w.key, "--data-dir", dir});
        return args;
    };
    for (const auto& args : std::vector<std::vector<std::string>>{
             {"cleanup"}, {"collect-keys"}, {"rotate-data-key"}, {"stats"}, {"dump-files"}, {"dump-keys", "--ids"}}) {
        INFO(args.front());
        fails(at(typo, args), "no atrest metadata in '" + typo + "'");
    }
    fails(at(typo, {"rotate-master-key", "--previous-master-key-file", w.key}), "no atrest metadata");
    CHECK(std::filesystem::is_empty(typo));  // no key.dict, file.dict or lock file appeared
    // Explicitly asked: new metadata, with the default method.
    ok(at(typo, {"rotate-data-key", "--init"}));
    CHECK(nlohmann::json::parse(ok(at(typo, {"stats", "--json"})).out)["current_key_method"] == "aes256-ctr");
}

TEST_CASE("paths that are not UTF-8 or hold control characters cannot break the output", "[ctl][paths]") {
    workspace w;
    const auto in = (w.dir / "in").string();
    write_all(in, random_bytes(100, 8));
    std::filesystem::create_directories(w.data);
    const std::string odd = w.data + "/bad\xff\xfe-name";
    const std::string forged = w.data + "/x\tkey_id=1\tmethod=plaintext\nfake";
    ok(w.with_keys({"encrypt-file", "--init", "--file", in, "--out", odd}));
    ok(w.with_keys({"encrypt-file", "--file", in, "--out", forged}));

    const auto json = nlohmann::json::parse(ok(w.with_keys({"dump-files", "--json"})).out);
    REQUIRE(json["files"].size() == 2);
    bool saw_hex = false;
    for (const auto& f : json["files"]) {
        if (!f.contains("path_hex")) continue;
        saw_hex = true;
        CHECK(f["path_hex"] == "626164fffe2d6e616d65");  // the exact bytes of "bad\xff\xfe-name"
        CHECK(f["path"] == "bad\xEF\xBF\xBD\xEF\xBF\xBD-name");   // U+FFFD for each invalid byte
    }
    CHECK(saw_hex);
    const auto text = ok(w.with_keys({"dump-files"})).out;
    CHECK(std::count(text.begin(), text.end(), '\n') == 2);  // one line per entry, whatever the names
    CHECK(text.find("bad\\xff\\xfe-name") != std::string::npos);
    CHECK(text.find("x\\tkey_id=1\\tmethod=plaintext\\nfake") != std::string::npos);
    // An error naming such a path is still one line.
    fails(w.with_keys({"dump-files", "--path", forged + "-absent"}), "\\n");
    fails(w.with_keys({"encrypt-file", "--file", in, "--out", forged}), "\\t");
}

TEST_CASE("writing commands refuse a directory an engine has open, reading ones still work", "[ctl][lock]") {
    const workspace w;
    const auto plain = (w.dir / "plain").string();
    write_all(plain, random_bytes(1000, 3));
    std::filesystem::create_directories(w.data);
    ok(w.with_keys({"encrypt-file", "--init", "--method", "aes128-ctr", "--file", plain, "--out",
                    (w.dir / "data" / "a").string()}));
    {
        // The "engine": a key manager holding the directory for writing.
        atrest::key_manager<atrest::file_master_key<>> engine(w.data, atrest::file_master_key<>(w.key));
        const auto key_dict = read_all(w.data + "/key.dict");
        const auto file_dict = read_all(w.data + "/file.dict");
        fails(w.with_keys({"rotate-data-key"}), "is locked");
        fails(w.with_keys({"cleanup"}), "is locked");
        fails(w.with_keys({"collect-keys"}), "is locked");
        fails(w.with_keys({"encrypt-file", "--file", plain, "--out", (w.dir / "data" / "b").string()}), "is locked");
        CHECK_FALSE(std::filesystem::exists(w.dir / "data" / "b"));
        CHECK(read_all(w.data + "/key.dict") == key_dict);
        CHECK(read_all(w.data + "/file.dict") == file_dict);
        CHECK(ok(w.with_keys({"dump-files", "--json"})).out.find("\"method\":\"aes128-ctr\"") != std::string::npos);
        ok(w.with_keys({"stats"}));
        ok(w.with_keys({"cleanup", "--dry-run"}));
    }
    ok(w.with_keys({"rotate-data-key"}));  // the engine stopped: the lock went with it
}
