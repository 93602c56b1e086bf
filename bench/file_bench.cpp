// encrypted_file against the same work done by hand, in the same process and run:
//   append/encrypted_file/<n>   encrypted_file<aes128_ctr>::append of n bytes (scratch buffer)
//   append/in_place/<n>         encrypted_file<aes128_ctr>::append_in_place of n bytes
//   append/by_hand/<n>          ctr_stream::apply into a buffer + pwrite, what an engine would write
//   append/raw_io/<n>           pwrite alone: how much of the time is I/O
// for n = 4 KiB and 64 KiB, sequentially into a file that is cut back to 0 every 64 MiB, and
//   read4k/encrypted_file       encrypted_file::read_at of 4 KiB at random aligned offsets
//   read4k/by_hand              pread + ctr_stream::apply in place
//   read4k/raw_io               pread alone
// over a 64 MiB file in the page cache. The overhead target is encrypted_file >= 0.97x by_hand.
// The file lives in $ATREST_BENCH_DIR (default: the system temp directory).
#include <atrest/file.hpp>

#include <benchmark/benchmark.h>

#include <fcntl.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <random>
#include <span>
#include <string>
#include <vector>

namespace {

using stream_t = atrest::ctr_stream<atrest::aes128_ctr>;
using file_t = atrest::encrypted_file<atrest::aes128_ctr>;

constexpr std::uint64_t file_bytes = std::uint64_t{64} << 20;
constexpr std::size_t read_len = 4096;
constexpr std::size_t offset_count = 4096;  // power of two: index with a mask

std::vector<std::byte> bytes(std::size_t n, std::uint64_t seed) {
    std::mt19937_64 rng(seed);
    std::vector<std::byte> v(n);
    for (auto& b : v) b = static_cast<std::byte>(rng());
    return v;
}

const std::vector<std::byte>& key() {
    static const auto k = bytes(16, 1);
    return k;
}
const std::vector<std::byte>& iv() {
    static const auto v = bytes(16, 2);
    return v;
}

std::filesystem::path bench_path(const char* name) {
    const char* dir = std::getenv("ATREST_BENCH_DIR");
    return (dir != nullptr ? std::filesystem::path(dir) : std::filesystem::temp_directory_path()) /
           ("atrest-bench-" + std::to_string(::getpid()) + "-" + name);
}

/// Removes the benchmark's file when the benchmark ends.
struct scoped_path {
    std::filesystem::path path;
    ~scoped_path() {
        std::error_code ec;
        std::filesystem::remove(path, ec);
    }
};

/// Appends `n` bytes per iteration; every 64 MiB `restart` cuts the file back to 0 (untimed).
template <class Append, class Restart>
void drive_append(benchmark::State& state, std::size_t n, Append&& append, Restart&& restart) {
    const auto data = bytes(n, 3);
    std::uint64_t offset = 0;
    for (auto _ : state) {
        if (offset + n > file_bytes) {
            state.PauseTiming();
            restart();
            offset = 0;
            state.ResumeTiming();
        }
        append(offset, data);
        offset += n;
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * static_cast<std::int64_t>(n));
}

void append_encrypted(benchmark::State& state, bool in_place) {
    const auto n = static_cast<std::size_t>(state.range(0));
    const scoped_path p{bench_path("append")};
    auto open = [&] {
        return file_t(atrest::posix_file(p.path, atrest::open_flags::create), key(), iv(), atrest::write_mode::rewrite);
    };
    file_t f = open();
    std::vector<std::byte> buf(n);
    drive_append(
        state, n,
        [&](std::uint64_t, const std::vector<std::byte>& data) {
            if (in_place) {
                std::memcpy(buf.data(), data.data(), n);  // the caller's buffer is consumed
                f.append_in_place(buf);
            } else {
                f.append(data);
            }
        },
        [&] { f = open(); });
}

void append_by_hand(benchmark::State& state, bool encrypt) {
    const auto n = static_cast<std::size_t>(state.range(0));
    const scoped_path p{bench_path("append")};
    const auto fd = atrest::detail::posix::open_file(p.path, O_RDWR | O_CREAT | O_TRUNC);
    const stream_t stream(key(), iv());
    std::vector<std::byte> scratch(n);
    drive_append(
        state, n,
        [&](std::uint64_t offset, const std::vector<std::byte>& data) {
            std::span<const std::byte> out = data;
            if (encrypt) {
                stream.apply(offset, data, scratch);
                out = scratch;
            }
            atrest::detail::posix::pwrite_all(fd.get(), out, offset, p.path);
        },
        [&] { atrest::detail::posix::truncate_fd(fd.get(), 0, p.path); });
}

/// The 64 MiB file for the read benchmarks, written once (encrypted; by_hand reads decrypt it
/// the same way, raw_io reads ignore the contents).
const std::filesystem::path& read_file() {
    static const scoped_path p = [] {
        scoped_path sp{bench_path("read")};
        file_t f(atrest::posix_file(sp.path, atrest::open_flags::create), key(), iv(), atrest::write_mode::rewrite);
        const auto chunk = bytes(std::size_t{1} << 20, 4);
        for (std::uint64_t i = 0; i < file_bytes; i += chunk.size()) f.append(chunk);
        return sp;
    }();
    return p.path;
}

std::vector<std::uint64_t> read_offsets() {
    std::mt19937_64 rng(5);
    std::vector<std::uint64_t> v(offset_count);
    for (auto& o : v) o = (rng() % (file_bytes / read_len)) * read_len;
    return v;
}

template <class Read>
void drive_read(benchmark::State& state, Read&& read) {
    const auto offs = read_offsets();
    std::vector<std::byte> buf(read_len);
    std::size_t i = 0;
    for (auto _ : state) {
        if (read(offs[i++ & (offset_count - 1)], std::span<std::byte>(buf)) != read_len) {
            state.SkipWithError("short read");
            return;
        }
        benchmark::DoNotOptimize(buf.data());
        benchmark::ClobberMemory();
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * static_cast<std::int64_t>(read_len));
}

void read_encrypted(benchmark::State& state) {
    const file_t f(atrest::posix_file(read_file()), key(), iv());
    drive_read(state, [&](std::uint64_t off, std::span<std::byte> buf) { return f.read_at(off, buf); });
}

void read_by_hand(benchmark::State& state, bool decrypt) {
    const auto& path = read_file();
    const auto fd = atrest::detail::posix::open_file(path, O_RDONLY);
    const stream_t stream(key(), iv());
    drive_read(state, [&](std::uint64_t off, std::span<std::byte> buf) {
        const std::size_t n = atrest::detail::posix::pread_full(fd.get(), buf, off, path);
        if (decrypt) stream.apply(off, buf.first(n));
        return n;
    });
}

}  // namespace

BENCHMARK_CAPTURE(append_encrypted, encrypted_file, false)->Name("append/encrypted_file")->Arg(4096)->Arg(65536);
BENCHMARK_CAPTURE(append_encrypted, in_place, true)->Name("append/in_place")->Arg(4096)->Arg(65536);
BENCHMARK_CAPTURE(append_by_hand, by_hand, true)->Name("append/by_hand")->Arg(4096)->Arg(65536);
BENCHMARK_CAPTURE(append_by_hand, raw_io, false)->Name("append/raw_io")->Arg(4096)->Arg(65536);
BENCHMARK(read_encrypted)->Name("read4k/encrypted_file");
BENCHMARK_CAPTURE(read_by_hand, by_hand, true)->Name("read4k/by_hand");
BENCHMARK_CAPTURE(read_by_hand, raw_io, false)->Name("read4k/raw_io");

BENCHMARK_MAIN();
