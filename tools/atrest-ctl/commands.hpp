#pragma once
// One function per atrest-ctl subcommand; each prints its result to stdout and throws
// atrest::error (or std::exception) on failure.
#include "support.hpp"

namespace atrest_ctl {

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

}  // namespace atrest_ctl
