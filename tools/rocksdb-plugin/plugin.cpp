// libatrest_rocksdb_plugin.so: atrest's file system for RocksDB programs that were built without
// atrest, such as Debian's ldb and db_bench. Loading the library (LD_PRELOAD, or dlopen before
// the first URI is resolved) registers `atrest:<dir>` and `atrest-ro:<dir>` in RocksDB's default
// object library, which every ObjectRegistry consults, so `--fs_uri=atrest:/var/lib/db` works:
//
//   LD_PRELOAD=libatrest_rocksdb_plugin.so ATREST_MASTER_KEY_FILE=master.key
//       ldb --db=/var/lib/db --fs_uri=atrest-ro:/var/lib/db scan
//
// The plugin and the tool must use the same librocksdb (one ObjectLibrary::Default()).
#include <atrest/detail/botan_compat.hpp>
#include <atrest/rocksdb/registry.hpp>

#include <array>
#include <cstdint>

namespace {

// Botan's locked-memory pool is a function-local static, created with the first key. Created
// while a tool runs, it would be destroyed at exit before the tool's own statics that were
// constructed earlier (db_bench keeps its Env, and with it our key manager, in one), and the key
// manager's Botan objects would then scrub unmapped pages (SIGSEGV in Botan::deallocate_memory).
// Keying one object here, at load time and so before the host program's statics exist, makes
// the pool outlive them. (atrest's exit-safe Botan ownership covers this too where it is present.)
const bool botan_pool_first = [] {
    auto mac = atrest::detail::botan_compat::make_mac("HMAC(SHA-256)");
    const std::array<std::uint8_t, 32> key{};
    mac->set_key(key.data(), key.size());
    return true;
}();

// Runs when the library is loaded, after librocksdb's own initialisers (it is a dependency).
const int registered_factories = atrest::rocks::register_file_system(*::rocksdb::ObjectLibrary::Default());

}  // namespace
