// A minimal log-structured engine on atrest, for engines that are not RocksDB: records go into
// append-only segment files, a compaction merges segments into a new one (written under a
// temporary name, then renamed), old segments are removed, and everything is read back after a
// restart. The key manager does each file operation in a crash-safe order (docs/format.md,
// "Crash safety"): the engine only keeps the `atrest::data_file` objects it is handed.
//
//   atrest_log_engine --dir DIR [--method aes256-ctr] [--records N]
//
// DIR gets master.key (created if missing) and data/ (segments plus atrest's metadata).
#include <atrest/atrest.hpp>

#include <cstdint>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace fs = std::filesystem;

namespace {

using key_manager = atrest::key_manager<atrest::file_master_key<>>;

/// Writes records into a segment a block at a time: one write call per 16 KiB, not one per record.
/// The block is encrypted where it lies (`append_in_place`), since it is refilled afterwards.
/// Record layout: 4-byte little-endian length, then "key=value".
class segment_writer {
public:
    explicit segment_writer(atrest::data_file file) : m_file(std::move(file)) { m_block.reserve(block_size); }
    void add(std::string_view record) {
        const auto n = static_cast<std::uint32_t>(record.size());
        for (int i = 0; i < 4; ++i) m_block.push_back(static_cast<std::byte>(n >> (8 * i)));
        const auto* bytes = reinterpret_cast<const std::byte*>(record.data());
        m_block.insert(m_block.end(), bytes, bytes + record.size());
        if (m_block.size() >= block_size) flush();
    }
    /// Everything added so far is on disk (and durable) when this returns.
    void sync() {
        flush();
        m_file.sync();
    }
    [[nodiscard]] std::uint64_t size() const { return m_file.size() + m_block.size(); }

private:
    static constexpr std::size_t block_size = 16 * 1024;
    void flush() {
        if (m_block.empty()) return;
        m_file.append_in_place(m_block);
        m_block.clear();
    }
    atrest::data_file m_file;
    std::vector<std::byte> m_block;
};

std::vector<std::string> read_records(const atrest::data_file& seg) {
    std::string all(seg.size(), '\0');
    if (seg.read(0, all) != all.size()) throw std::runtime_error("segment shorter than its size");
    std::vector<std::string> out;
    for (std::size_t pos = 0; pos + 4 <= all.size();) {
        std::uint32_t n = 0;
        for (std::size_t i = 0; i < 4; ++i) n |= std::uint32_t{static_cast<unsigned char>(all[pos + i])} << (8 * i);
        pos += 4;
        if (pos + n > all.size()) throw std::runtime_error("torn record in a segment");
        out.push_back(all.substr(pos, n));
        pos += n;
    }
    return out;
}

fs::path segment_path(const fs::path& data, unsigned number) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%06u.seg", number);
    return data / buf;
}

/// Writes `records` into new segments of about 64 KiB each; returns their paths.
std::vector<fs::path> write_segments(key_manager& keys, const fs::path& data, unsigned first,
                                     const std::vector<std::string>& records) {
    std::vector<fs::path> paths;
    std::optional<segment_writer> seg;
    for (const auto& record : records) {
        if (!seg || seg->size() >= 64 * 1024) {
            if (seg) seg->sync();
            paths.push_back(segment_path(data, first + static_cast<unsigned>(paths.size())));
            seg.emplace(keys.create(paths.back()));  // the file exclusively, then its entry
        }
        seg->add(record);
    }
    if (seg) seg->sync();
    return paths;
}

/// Merges `inputs` into one segment: written under a temporary name, renamed into place (the
/// key manager makes the rename durable before it records it), then the inputs are removed.
fs::path compact(key_manager& keys, const fs::path& data, const std::vector<fs::path>& inputs, unsigned number) {
    std::map<std::string, std::string> latest;  // key -> whole record; later segments win
    for (const auto& path : inputs) {
        for (auto& record : read_records(keys.open(path))) latest[record.substr(0, record.find('='))] = std::move(record);
    }
    const fs::path tmp = data / "compact.tmp";
    segment_writer out(keys.create(tmp));
    for (const auto& [key, record] : latest) out.add(record);
    out.sync();
    const fs::path output = segment_path(data, number);
    keys.rename(tmp, output);
    for (const auto& path : inputs) keys.remove(path);  // the file, then its entry
    return output;
}

bool file_contains(const fs::path& path, std::string_view needle) {
    std::ifstream in(path, std::ios::binary);
    const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    return bytes.find(needle) != std::string::npos;
}

