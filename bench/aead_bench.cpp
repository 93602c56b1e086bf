// Authenticated streams against one-shot AEADs over the same bytes, in one binary and one run:
//   seal/<format>/<cipher>/<segment>      sealed_stream_writer: create, append 4 MiB, finish
//   open/<format>/<cipher>/<segment>      sealed_stream_reader: open, read all 4 MiB
//   botan_seal/<cipher>, botan_open/<cipher>      Botan's AEAD_Mode, 4 MiB in one message, in place
//   openssl_seal/<cipher>, openssl_open/<cipher>  OpenSSL EVP, 4 MiB in one message, in place
//   rand4096/<format>/<cipher>/<segment>  4 KiB reads at random 4 KiB-aligned offsets of a
//                                         64 MiB stream (decrypting the segments they touch)
// The stream's file is memory: reads come from a byte vector (one copy, as pread from the page
// cache), writes go to a sink that keeps nothing, so the comparison is the engine (segmenting,
// one nonce and tag per segment, the copy through the segment buffer) against one message.
#include <atrest/aead.hpp>

#include <botan/aead.h>
#include <openssl/evp.h>

#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <vector>

namespace {

constexpr std::size_t stream_size = std::size_t{4} << 20;
constexpr std::size_t random_stream_size = std::size_t{64} << 20;

std::vector<std::byte> bytes(std::size_t n, std::uint64_t seed) {
    std::mt19937_64 rng(seed);
    std::vector<std::byte> v(n);
    for (auto& b : v) b = static_cast<std::byte>(rng());
    return v;
}

/// A writable file that keeps nothing: what the writer costs without the copy into a file.
class sink_file final {
public:
    std::size_t read_at(std::uint64_t, std::span<std::byte>) const noexcept { return 0; }
    std::size_t write_at(std::uint64_t offset, std::span<const std::byte> data) noexcept {
        m_size = std::max<std::uint64_t>(m_size, offset + data.size());
        benchmark::DoNotOptimize(data.data());
        return data.size();
    }
    void sync() noexcept {}
    void truncate(std::uint64_t size) noexcept { m_size = size; }
    [[nodiscard]] std::uint64_t size() const noexcept { return m_size; }
    [[nodiscard]] std::string_view name() const noexcept { return "sink"; }

private:
    std::uint64_t m_size = 0;
};

/// Reads of a sealed stream in memory, without copying the stream into each reader.
class view_file final {
public:
    explicit view_file(const atrest::memory_file& f) : m_file(&f) {}
    std::size_t read_at(std::uint64_t offset, std::span<std::byte> out) const { return m_file->read_at(offset, out); }
    [[nodiscard]] std::uint64_t size() const noexcept { return m_file->size(); }
    [[nodiscard]] std::string_view name() const noexcept { return m_file->name(); }

private:
    const atrest::memory_file* m_file;
};

template <class F>
typename F::options options_for(std::uint32_t segment) {
    if constexpr (std::is_same_v<F, atrest::tink_streaming>) {
        return {segment, {}};
    } else {
        return {};
    }
}

template <class A, class F>
void seal(benchmark::State& state, std::uint32_t segment) {
    const auto key = bytes(32, 1);
    const auto plain = bytes(stream_size, 2);
    const auto o = options_for<F>(segment);
    for (auto _ : state) {
        auto w = atrest::sealed_stream_writer<A, F, sink_file>::create(sink_file{}, std::span(key).first(A::key_size), o);
        w.append(plain);
        w.finish();
        benchmark::DoNotOptimize(w.file().size());
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * stream_size));
}

template <class A, class F>
atrest::memory_file sealed(std::uint32_t segment, std::size_t n) {
    const auto key = bytes(32, 1);
    const auto plain = bytes(n, 2);
    auto w = atrest::sealed_stream_writer<A, F, atrest::memory_file>::create(atrest::memory_file("bench"),
                                                                            std::span(key).first(A::key_size),
                                                                            options_for<F>(segment));
    w.append(plain);
    w.finish();
    return w.file();
}

template <class A, class F>
void open(benchmark::State& state, std::uint32_t segment) {
    const auto key = bytes(32, 1);
    const auto file = sealed<A, F>(segment, stream_size);
    std::vector<std::byte> out(stream_size);
    for (auto _ : state) {
        atrest::sealed_stream_reader<A, F, view_file> r{view_file(file), std::span(key).first(A::key_size),
                                                                         options_for<F>(segment)};
        benchmark::DoNotOptimize(r.read_at(0, out));
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * stream_size));
}

template <class A, class F>
void random_reads(benchmark::State& state, std::uint32_t segment) {
    const auto key = bytes(32, 1);
    const auto file = sealed<A, F>(segment, random_stream_size);
    atrest::sealed_stream_reader<A, F, view_file> r{view_file(file), std::span(key).first(A::key_size),
                                                                     options_for<F>(segment)};
    std::mt19937_64 rng(7);
    std::vector<std::uint64_t> offsets(4096);
    for (auto& o : offsets) o = (rng() % (random_stream_size / 4096)) * 4096;
    std::vector<std::byte> out(4096);
    std::size_t i = 0;
    for (auto _ : state) {
        benchmark::DoNotOptimize(r.read_at(offsets[i++ & 4095], out));
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * 4096));
}

