// Writes the binary seeds of the fuzz corpus from real key-manager runs: key.dict and file.dict
// after a workload of every operation (new, link, rename, delete of a file and of a directory,
// rotation, key collection) under the plaintext and a fixed in-memory master key, in log and in
// snapshot-only mode, the unsealed key.dict contents, a torn tail, and a generated master-key
// file. Each seed starts with its fuzz target's mode byte. Run by `./scripts/dev fuzz-corpus`
// into tests/fuzz/corpus (files named ok-*-generated*, which must parse: CTest checks them).
#include <atrest/atrest.hpp>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace {

namespace fs = std::filesystem;

std::vector<std::byte> read(const fs::path& p) {
    return atrest::detail::posix::read_file_if_exists(p).value();
}

void write(const fs::path& dir, const std::string& name, std::span<const std::byte> bytes) {
    fs::create_directories(dir);
    std::ofstream out(dir / name, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    if (!out) throw std::runtime_error("cannot write " + (dir / name).string());
}

/// A seed for a target whose first input byte is a mode.
void write(const fs::path& dir, const std::string& name, std::uint8_t mode, std::span<const std::byte> bytes) {
    std::vector<std::byte> seed{std::byte{mode}};
    seed.insert(seed.end(), bytes.begin(), bytes.end());
    write(dir, name, seed);
}

/// A workload of every file-dictionary operation and two rotations.
template <class Manager>
void workload(Manager& km) {
    km.new_file("000001.sst");
    km.new_file("000002.log");
    km.new_file("db/MANIFEST-000001");
    km.new_file("db/OPTIONS-000003");
    km.rotate_data_key();
    km.new_file("000004.sst");
    km.link_file("000001.sst", "backup/000001.sst", [] {});  // the dictionary only: no files here
    km.rename_file("000002.log", "000005.log", [] {});
    km.delete_file("000001.sst");
    km.delete_file("db");  // a directory: every entry under it
    km.rotate_data_key();
    km.new_file("/abs/path with spaces/\xc3\xa9t\xc3\xa9.sst");
}

}  // namespace

int main(int argc, char** argv) try {
    if (argc != 2) {
        std::fprintf(stderr, "usage: %s OUTPUT_DIR (the corpus root: one directory per fuzz target)\n", argv[0]);
        return 2;
    }
    const fs::path out = argv[1];
    std::string pattern = (fs::temp_directory_path() / "atrest-corpus-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    const fs::path work = pattern;
    namespace kd = atrest::detail::key_dict;

    // Master-key file, as `atrest-ctl keygen` writes it.
    atrest::generate_master_key_file(work / "master.key");
    write(out / "master_key_fuzz", "ok-generated.key", read(work / "master.key"));

    {  // Plaintext master key (key.dict readable to the end), log mode, aes128-ctr.
        atrest::key_manager_options o;
        o.data_encryption_method = atrest::method::aes128_ctr;
        o.allow_insecure_master_key = true;
        atrest::key_manager<atrest::plaintext_master_key> km(work / "plain", {}, o);
        workload(km);
        km.rotate_data_key();
        km.rotate_data_key();
        if (km.collect_unused_keys() == 0) throw std::runtime_error("no key to collect: no retired ids in the seed");
        const auto key_dict = read(work / "plain" / "key.dict");
        write(out / "key_dict_fuzz", "ok-plaintext-generated.key.dict", 0x00, key_dict);
        write(out / "key_dict_fuzz", "ok-plaintext-fixup-generated.key.dict", 0x02, key_dict);
        const auto sealed = kd::decode_file(key_dict, "key.dict");
        write(out / "key_dict_fuzz", "ok-contents-generated.bin", 0x01, sealed.subspan(1));  // behind the backend byte
        const auto file_dict = read(work / "plain" / "file.dict");
        write(out / "file_dict_fuzz", "ok-log-generated.file.dict", 0x01, file_dict);
        write(out / "file_dict_fuzz", "ok-log-structure-generated.file.dict", 0x02, file_dict);
        // A torn final append: the last record cut in half.
        write(out / "file_dict_fuzz", "ok-torn-generated.file.dict", 0x01, std::span(file_dict).first(file_dict.size() - 20));
    }
    {  // A fixed in-memory master key, snapshot-only file dictionary (version 1), sm4-ctr.
        atrest::key_manager_options o;
        o.data_encryption_method = atrest::method::sm4_ctr;
        o.enable_file_dictionary_log = false;
        atrest::memory_master_key<> master(atrest::secret_bytes(std::vector<std::byte>(32, std::byte{0x11})));
        atrest::key_manager<atrest::memory_master_key<>> km(work / "memory", std::move(master), o);
        workload(km);
        write(out / "key_dict_fuzz", "ok-memory-key-generated.key.dict", 0x04, read(work / "memory" / "key.dict"));
        write(out / "file_dict_fuzz", "ok-snapshot-generated.file.dict", 0x01, read(work / "memory" / "file.dict"));
    }
    fs::remove_all(work);
    std::printf("seeds written under %s\n", out.c_str());
    return 0;
} catch (const std::exception& e) {
    std::fprintf(stderr, "atrest_fuzz_make_corpus: %s\n", e.what());
    return 1;
}
