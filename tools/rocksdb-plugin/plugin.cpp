// libatrest_rocksdb_plugin.so: atrest's file system for RocksDB programs that were built without
// atrest, such as Debian's ldb and db_bench. Loading the library (LD_PRELOAD, or dlopen before
// the first URI is resolved) registers `atrest:<dir>` and `atrest-ro:<dir>` in RocksDB's default
// object library, which every ObjectRegistry consults, so `--fs_uri=atrest:/var/lib/db` works:
//
//   LD_PRELOAD=libatrest_rocksdb_plugin.so ATREST_MASTER_KEY_FILE=master.key
//       ldb --db=/var/lib/db --fs_uri=atrest-ro:/var/lib/db scan
//
// The plugin and the tool must use the same librocksdb (one ObjectLibrary::Default()).
#include <atrest/rocksdb/registry.hpp>

namespace {

// Runs when the library is loaded, after librocksdb's own initialisers (it is a dependency).
const int registered_factories = atrest::rocks::register_file_system(*::rocksdb::ObjectLibrary::Default());

}  // namespace
