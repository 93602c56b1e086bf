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

/// A whole, non-negative decimal number for --offset and the like (CLI11 would wrap "-1" into
/// 2^64 - 1).
std::uint64_t parse_offset(const std::string& text, const std::string& option = "--offset") {
    const auto bad = [&] {
        return atrest::error(atrest::errc::invalid_argument,
                             option + " " + atrest_ctl::escaped(text) + ": accepted: a whole number of bytes from 0 to " +
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

void add_stream_options(CLI::App* cmd, atrest_ctl::stream_options& o, std::string& segment_size) {
    cmd->add_option("--format", o.format, "tink (Tink's AES-GCM-HKDF streaming) or dare (MinIO's DARE 2.0); AES-256-GCM")
        ->required();
    cmd->add_option("--key-file", o.key_file, "the stream key as hex digits in a file (32 bytes), or - for standard input")
        ->required();
    cmd->add_option("--segment-size", segment_size, "tink only: ciphertext segment size in bytes (default 65536)");
}

void add_object_options(CLI::App* cmd, atrest_ctl::object_args& a, atrest_ctl::object_key_options& k) {
    cmd->add_option("--bucket", a.bucket, "the object's bucket")->required();
    cmd->add_option("--object", a.object, "the object's name in the bucket")->required();
    cmd->add_option("--metadata", a.metadata, "the object's metadata file (sealed key, IV, algorithm)")->required();
    cmd->add_option("--key-file", k.key_file, "SSE-C: the 32-byte client key as hex digits in a file, or -");
    cmd->add_option("--master-key-file", k.master_key_file, "SSE-S3: a master key file that seals each object's data key");
    cmd->add_option("--config", k.config, "SSE-S3: the master key (file or KMS) of a TiKV-style TOML configuration");
    cmd->add_flag("--sse-kms", k.sse_kms, "with --master-key-file or --config: seal in the SSE-KMS domain");
}

void add_range_options(CLI::App* cmd, std::string& offset, std::string& length) {
    cmd->add_option("--offset", offset, "first plaintext byte to write out (default 0)");
    cmd->add_option("--length", length, "at most this many bytes (default: to the end)");
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

    atrest_ctl::stream_options so;
    atrest_ctl::object_args oa;
    atrest_ctl::object_key_options ok, new_ok;
    std::string segment_size, length_text;

    auto* seal_stream = app.add_subcommand("seal-stream", "seal IN into a new authenticated stream OUT");
    add_stream_options(seal_stream, so, segment_size);
    seal_stream->add_option("IN", in, "plaintext file")->required();
    seal_stream->add_option("OUT", out, "sealed stream to create")->required();

    auto* open_stream = app.add_subcommand("open-stream", "authenticate and decrypt a sealed stream (or a byte range of it)");
    add_stream_options(open_stream, so, segment_size);
    add_range_options(open_stream, offset_text, length_text);
    open_stream->add_option("IN", in, "sealed stream")->required();
    open_stream->add_option("OUT", out, "plaintext file to create")->required();

    auto* verify_stream = app.add_subcommand("verify-stream", "authenticate every segment of a sealed stream");
    add_stream_options(verify_stream, so, segment_size);
    verify_stream->add_option("IN", in, "sealed stream")->required();

    auto* put_object = app.add_subcommand("put-object", "seal IN as object BUCKET/OBJECT: data OUT, metadata --metadata");
    add_object_options(put_object, oa, ok);
    put_object->add_option("IN", in, "plaintext file")->required();
    put_object->add_option("OUT", out, "sealed object to create")->required();

    auto* get_object = app.add_subcommand("get-object", "open object BUCKET/OBJECT (or a byte range of it) into OUT");
    add_object_options(get_object, oa, ok);
    add_range_options(get_object, offset_text, length_text);
    get_object->add_option("IN", in, "sealed object")->required();
    get_object->add_option("OUT", out, "plaintext file to create")->required();

    auto* verify_object = app.add_subcommand("verify-object", "open object BUCKET/OBJECT's key and authenticate all its data");
    add_object_options(verify_object, oa, ok);
    verify_object->add_option("IN", in, "sealed object")->required();

    auto* rotate_object = app.add_subcommand(
        "rotate-object", "re-seal object BUCKET/OBJECT's key under a new external key; the data is not touched");
    add_object_options(rotate_object, oa, ok);
    rotate_object->add_option("--new-key-file", new_ok.key_file, "SSE-C: the new client key");
    rotate_object->add_option("--new-master-key-file", new_ok.master_key_file, "SSE-S3: the new master key file");
    rotate_object->add_option("--new-config", new_ok.config, "SSE-S3: the new master key's TOML configuration");
    rotate_object->add_flag("--new-sse-kms", new_ok.sse_kms, "seal in the SSE-KMS domain");

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
        if (!segment_size.empty()) {
            const auto n = parse_offset(segment_size, "--segment-size");
            if (n > UINT32_MAX) throw atrest::error(atrest::errc::invalid_argument, "--segment-size " + segment_size + " is too large");
            so.segment_size = static_cast<std::uint32_t>(n);
            so.segment_size_given = true;
        }
        atrest_ctl::byte_range range{parse_offset(offset_text), std::nullopt};
        if (!length_text.empty()) range.length = parse_offset(length_text, "--length");
        if (*seal_stream) atrest_ctl::seal_stream(so, in, out);
        if (*open_stream) atrest_ctl::open_stream(so, in, out, range);
        if (*verify_stream) atrest_ctl::verify_stream(so, in);
        if (*put_object) atrest_ctl::put_object(oa, ok, in, out);
        if (*get_object) atrest_ctl::get_object(oa, ok, in, out, range);
        if (*verify_object) atrest_ctl::verify_object(oa, ok, in);
        if (*rotate_object) atrest_ctl::rotate_object(oa, ok, new_ok);
    } catch (const std::exception& e) {
        std::cerr << "atrest-ctl: error: " << atrest_ctl::escaped(e.what()) << "\n";
        return 1;
    }
    return 0;
}