struct options {
    fs::path dir;
    std::string method = "aes256-ctr";
    std::size_t records = 20000;
};

options parse_args(int argc, char** argv) {
    options o;
    for (int i = 1; i < argc; ++i) {
        const std::string_view arg = argv[i];
        if (i + 1 >= argc) throw std::invalid_argument("missing value after " + std::string(arg));
        const char* value = argv[++i];
        if (arg == "--dir") o.dir = value;
        else if (arg == "--method") o.method = value;
        else if (arg == "--records") o.records = std::stoul(value);
        else throw std::invalid_argument("unknown option " + std::string(arg));
    }
    if (o.dir.empty()) throw std::invalid_argument("--dir is required");
    return o;
}

int run(const options& opt) {
    const fs::path data = opt.dir / "data";
    const fs::path key_file = opt.dir / "master.key";
    fs::create_directories(data);
    if (!fs::exists(key_file)) atrest::generate_master_key_file(key_file);  // 0600, never overwrites

    const std::string value_prefix = "log-engine-value-";
    std::vector<std::string> records;
    for (std::size_t i = 0; i < opt.records; ++i) {
        records.push_back("key" + std::to_string(i % (opt.records / 2 + 1)) + "=" + value_prefix + std::to_string(i));
    }
    // A segment from before encryption was turned on: a plain file the dictionary has never seen.
    const fs::path legacy = segment_path(data, 0);
    if (!fs::exists(legacy)) {  // a default file_info is plaintext: the same writer makes it
        segment_writer old(atrest::data_file(atrest::file_info{}, atrest::posix_file(legacy, atrest::open_flags::create_exclusive),
                                             atrest::access::append));
        old.add("legacy=written before encryption");
        old.sync();
    }

    atrest::key_manager_options km;
    km.data_encryption_method = atrest::parse_method(opt.method);  // config string -> method, once
    fs::path compacted;
    {
        key_manager keys(data, atrest::file_master_key<>(key_file), km);
        auto inputs = write_segments(keys, data, 1, records);
        std::printf("wrote %zu records into %zu segments (%s)\n", records.size(), inputs.size(), opt.method.c_str());
        if (km.data_encryption_method != atrest::method::plaintext) {
            keys.rotate_data_key();  // later files use a new data key; existing ones keep theirs
        }
        const auto more = write_segments(keys, data, 1 + static_cast<unsigned>(inputs.size()), {"late=after rotation"});
        inputs.insert(inputs.end(), more.begin(), more.end());
        compacted = compact(keys, data, inputs, 1000);
        const std::size_t dropped = keys.collect_unused_keys();  // keys no file uses any more
        std::printf("compacted %zu segments into %s; dropped %zu unused data key(s), %zu left, %zu file(s) in the "
                    "dictionary\n",
                    inputs.size(), compacted.filename().c_str(), dropped, keys.data_keys().size(), keys.file_count());
    }

    // Restart: a new key manager over the same directory, every segment read back.
    key_manager keys(data, atrest::file_master_key<>(key_file), km);
    std::map<std::string, std::string> seen;
    for (const auto& path : {legacy, compacted}) {
        const auto seg = keys.open(path);  // a path the dictionary does not know reads as plaintext
        for (auto& record : read_records(seg)) {
            seen[record.substr(0, record.find('='))] = record.substr(record.find('=') + 1);
        }
        std::printf("%s: %s\n", path.filename().c_str(), std::string(atrest::to_string(seg.method())).c_str());
    }
    std::map<std::string, std::string> expected{{"legacy", "written before encryption"}, {"late", "after rotation"}};
    for (const auto& record : records) expected[record.substr(0, record.find('='))] = record.substr(record.find('=') + 1);
    if (seen != expected) {
        std::fprintf(stderr, "verification failed: %zu keys read back, %zu expected\n", seen.size(), expected.size());
        return 1;
    }
    const bool encrypted = keys.get_file(compacted).encrypted();
    const bool leaked = file_contains(compacted, value_prefix);
    std::printf("verified %zu keys after restart; \"%s\" in the clear on disk: %s\n", seen.size(), value_prefix.c_str(),
                leaked ? "yes" : "no");
    return encrypted && leaked ? 1 : 0;
}

}  // namespace

int main(int argc, char** argv) {
    try {
        return run(parse_args(argc, argv));
    } catch (const std::exception& e) {
        std::fprintf(stderr, "atrest_log_engine: %s\nusage: atrest_log_engine --dir DIR [--method M] [--records N]\n",
                     e.what());
        return 1;
    }
}
