// atrest-ctl: inspect and maintain a data directory's encryption metadata, like tikv-ctl's
// encryption commands. Exit 0 on success; 1 with one line on stderr on failure; CLI11's codes
// for usage errors.
#include "commands.hpp"

#include <CLI/CLI.hpp>

#include <iostream>

namespace {

void add_key_options(CLI::App* cmd, atrest_ctl::key_options& o, bool with_method) {
    auto* config = cmd->add_option("--config", o.config, "TiKV-style TOML configuration ([security.encryption])");
    auto* key = cmd->add_option("--master-key-file", o.master_key_file, "master key file: 64 hex digits and a newline");
    auto* previous = cmd->add_option("--previous-master-key-file", o.previous_master_key_file,
                                     "the previous master key, tried only when the current one cannot open key.dict");
    config->excludes(key)->excludes(previous);
    previous->needs(key);
    cmd->add_option("--data-dir", o.data_dir, "directory holding key.dict and file.dict")->required();
    if (with_method) {
        cmd->add_option("--method", o.method,
                        "data-encryption-method for new data keys (default: the current key's method)");
    }
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"atrest-ctl: inspect and maintain atrest encryption metadata"};
    app.require_subcommand(1);
    app.set_help_all_flag("--help-all", "help for every subcommand");
    atrest_ctl::key_options o;

    std::string out, file, path, method, key_hex, iv_hex, in;
    bool json = false, ids = false, consent = false, prometheus = false;
    std::uint64_t offset = 0;

    auto* keygen = app.add_subcommand("keygen", "write a new master key file (0600; never overwrites)");
    keygen->add_option("--out", out, "the key file to create")->required();

    auto* dump_files = app.add_subcommand("dump-files", "list the file dictionary: path, key id, method, IV");
    add_key_options(dump_files, o, false);
    dump_files->add_option("--path", path, "only this path");
    dump_files->add_flag("--json", json, "JSON output");

    auto* dump_keys = app.add_subcommand("dump-keys", "list data keys (exposes secrets: needs --i-consent)");
    add_key_options(dump_keys, o, false);
    dump_keys->add_flag("--ids", ids, "ids, methods and times only; no key bytes");
    dump_keys->add_flag("--json", json, "JSON output");
    dump_keys->add_flag("--i-consent", consent, "accept that data keys are printed in the clear");

    auto* decrypt = app.add_subcommand("decrypt-file", "decrypt one data file using its dictionary entry");
    add_key_options(decrypt, o, false);
    decrypt->add_option("--file", file, "the encrypted file, as the dictionary names it")->required();
    decrypt->add_option("--out", out, "the plaintext file to create")->required();

    auto* encrypt = app.add_subcommand("encrypt-file", "register OUT in the dictionary and write FILE into it encrypted");
    add_key_options(encrypt, o, true);
    encrypt->add_option("--file", file, "the plaintext file")->required();
    encrypt->add_option("--out", out, "the encrypted file to create")->required();

    auto* rotate_master = app.add_subcommand("rotate-master-key", "re-seal key.dict under the new master key");
    add_key_options(rotate_master, o, false);

    auto* rotate_data = app.add_subcommand("rotate-data-key", "make a new current data key now");
    add_key_options(rotate_data, o, true);

    auto* cleanup = app.add_subcommand("cleanup", "drop dictionary entries whose file no longer exists");
    add_key_options(cleanup, o, false);

    auto* stats = app.add_subcommand("stats", "counts and sizes of the encryption metadata");
    add_key_options(stats, o, false);
    stats->add_flag("--prometheus", prometheus, "print the metrics in Prometheus text format");

    auto* crypt = app.add_subcommand("crypt", "apply a raw CTR keystream (the library's) from byte OFFSET of IN to OUT");
    crypt->add_option("--method", method, "aes128-ctr, aes192-ctr, aes256-ctr, sm4-ctr or plaintext")->required();
    crypt->add_option("--key-hex", key_hex, "the data key in hex")->required();
    crypt->add_option("--iv-hex", iv_hex, "the 16-byte IV in hex")->required();
    crypt->add_option("--offset", offset, "file offset of IN's first byte (default 0)");
    crypt->add_option("IN", in, "input file")->required();
    crypt->add_option("OUT", out, "output file to create")->required();

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return app.exit(e);
    }
    try {
        if (*keygen) atrest_ctl::keygen(out);
        if (*dump_files) atrest_ctl::dump_files(o, path, json);
        if (*dump_keys) atrest_ctl::dump_keys(o, ids, json, consent);
        if (*decrypt) atrest_ctl::decrypt_file(o, file, out);
        if (*encrypt) atrest_ctl::encrypt_file(o, file, out);
        if (*rotate_master) atrest_ctl::rotate_master_key(o);
        if (*rotate_data) atrest_ctl::rotate_data_key(o);
        if (*cleanup) atrest_ctl::cleanup(o);
        if (*stats) atrest_ctl::stats(o, prometheus);
        if (*crypt) atrest_ctl::crypt(method, key_hex, iv_hex, offset, in, out);
    } catch (const std::exception& e) {
        std::cerr << "atrest-ctl: error: " << e.what() << "\n";
        return 1;
    }
    return 0;
}
