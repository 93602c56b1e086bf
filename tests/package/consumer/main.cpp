// The program every way of consuming atrest builds and runs (find_package, add_subdirectory, Conan's
// test_package): it seals a file as an engine would — a master key file, a key manager that hands
// out a data key and a fresh IV, the bytes encrypted on disk — then opens the data directory again
// with a new key manager and reads the file back at an unaligned offset. Exit 0 when all matched.
//
//   consumer [DIR]    DIR (created, must not hold a previous run) or a fresh directory under /tmp
//
// Built with atrest::config (ATREST_CONSUMER_WITH_CONFIG), it reads its configuration as TOML.
#include <atrest/atrest.hpp>
#ifdef ATREST_CONSUMER_WITH_CONFIG
#include <atrest/config/toml_config.hpp>
#endif

#include <cstdio>
#include <cstring>
#include <exception>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include <stdlib.h>  // mkdtemp

namespace fs = std::filesystem;

namespace {

void check(bool ok, const std::string& what) {
    if (!ok) throw std::runtime_error(what);
}

fs::path work_directory(int argc, char** argv) {
    if (argc > 1) {
        fs::create_directories(argv[1]);
        return argv[1];
    }
    std::string dir = (fs::temp_directory_path() / "atrest-consumer.XXXXXX").string();
    check(::mkdtemp(dir.data()) != nullptr, "cannot create a directory under " + fs::temp_directory_path().string());
    return dir;
}

atrest::encryption_config load_config(const fs::path& master_key) {
#ifdef ATREST_CONSUMER_WITH_CONFIG
    return atrest::parse_toml_config("[security.encryption]\n"
                                     "data-encryption-method = \"aes256-ctr\"\n"
                                     "[security.encryption.master-key]\n"
                                     "type = \"file\"\n"
                                     "path = \"" + master_key.string() + "\"\n",
                                     "consumer.toml");
#else
    return atrest::from_flat_map({{"security.encryption.data-encryption-method", "aes256-ctr"},
                                  {"security.encryption.master-key.type", "file"},
                                  {"security.encryption.master-key.path", master_key.string()}});
#endif
}

std::string read_all(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

}  // namespace

int main(int argc, char** argv) try {
    const fs::path dir = work_directory(argc, argv);
    const fs::path data = dir / "data";
    const fs::path sealed = data / "000001.log";
    fs::create_directories(data);
    const fs::path master_key = dir / "master.key";
    std::ofstream(master_key) << "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n";
    fs::permissions(master_key, fs::perms::owner_read | fs::perms::owner_write);
    const atrest::encryption_config config = load_config(master_key);

    std::string text;
    for (int i = 0; text.size() < 10000; ++i) text += "record " + std::to_string(i) + " of the consumer's log\n";

    {  // Seal: the file is created exclusively, then registered (data key id, fresh IV), then written.
        auto keys = atrest::open_key_manager(config, data);
        auto file = keys->create(sealed);
        file.append(text);
        file.sync();
    }
    const std::string on_disk = read_all(sealed);
    check(on_disk.size() == text.size(), "the sealed file has " + std::to_string(on_disk.size()) + " bytes, not " +
                                             std::to_string(text.size()));
    check(on_disk.find("record") == std::string::npos, "the sealed file holds its records in the clear");

    // Read back at an offset that is no multiple of the 16-byte block, through a new key manager.
    auto keys = atrest::open_key_manager(config, data);
    const auto file = keys->open(sealed);
    check(file.method() == atrest::method::aes256_ctr, "the dictionary does not record aes256-ctr for the file");
    constexpr std::size_t offset = 4099;
    std::string back(1000, '\0');
    const std::size_t n = file.read(offset, back);
    check(n == back.size() && back == text.substr(offset, n),
          "the bytes read back at offset " + std::to_string(offset) + " differ from those written");
    std::printf("consumer: sealed %zu bytes in %s with %s, read %zu back at offset %zu: ok (config from %s)\n",
                text.size(), sealed.c_str(), std::string(atrest::to_string(file.method())).c_str(), n, offset,
#ifdef ATREST_CONSUMER_WITH_CONFIG
                "TOML, atrest::config"
#else
                "a flat map"
#endif
    );
    return 0;
} catch (const std::exception& e) {
    std::fprintf(stderr, "consumer: %s\n", e.what());
    return 1;
}
