// A minimal log-structured engine on atrest, for engines that are not RocksDB: records go into
// append-only segment files, a compaction merges segments into a new one (written under a
// temporary name, then renamed), old segments are deleted, and everything is read back after a
// restart. Each step shows the key-manager call an engine makes and the order that stays correct
// if the process dies between two steps.
//
//   atrest_log_engine --dir DIR [--method aes256-ctr] [--records N]
//
// DIR gets master.key (created if missing) and data/ (segments plus atrest's metadata).
#include <atrest/atrest.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <vector>

namespace fs = std::filesystem;

namespace {

using key_manager = atrest::key_manager<atrest::file_master_key<>>;

/// One open segment, whatever its method. The method is dispatched once, in `open_segment`;
/// after that a call costs one virtual call per record, and the `encrypted_file` inside is
/// compiled for its cipher (no branch on the method, no allocation per call).
class segment {
public:
    virtual ~segment() = default;
    virtual void append_in_place(std::span<std::byte> bytes) = 0;
    virtual std::size_t read_at(std::uint64_t offset, std::span<std::byte> out) const = 0;
    [[nodiscard]] virtual std::uint64_t size() const = 0;
    virtual void sync() = 0;
};

template <class EncryptedFile>
class segment_file final : public segment {
public:
    explicit segment_file(EncryptedFile file) : m_file(std::move(file)) {}
    void append_in_place(std::span<std::byte> bytes) override { m_file.append_in_place(bytes); }
    std::size_t read_at(std::uint64_t offset, std::span<std::byte> out) const override {
        return m_file.read_at(offset, out);
    }
    [[nodiscard]] std::uint64_t size() const override { return m_file.size(); }
    void sync() override { m_file.sync(); }

private:
    EncryptedFile m_file;
};

/// Opens `name` in `dir` as its dictionary entry says. A plaintext entry, or a name the
/// dictionary has never seen (a file from before encryption was on), opens as plaintext.
std::unique_ptr<segment> open_segment(const atrest::file_info& info, const fs::path& path, atrest::open_flags flags) {
    return atrest::open_encrypted(info, atrest::posix_file(path, flags), atrest::write_mode::append,
                                  [](auto& file) -> std::unique_ptr<segment> {
                                      return std::make_unique<segment_file<std::remove_cvref_t<decltype(file)>>>(
                                          std::move(file));
                                  });
}

/// Writes records into a segment a block at a time: one write call per 16 KiB, not one per record.
/// The block is encrypted where it lies (`append_in_place`), since it is refilled afterwards.
/// Record layout: 4-byte little-endian length, then "key=value".
class segment_writer {
public:
    explicit segment_writer(std::unique_ptr<segment> seg) : m_seg(std::move(seg)) { m_block.reserve(block_size); }
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
        m_seg->sync();
    }
    [[nodiscard]] std::uint64_t size() const { return m_seg->size() + m_block.size(); }

private:
    static constexpr std::size_t block_size = 16 * 1024;
    void flush() {
        if (m_block.empty()) return;
        m_seg->append_in_place(m_block);
        m_block.clear();
    }
    std::unique_ptr<segment> m_seg;
    std::vector<std::byte> m_block;
};

std::vector<std::string> read_records(const segment& seg) {
    std::vector<std::byte> all(seg.size());
    if (seg.read_at(0, all) != all.size()) throw std::runtime_error("segment shorter than its size");
    std::vector<std::string> out;
    for (std::size_t pos = 0; pos + 4 <= all.size();) {
        std::uint32_t n = 0;
        for (int i = 0; i < 4; ++i) n |= std::to_integer<std::uint32_t>(all[pos + static_cast<std::size_t>(i)]) << (8 * i);
        pos += 4;
        if (pos + n > all.size()) throw std::runtime_error("torn record in a segment");
        out.emplace_back(reinterpret_cast<const char*>(all.data() + pos), n);
        pos += n;
    }
    return out;
}

std::string segment_name(unsigned number) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%06u.seg", number);
    return buf;
}

/// Writes `records` into new segments of about 64 KiB each; returns their names.
std::vector<std::string> write_segments(key_manager& keys, const fs::path& data, unsigned first,
                                        const std::vector<std::string>& records) {
    std::vector<std::string> names;
    std::optional<segment_writer> seg;
    for (const auto& record : records) {
        if (!seg || seg->size() >= 64 * 1024) {
            if (seg) seg->sync();
            names.push_back(segment_name(first + static_cast<unsigned>(names.size())));
            // Create: the dictionary entry (fresh IV, current data key) is durable before the
            // file has a byte, so a crash can leave an entry without a file, never the reverse.
            const atrest::file_info info = keys.new_file(names.back());
            seg.emplace(open_segment(info, data / names.back(), atrest::open_flags::create_exclusive));
        }
        seg->add(record);
    }
    if (seg) seg->sync();
    return names;
}

