// Objects the library hands out, held by statics that are destroyed after main() returns — as
// RocksDB's tools hold their Env and many engines hold their key manager. Botan's locked-memory
// pool is itself a static, created later and so destroyed earlier; everything here must still
// be destroyed cleanly (issue: SIGSEGV in Botan::deallocate_memory at exit). CTest runs this
// program and requires exit status 0 (and, under ASan, no error or leak report).
#include <atrest/atrest.hpp>

#include <cstdio>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace {

using manager = atrest::key_manager<atrest::memory_master_key<>>;

// Constant-initialised, so destroyed after every dynamically initialised static (Botan's pool).
std::shared_ptr<manager> g_keys;
std::unique_ptr<atrest::data_file> g_file;
std::unique_ptr<atrest::ctr_stream<atrest::aes128_ctr>> g_botan_stream;

}  // namespace

int main(int argc, char** argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: %s EMPTY_DIR\n", argv[0]);
        return 2;
    }
    const std::filesystem::path dir = argv[1];
    std::filesystem::remove_all(dir);
    atrest::key_manager_options options;
    options.data_encryption_method = atrest::method::aes256_ctr;
    g_keys = std::make_shared<manager>(
        dir, atrest::memory_master_key<>(atrest::secret_bytes(std::vector<std::byte>(32, std::byte{3}))), options);
    g_file = std::make_unique<atrest::data_file>(g_keys->create(dir / "held.log"));
    g_file->append(std::string_view("kept open until after main"));
    g_file->sync();
    // A stream on Botan's own block cipher, whatever kernel the CPU would pick.
    g_botan_stream = std::make_unique<atrest::ctr_stream<atrest::aes128_ctr>>(
        std::vector<std::byte>(16, std::byte{1}), std::vector<std::byte>(16), atrest::ctr_kernel::botan_v128);
    std::vector<std::byte> block(64);
    g_botan_stream->apply(0, block);
    std::printf("static objects held; returning from main\n");
    return 0;
}
