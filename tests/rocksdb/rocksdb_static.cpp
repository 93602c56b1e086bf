// Which types model the adapter's concepts (building this file is the test).
#include <atrest/master_key.hpp>
#include <atrest/rocksdb/encrypted_file_system.hpp>

#include <string>

namespace {

struct missing_rename {  // everything but rename_file: not a key manager for the adapter
    atrest::file_info new_file(const std::filesystem::path&);
    atrest::file_info get_file(const std::filesystem::path&) const;
    std::string name_of(const std::filesystem::path&) const;
    void delete_file(const std::filesystem::path&);
    void link_file(const std::filesystem::path&, const std::filesystem::path&, void (*)());
    const atrest::key_manager_options& options() const;
    const std::filesystem::path& data_dir() const;
};

struct missing_names {  // no name_of: it would have to compute names itself
    atrest::file_info new_file(const std::filesystem::path&);
    atrest::file_info get_file(const std::filesystem::path&) const;
    void delete_file(const std::filesystem::path&);
    void link_file(const std::filesystem::path&, const std::filesystem::path&, void (*)());
    void rename_file(const std::filesystem::path&, const std::filesystem::path&, void (*)());
    const atrest::key_manager_options& options() const;
    const std::filesystem::path& data_dir() const;
};

}  // namespace

static_assert(atrest::file_key_manager<atrest::key_manager<atrest::memory_master_key<>>>);
static_assert(atrest::file_key_manager<atrest::key_manager<atrest::any_master_key>>);
static_assert(!atrest::file_key_manager<missing_rename>);
static_assert(!atrest::file_key_manager<missing_names>);
static_assert(!atrest::file_key_manager<int>);
static_assert(!atrest::file_key_manager<const atrest::key_manager<atrest::memory_master_key<>>>);

// The file policies over RocksDB's files satisfy encrypted_file's policy concepts.
static_assert(atrest::writable_file<atrest::rocks::detail::writable_target>);
static_assert(atrest::writable_file<atrest::rocks::detail::random_rw_target>);
static_assert(!atrest::writable_file<rocksdb::FSWritableFile>);
