// An engine's authenticated log: records appended to a sealed stream (Tink's AES-GCM-HKDF
// streaming format, 64 KiB segments), the log closed and reopened to append more, every record
// read back and checked, and then one flipped byte on disk — which the reader reports as an
// integrity error naming the file and offset instead of returning a changed record.
//
//   atrest_authenticated_log --dir DIR [--records N]
//
// DIR gets log.key (a random 32-byte key, 0600; kept when it exists) and wal.log.
#include <atrest/aead.hpp>
#include <atrest/detail/posix.hpp>

#include <cstdint>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace fs = std::filesystem;

namespace {

using log_writer = atrest::sealed_stream_writer<atrest::aes256_gcm, atrest::tink_streaming>;
using log_reader = atrest::sealed_stream_reader<atrest::aes256_gcm, atrest::tink_streaming>;
const atrest::tink_streaming::options log_options{65536, {}};

/// Record layout: 4-byte little-endian length, then the bytes.
void add_record(log_writer& w, std::string_view record) {
    std::byte header[4];
    const auto n = static_cast<std::uint32_t>(record.size());
    for (int i = 0; i < 4; ++i) header[i] = static_cast<std::byte>(n >> (8 * i));
    w.append(header);
    w.append(std::as_bytes(std::span(record.data(), record.size())));
}

std::vector<std::string> read_records(log_reader& r) {
    std::vector<std::byte> all(static_cast<std::size_t>(r.size()));
    if (r.read_at(0, all) != all.size()) throw std::runtime_error("short read");
    std::vector<std::string> out;
    for (std::size_t at = 0; at < all.size();) {
        if (all.size() - at < 4) throw std::runtime_error("a record header is cut");
        std::uint32_t n = 0;
        for (int i = 0; i < 4; ++i) n |= std::to_integer<std::uint32_t>(all[at + static_cast<std::size_t>(i)]) << (8 * i);
        at += 4;
        if (all.size() - at < n) throw std::runtime_error("a record is cut");
        out.emplace_back(reinterpret_cast<const char*>(all.data() + at), n);
        at += n;
    }
    return out;
}

atrest::secret_bytes load_or_create_key(const fs::path& path) {
    if (const auto bytes = atrest::detail::posix::read_file_if_exists(path)) return atrest::secret_bytes(*bytes);
    auto key = atrest::secret_bytes::random(32);
    auto fd = atrest::detail::posix::open_file(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
    atrest::detail::posix::write_all(fd.get(), key.bytes(), path);
    atrest::detail::posix::fsync_fd(fd.get(), path);
    return key;
}

int run(const fs::path& dir, std::size_t records) {
    fs::create_directories(dir);
    const auto key = load_or_create_key(dir / "log.key");
    const fs::path log = dir / "wal.log";
    std::vector<std::string> expected;
    for (std::size_t i = 0; i < records; ++i) expected.push_back("put key" + std::to_string(i) + " value" + std::to_string(i * 7));

    // First run of the engine: half the records, then a clean close (finish seals the final segment).
    {
        auto w = log_writer::create(atrest::posix_file(log, atrest::open_flags::create), key.bytes(), log_options);
        for (std::size_t i = 0; i < records / 2; ++i) add_record(w, expected[i]);
        w.finish();
        w.sync();
    }
    // Restart: continue the same log.
    {
        auto w = log_writer::append_to(atrest::posix_file(log, atrest::open_flags::read_write), key.bytes(), log_options);
        for (std::size_t i = records / 2; i < records; ++i) add_record(w, expected[i]);
        w.finish();
        w.sync();
    }
    // Replay after another restart: every record, authenticated.
    log_reader r(atrest::posix_file(log), key.bytes(), log_options);
    r.verify();
    const auto replayed = read_records(r);
    if (replayed != expected) {
        std::fprintf(stderr, "replay gave %zu records, %zu expected\n", replayed.size(), expected.size());
        return 1;
    }
    std::printf("appended %zu records in two sessions; replayed %zu (%llu bytes in %llu segments)\n", records,
                replayed.size(), static_cast<unsigned long long>(r.size()), static_cast<unsigned long long>(r.segments()));

    // A flipped byte on disk (in a copy): the replay refuses it.
    const fs::path flipped = dir / "wal.flipped";
    fs::copy_file(log, flipped, fs::copy_options::overwrite_existing);
    {
        atrest::posix_file f(flipped, atrest::open_flags::read_write);
        const std::uint64_t at = f.size() / 2;
        std::byte b{};
        if (f.read_at(at, std::span(&b, 1)) != 1) throw std::runtime_error("cannot read the copy");
        b ^= std::byte{0x01};
        (void)f.write_at(at, std::span(&b, 1));
    }
    try {
        log_reader bad(atrest::posix_file(flipped), key.bytes(), log_options);
        bad.verify();
        std::fprintf(stderr, "a flipped byte was not detected\n");
        return 1;
    } catch (const atrest::error& e) {
        if (e.kind() != atrest::errc::integrity) throw;
        std::printf("flipped byte detected: %s\n", e.what());
    }
    fs::remove(flipped);
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    try {
        fs::path dir;
        std::size_t records = 10000;
        for (int i = 1; i + 1 < argc; i += 2) {
            const std::string_view arg = argv[i];
            if (arg == "--dir") dir = argv[i + 1];
            else if (arg == "--records") records = std::stoul(argv[i + 1]);
            else throw std::invalid_argument("unknown option " + std::string(arg));
        }
        if (dir.empty() || argc % 2 == 0) throw std::invalid_argument("--dir is required");
        return run(dir, records);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "atrest_authenticated_log: %s\nusage: atrest_authenticated_log --dir DIR [--records N]\n", e.what());
        return 1;
    }
}