template <class A>
void botan(benchmark::State& state, bool encrypt) {
    const auto key = bytes(A::key_size, 1);
    const auto nonce = bytes(12, 3);
    auto mode = atrest::detail::botan_compat::make_aead(std::string(A::botan_name), encrypt);
    mode->set_key(reinterpret_cast<const std::uint8_t*>(key.data()), key.size());
    Botan::secure_vector<std::uint8_t> buf(stream_size);
    {
        auto enc = atrest::detail::botan_compat::make_aead(std::string(A::botan_name), true);
        enc->set_key(reinterpret_cast<const std::uint8_t*>(key.data()), key.size());
        enc->start(reinterpret_cast<const std::uint8_t*>(nonce.data()), nonce.size());
        enc->finish(buf);
    }
    const auto sealed_message = buf;
    for (auto _ : state) {
        if (encrypt) {
            buf.resize(stream_size);
        } else {
            buf = sealed_message;  // the copy a reader from a file makes too
        }
        mode->start(reinterpret_cast<const std::uint8_t*>(nonce.data()), nonce.size());
        mode->finish(buf);
        benchmark::DoNotOptimize(buf.data());
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * stream_size));
}

const EVP_CIPHER* evp_for(std::string_view name) {
    if (name == "aes256-gcm") return EVP_aes_256_gcm();
    if (name == "aes128-gcm") return EVP_aes_128_gcm();
    return EVP_chacha20_poly1305();
}

template <class A>
void openssl(benchmark::State& state, bool encrypt) {
    const auto key = bytes(A::key_size, 1);
    const auto nonce = bytes(12, 3);
    auto u = [](const std::vector<std::byte>& v) { return reinterpret_cast<const unsigned char*>(v.data()); };
    std::unique_ptr<EVP_CIPHER_CTX, decltype(&EVP_CIPHER_CTX_free)> ctx(EVP_CIPHER_CTX_new(), EVP_CIPHER_CTX_free);
    std::vector<unsigned char> buf(stream_size), tag(16);
    int len = 0;
    // One sealed message to open.
    EVP_EncryptInit_ex(ctx.get(), evp_for(A::name), nullptr, u(key), u(nonce));
    EVP_EncryptUpdate(ctx.get(), buf.data(), &len, buf.data(), static_cast<int>(buf.size()));
    EVP_EncryptFinal_ex(ctx.get(), buf.data() + len, &len);
    EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_AEAD_GET_TAG, 16, tag.data());
    const auto sealed_message = buf;
    const auto correct_tag = tag;
    if (encrypt) {
        EVP_EncryptInit_ex(ctx.get(), evp_for(A::name), nullptr, u(key), nullptr);
    } else {
        EVP_DecryptInit_ex(ctx.get(), evp_for(A::name), nullptr, u(key), nullptr);
    }
    for (auto _ : state) {
        if (encrypt) {
            EVP_EncryptInit_ex(ctx.get(), nullptr, nullptr, nullptr, u(nonce));
            EVP_EncryptUpdate(ctx.get(), buf.data(), &len, buf.data(), static_cast<int>(buf.size()));
            EVP_EncryptFinal_ex(ctx.get(), buf.data() + len, &len);
            EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_AEAD_GET_TAG, 16, tag.data());
        } else {
            std::memcpy(buf.data(), sealed_message.data(), buf.size());  // as in botan_open
            tag = correct_tag;
            EVP_DecryptInit_ex(ctx.get(), nullptr, nullptr, nullptr, u(nonce));
            EVP_DecryptUpdate(ctx.get(), buf.data(), &len, buf.data(), static_cast<int>(buf.size()));
            EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_AEAD_SET_TAG, 16, tag.data());
            if (EVP_DecryptFinal_ex(ctx.get(), buf.data() + len, &len) != 1) state.SkipWithError("tag");
        }
        benchmark::DoNotOptimize(buf.data());
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * stream_size));
}

template <class A, class F>
void register_stream(const std::string& format, std::uint32_t segment, bool random) {
    const std::string tail = std::string(A::name) + "/" + std::to_string(segment);
    benchmark::RegisterBenchmark(("seal/" + format + "/" + tail).c_str(), [=](benchmark::State& s) { seal<A, F>(s, segment); });
    benchmark::RegisterBenchmark(("open/" + format + "/" + tail).c_str(), [=](benchmark::State& s) { open<A, F>(s, segment); });
    if (random) {
        benchmark::RegisterBenchmark(("rand4096/" + format + "/" + tail).c_str(),
                                     [=](benchmark::State& s) { random_reads<A, F>(s, segment); });
    }
}

template <class A>
void register_oneshot() {
    const std::string n(A::name);
    benchmark::RegisterBenchmark(("botan_seal/" + n).c_str(), [](benchmark::State& s) { botan<A>(s, true); });
    benchmark::RegisterBenchmark(("botan_open/" + n).c_str(), [](benchmark::State& s) { botan<A>(s, false); });
    benchmark::RegisterBenchmark(("openssl_seal/" + n).c_str(), [](benchmark::State& s) { openssl<A>(s, true); });
    benchmark::RegisterBenchmark(("openssl_open/" + n).c_str(), [](benchmark::State& s) { openssl<A>(s, false); });
}

}  // namespace

int main(int argc, char** argv) {
    using namespace atrest;
    register_oneshot<aes256_gcm>();
    for (const std::uint32_t seg : {4096u, 65536u, 1u << 20}) register_stream<aes256_gcm, tink_streaming>("tink", seg, true);
    register_stream<aes256_gcm, dare>("dare", 65536, true);
    register_oneshot<chacha20_poly1305>();
    register_stream<chacha20_poly1305, dare>("dare", 65536, true);
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
