#pragma once
// The names the README and docs use for the reader's own objects, declared so that every code
// fragment there compiles as written (tests/docs/extract_snippets.py wraps each one in a function
// inside namespace docs_context). Declarations only: the fragments are compiled, never run.
#include <atrest/atrest.hpp>
#include <atrest/config/toml_config.hpp>

#if __has_include(<atrest/rocksdb/encrypted_file_system.hpp>) && defined(ATREST_DOCS_WITH_ROCKSDB)
#include <atrest/rocksdb/encrypted_file_system.hpp>
#include <atrest/rocksdb/registry.hpp>
#include <rocksdb/convenience.h>
#include <rocksdb/db.h>
#include <rocksdb/utilities/object_registry.h>
#endif

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace docs_context {

using manager = atrest::key_manager<atrest::file_master_key<>>;

extern std::filesystem::path data_dir;         // an engine's data directory
extern std::filesystem::path path;             // one of its files
extern std::filesystem::path master_key_path;  // a master key file
extern std::string name;                       // a file name
extern std::string block;                      // bytes an engine writes
extern std::vector<std::byte> key, iv;         // a data key and a file's IV
extern std::filesystem::path data_path;         // an object's data file
extern std::vector<std::byte> client, new_client;  // SSE-C client keys
extern std::uint64_t file_offset;
extern atrest::key_manager_options options;
extern manager& km;                                             // a key manager (object)
extern std::unique_ptr<atrest::configured_key_manager<>> keys;  // the one open_key_manager returns

struct logger {
    void warn(std::string_view) {}
};
extern logger engine_log;

/// An engine's own file interface, and an adapter template over atrest's encrypted files.
struct engine_file {
    virtual ~engine_file() = default;
};
template <class File>
struct engine_file_impl final : engine_file {
    explicit engine_file_impl(File f) : file(std::move(f)) {}
    File file;
};

#if defined(ATREST_DOCS_WITH_ROCKSDB)
extern std::string db_dir;
extern rocksdb::DB* db;
#endif

}  // namespace docs_context
