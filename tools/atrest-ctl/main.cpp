// atrest-ctl: inspect and maintain a data directory's encryption metadata, like tikv-ctl's
// encryption commands. Exit 0 on success; 1 with one line on stderr on failure; CLI11's codes
// for usage errors.
#include "commands.hpp"

#include <CLI/CLI.hpp>

#include <iostream>

namespace {

enum class key_flags { read, write, write_with_init };

void add_key_options(CLI::App* cmd, atrest_ctl::key_options& o, key_flags flags) {
    auto* config = cmd->add_option("--config", o.config, "TiKV-style TOML configuration ([security.encryption])");
    auto* key = cmd->add_option("--master-key-file", o.master_key_file, "master key file: 64 hex digits and a newline");
    auto* previous = cmd->add_option("--previous-master-key-file", o.previous_master_key_file,
                                     "the previous master key, tried only when the current one cannot open key.dict");
    config->excludes(key)->excludes(previous);
    previous->needs(key);
    cmd->add_option("--data-dir", o.data_dir, "directory holding key.dict and file.dict")->required();
    if (flags == key_flags::write_with_init) {
        cmd->add_option("--method", o.method,
                        "data-encryption-method for new data keys (default: the current key's method; with --init "
                        "and no config method: aes256-ctr)");
        cmd->add_flag("--init", o.init,
                      "create key.dict and file.dict if the directory has neither (otherwise that is an error)");
    }
}

/// A whole, non-negative decimal number for --offset (CLI11 would wrap "-1" into 2^64 - 1).
std::uint64_t parse_offset(const std::string& text) {
    const auto bad = [&] {
        return atrest::error(atrest::errc::invalid_argument,
                             "--offset " + atrest_ctl::escaped(text) + ": accepted: a whole number of bytes from 0 to " +
                                 std::to_string(UINT64_MAX));
    };
    if (text.empty() || text.size() > 20) throw bad();
    std::uint64_t n = 0;
    for (char c : text) {
        if (c < '0' || c > '9') throw bad();
        const auto digit = static_cast<std::uint64_t>(c - '0');
        if (n > (UINT64_MAX - digit) / 10) throw bad();
        n = n * 10 + digit;
    }
    return n;
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"atrest-ctl: inspect and maintain atrest encryption metadata"};
    app.require_subcommand(1);
    app.set_help_all_flag("--help-all", "help for every subcommand");
    app.set_version_flag("--version", std::string("atrest-ctl ") + atrest::version_string);
    atrest_ctl::key_options o;

    std::string out, file, path, method, key_file, iv_hex, in, offset_text = "0";
    bool json = false, ids = false, consent = false, prometheus = false, dry_run = false, force = false,
         allow_plaintext = false;

    auto* keygen = app.add_subcommand("keygen", "write a new master key file (0600; never overwrites)");
    keygen->add_option("--out", out, "the key file to create")->required();

    auto* dump_files = app.add_subcommand("dump-files", "list the file dictionary: path, key id, method, IV");
    add_key_options(dump_files, o, key_flags::read);
    dump_files->add_option("--path", path, "only this file (any path that reaches it)");
    dump_files->add_flag("--json", json, "JSON output");

    auto* dump_keys = app.add_subcommand("dump-keys", "list data keys (exposes secrets: needs --i-consent)");
    add_key_options(dump_keys, o, key_flags::read);
    dump_keys->add_flag("--ids", ids, "ids, methods and times only; no key bytes");
    dump_keys->add_flag("--json", json, "JSON output");
    dump_keys->add_flag("--i-consent", consent, "accept that data keys are printed in the clear");

    auto* decrypt = app.add_subcommand("decrypt-file", "decrypt one data file using its dictionary entry");
    add_key_options(decrypt, o, key_flags::read);
    decrypt->add_option("--file", file, "the encrypted file (any path that reaches it)")->required();
    decrypt->add_option("--out", out, "the plaintext file to create")->required();
    decrypt->add_flag("--allow-plaintext", allow_plaintext,
                      "copy the file as it is when the dictionary has no entry for it (a plaintext file)");