/// Makes renames and deletes in `dir` durable (fsync of the directory itself).
void sync_directory(const fs::path& dir) {
    const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) throw std::system_error(errno, std::generic_category(), "open " + dir.string());
    const int rc = ::fsync(fd);
    const int saved = errno;
    ::close(fd);
    if (rc != 0) throw std::system_error(saved, std::generic_category(), "fsync " + dir.string());
}

/// Merges `inputs` into one segment: written as compact.tmp, renamed into place, inputs deleted.
std::string compact(key_manager& keys, const fs::path& data, const std::vector<std::string>& inputs, unsigned number) {
    std::map<std::string, std::string> latest;  // key -> whole record; later segments win
    for (const auto& name : inputs) {
        for (auto& record : read_records(*open_segment(keys.get_file(name), data / name, atrest::open_flags::read_only))) {
            latest[record.substr(0, record.find('='))] = std::move(record);
        }
    }
    const std::string tmp = "compact.tmp";
    {
        segment_writer out(open_segment(keys.new_file(tmp), data / tmp, atrest::open_flags::create_exclusive));
        for (const auto& [key, record] : latest) out.add(record);
        out.sync();
    }
    // Rename: the entry is linked to the new name, the file renamed, the old entry dropped. A crash
    // in between leaves an extra entry, never a file without one.
    const std::string output = segment_name(number);
    keys.rename_file(tmp, output, [&] { fs::rename(data / tmp, data / output); });
    sync_directory(data);  // the rename is durable before any input is deleted
    // Delete: the file first, then its entry. A crash in between leaves a stale entry (harmless;
    // `atrest-ctl cleanup` drops it), never a file whose key is gone.
    for (const auto& name : inputs) {
        fs::remove(data / name);
        keys.delete_file(name);
    }
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
    // A segment from before encryption was turned on: the dictionary has no entry for it.
    const std::string legacy = segment_name(0);
    if (!fs::exists(data / legacy)) {
        // A default file_info is plaintext: the same code path writes it.
        segment_writer old(open_segment(atrest::file_info{}, data / legacy, atrest::open_flags::create_exclusive));
        old.add("legacy=written before encryption");
        old.sync();
    }

    atrest::key_manager_options km;
    km.data_encryption_method = atrest::parse_method(opt.method);  // config string -> method, once
    std::string compacted;
    {
        key_manager keys(data, atrest::file_master_key<>(key_file), km);
        const auto written = write_segments(keys, data, 1, records);
        std::printf("wrote %zu records into %zu segments (%s)\n", records.size(), written.size(), opt.method.c_str());
        if (km.data_encryption_method != atrest::method::plaintext) {
            keys.rotate_data_key();  // later files use a new data key; existing ones keep theirs
        }
        const auto more = write_segments(keys, data, 1 + static_cast<unsigned>(written.size()), {"late=after rotation"});
        std::vector<std::string> inputs = written;
        inputs.insert(inputs.end(), more.begin(), more.end());
        compacted = compact(keys, data, inputs, 1000);
        const std::size_t dropped = keys.collect_unused_keys();  // keys no file uses any more
        std::printf("compacted %zu segments into %s; dropped %zu unused data key(s), %zu left, %zu file(s) in the "
                    "dictionary\n",
                    inputs.size(), compacted.c_str(), dropped, keys.data_keys().size(), keys.file_count());
    }

    // Restart: a new key manager over the same directory, every segment read back.
    key_manager keys(data, atrest::file_master_key<>(key_file), km);
    std::map<std::string, std::string> seen;
    for (const auto& name : {legacy, compacted}) {
        const auto info = keys.get_file(name);
        for (auto& record : read_records(*open_segment(info, data / name, atrest::open_flags::read_only))) {
            seen[record.substr(0, record.find('='))] = record.substr(record.find('=') + 1);
        }
        std::printf("%s: %s\n", name.c_str(), std::string(atrest::to_string(info.method)).c_str());
    }
    std::map<std::string, std::string> expected{{"legacy", "written before encryption"}, {"late", "after rotation"}};
    for (const auto& record : records) expected[record.substr(0, record.find('='))] = record.substr(record.find('=') + 1);
    if (seen != expected) {
        std::fprintf(stderr, "verification failed: %zu keys read back, %zu expected\n", seen.size(), expected.size());
        return 1;
    }
    const bool encrypted = keys.get_file(compacted).encrypted();
    const bool leaked = file_contains(data / compacted, value_prefix);
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
