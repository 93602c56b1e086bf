#pragma once
// One function per atrest-ctl subcommand; each prints its result to stdout and throws
// atrest::error (or std::exception) on failure.
#include "support.hpp"

#include <optional>

namespace atrest_ctl {

/// --format, --key-file and --segment-size of the stream commands.
struct stream_options {
    std::string format;
    std::string key_file;
    std::uint32_t segment_size = 65536;
    bool segment_size_given = false;
};

/// --offset and --length of a read.
struct byte_range {
    std::uint64_t offset = 0;
    std::optional<std::uint64_t> length;
};

/// --bucket, --object and --metadata of the object commands.
struct object_args {
    std::string bucket;
    std::string object;
    std::string metadata;
};

/// The external key: --key-file (SSE-C), or --master-key-file / --config (SSE-S3; --sse-kms: SSE-KMS).
struct object_key_options {
    std::string key_file;
    std::string master_key_file;
    std::string config;
    bool sse_kms = false;
};

void keygen(const std::string& out);
void dump_keys(const key_options& o, bool ids_only, bool json, bool consent);
void rotate_master_key(const key_options& o);
void rotate_data_key(const key_options& o);
void collect_keys(const key_options& o, bool dry_run, bool json);
void stats(const key_options& o, bool prometheus, bool json);

void dump_files(const key_options& o, const std::string& path, bool json);
void encrypt_file(const key_options& o, const std::string& in, const std::string& out);
void decrypt_file(const key_options& o, const std::string& file, const std::string& out, bool allow_plaintext);
void cleanup(const key_options& o, bool dry_run, bool force, bool json);
void crypt(const std::string& method, const std::string& key_file, const std::string& iv_hex, std::uint64_t offset,
           const std::string& in, const std::string& out);


void seal_stream(const stream_options& o, const std::string& in, const std::string& out);
void open_stream(const stream_options& o, const std::string& in, const std::string& out, const byte_range& range);
void verify_stream(const stream_options& o, const std::string& in);
void put_object(const object_args& a, const object_key_options& k, const std::string& in, const std::string& out);
void get_object(const object_args& a, const object_key_options& k, const std::string& in, const std::string& out,
                const byte_range& range);
void verify_object(const object_args& a, const object_key_options& k, const std::string& in);
void rotate_object(const object_args& a, const object_key_options& from, const object_key_options& to);

}  // namespace atrest_ctl