    auto* encrypt = app.add_subcommand("encrypt-file", "create OUT, register it in the dictionary and write FILE into it encrypted");
    add_key_options(encrypt, o, key_flags::write_with_init);
    encrypt->add_option("--file", file, "the plaintext file")->required();
    encrypt->add_option("--out", out, "the encrypted file to create")->required();

    auto* rotate_master = app.add_subcommand("rotate-master-key", "re-seal key.dict under the new master key");
    add_key_options(rotate_master, o, key_flags::write);

    auto* rotate_data = app.add_subcommand("rotate-data-key", "make a new current data key now");
    add_key_options(rotate_data, o, key_flags::write_with_init);

    auto* collect = app.add_subcommand("collect-keys", "remove data keys that no file uses any more");
    add_key_options(collect, o, key_flags::write);
    collect->add_flag("--dry-run", dry_run, "only list them (opens read-only)");
    collect->add_flag("--json", json, "JSON output");

    auto* cleanup = app.add_subcommand("cleanup", "drop dictionary entries whose file no longer exists");
    add_key_options(cleanup, o, key_flags::write);
    cleanup->add_flag("--dry-run", dry_run, "only list them (opens read-only)");
    cleanup->add_flag("--force", force, "remove them even when that is every entry");
    cleanup->add_flag("--json", json, "JSON output");

    auto* stats = app.add_subcommand("stats", "counts and sizes of the encryption metadata");
    add_key_options(stats, o, key_flags::read);
    auto* prom = stats->add_flag("--prometheus", prometheus, "print the metrics in Prometheus text format");
    stats->add_flag("--json", json, "JSON output")->excludes(prom);

    auto* crypt = app.add_subcommand("crypt", "apply a raw CTR keystream (the library's) from byte OFFSET of IN to OUT");
    crypt->add_option("--method", method, "aes128-ctr, aes192-ctr, aes256-ctr, sm4-ctr or plaintext")->required();
    crypt->add_option("--key-file", key_file, "the data key as hex digits in a file, or - for standard input")->required();
    crypt->add_option("--iv-hex", iv_hex, "the 16-byte IV in hex")->required();
    crypt->add_option("--offset", offset_text, "file offset of IN's first byte (default 0)");
    crypt->add_option("IN", in, "input file")->required();
    crypt->add_option("OUT", out, "output file to create")->required();

    // CLI11 would report an unknown subcommand as "a subcommand is required": name it instead.
    const auto known = [&](const char* name) {
        try {
            return app.get_subcommand(name) != nullptr;
        } catch (const CLI::OptionNotFound&) {
            return false;
        }
    };
    if (argc > 1 && argv[1][0] != '-' && !known(argv[1])) {
        std::cerr << "atrest-ctl: error: unknown subcommand '" << atrest_ctl::escaped(argv[1])
                  << "'; run 'atrest-ctl --help' for the list\n";
        return static_cast<int>(CLI::ExitCodes::ExtrasError);
    }
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return app.exit(e);
    }
    try {
        if (*keygen) atrest_ctl::keygen(out);
        if (*dump_files) atrest_ctl::dump_files(o, path, json);
        if (*dump_keys) atrest_ctl::dump_keys(o, ids, json, consent);
        if (*decrypt) atrest_ctl::decrypt_file(o, file, out, allow_plaintext);
        if (*encrypt) atrest_ctl::encrypt_file(o, file, out);
        if (*rotate_master) atrest_ctl::rotate_master_key(o);
        if (*rotate_data) atrest_ctl::rotate_data_key(o);
        if (*collect) atrest_ctl::collect_keys(o, dry_run, json);
        if (*cleanup) atrest_ctl::cleanup(o, dry_run, force, json);
        if (*stats) atrest_ctl::stats(o, prometheus, json);
        if (*crypt) atrest_ctl::crypt(method, key_file, iv_hex, parse_offset(offset_text), in, out);
    } catch (const std::exception& e) {
        std::cerr << "atrest-ctl: error: " << atrest_ctl::escaped(e.what()) << "\n";
        return 1;
    }
    return 0;
}
