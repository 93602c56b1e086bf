// Interop with implementations we did not write, both ways: Tink's AesGcmHkdfStreaming (the
// `tink` package from PyPI, in the venv ./scripts/dev installs) and MinIO's DARE 2.0
// (github.com/minio/sio from the Go module proxy, built here into the build tree). Each peer runs
// once per test over a manifest of jobs: it decrypts what we sealed, seals the same plaintexts
// itself (which we then open), and refuses streams of ours that were cut or changed. Sizes: empty,
// one byte, one byte short of, at and one past each of the first segment boundaries, for several
// segment sizes. A peer that cannot be installed or started fails the test, saying why.
#include "aead_support.hpp"
#include "catch.hpp"
#include "hex.hpp"
#include "subprocess.hpp"
#include "temp_dir.hpp"

#include <atrest/aead.hpp>
#include <atrest/object.hpp>

#include <array>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <vector>

namespace fs = std::filesystem;
using atrest_test::to_hex;

namespace {

void write_file(const fs::path& p, std::span<const std::byte> bytes) {
    std::ofstream f(p, std::ios::binary | std::ios::trunc);
    f.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    REQUIRE(f.good());
}

std::vector<std::byte> read_file(const fs::path& p) {
    std::ifstream f(p, std::ios::binary);
    INFO("reading " << p);
    REQUIRE(f.good());
    const std::string s((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    std::vector<std::byte> out(s.size());
    if (!s.empty()) std::memcpy(out.data(), s.data(), s.size());
    return out;
}

std::string hex_or_dash(std::span<const std::byte> b) { return b.empty() ? "-" : to_hex(b.data(), b.size()); }

/// Runs a peer over `manifest`; a peer that does not start or reports a failed job fails the test.
void run_peer(const std::string& program, const std::vector<std::string>& args, const std::string& how_to_install,
              const std::map<std::string, std::string>& env = {}, const std::string& cwd = {}) {
    atrest_test::process_result r;
    try {
        r = atrest_test::run_process(program, args, env, std::nullopt, cwd);
    } catch (const std::exception& e) {
        FAIL(e.what() << ": " << how_to_install);
    }
    INFO(program << " exited with " << r.exit_code << "\nstdout:\n" << r.out << "\nstderr:\n" << r.err << "\n"
                 << how_to_install);
    REQUIRE(r.exit_code == 0);
}

struct tink_case {
    std::string name;
    std::vector<std::byte> key, aad, plain;
    std::uint32_t segment_size;
    std::size_t derived_key_size;
};

template <class A>
std::vector<std::byte> tink_open(const tink_case& c, const std::vector<std::byte>& cipher) {
    return atrest_test::open_stream<A, atrest::tink_streaming>(
        c.key, cipher, atrest::tink_streaming::options{c.segment_size, c.aad}, c.name);
}

template <class A>
atrest::memory_file tink_seal(const tink_case& c) {
    return atrest_test::seal_stream<A, atrest::tink_streaming>(c.key, c.plain,
                                                               atrest::tink_streaming::options{c.segment_size, c.aad},
                                                               1000, c.name);
}

/// The DARE peer, built here (go build caches, so only the first run compiles), modules from the
/// Go module proxy.
fs::path build_sio_peer() {
    const fs::path peer = fs::path(ATREST_SIO_PEER_BINARY);
    run_peer(ATREST_GO, {"build", "-o", peer.string(), "."},
             "the DARE peer is built with Go (package golang-go, installed by `./scripts/dev deps`) and "
             "github.com/minio/sio from the Go module proxy",
             {{"GOPATH", ATREST_GO_PATH},
              {"GOCACHE", std::string(ATREST_GO_PATH) + "/cache"},
              {"GOFLAGS", "-modcacherw -mod=readonly"},
              {"GOTOOLCHAIN", "local"}},
             ATREST_SIO_PEER_SOURCE);
    return peer;
}

}  // namespace

TEST_CASE("interop: Tink's AesGcmHkdfStreaming opens our streams and we open Tink's") {
    atrest_test::temp_dir dir;
    std::vector<tink_case> cases;
    std::uint32_t seed = 100;
    for (const std::size_t dks : {std::size_t{16}, std::size_t{32}}) {
        for (const std::uint32_t segment : {std::uint32_t{1024}, std::uint32_t{4096}, std::uint32_t{1} << 16}) {
            const atrest::tink_streaming::options o{segment, {}};
            const auto layout = dks == 16 ? atrest::tink_streaming::layout<atrest::aes128_gcm>(o)
                                          : atrest::tink_streaming::layout<atrest::aes256_gcm>(o);
            for (const std::size_t n : atrest_test::boundary_sizes(layout)) {
                ++seed;
                // Key values longer than the derived key, and associated data, on alternate cases.
                tink_case c{"tink-" + std::to_string(dks) + "-" + std::to_string(segment) + "-" + std::to_string(n),
                            atrest_test::test_bytes(seed % 2 == 0 ? dks : 32 + dks, seed),
                            atrest_test::test_bytes(seed % 3 == 0 ? 0 : 13, seed + 1),
                            atrest_test::test_bytes(n, seed + 2), segment, dks};
                cases.push_back(std::move(c));
            }
        }
    }
    // Tink's 1 MiB template, one stream crossing its first boundary.
    cases.push_back({"tink-32-1MiB", atrest_test::test_bytes(32, 7), {}, atrest_test::test_bytes((1u << 20) + 99, 8),
                     1u << 20, 32});

    std::ostringstream manifest;
    auto job = [&](const tink_case& c, const char* op, const fs::path& in, const fs::path& out) {
        manifest << op << ' ' << to_hex(c.key.data(), c.key.size()) << ' ' << c.segment_size << ' '
                 << c.derived_key_size << ' ' << hex_or_dash(c.aad) << ' ' << in.string() << ' ' << out.string() << '\n';
    };
    std::vector<std::size_t> refused;
    for (std::size_t i = 0; i < cases.size(); ++i) {
        const auto& c = cases[i];
        const auto ours = c.derived_key_size == 16 ? tink_seal<atrest::aes128_gcm>(c) : tink_seal<atrest::aes256_gcm>(c);
        write_file(dir / (c.name + ".plain"), c.plain);
        write_file(dir / (c.name + ".ours"), ours.bytes());
        job(c, "decrypt", dir / (c.name + ".ours"), dir / (c.name + ".ours.opened"));
        job(c, "encrypt", dir / (c.name + ".plain"), dir / (c.name + ".tink"));
        if (c.plain.size() > 2000) {
            // Tink refuses what we refuse: our stream without its final segment, and with one bit flipped.
            auto cut = ours.bytes();
            cut.resize(static_cast<std::size_t>(ours.size() - (c.plain.size() - c.plain.size() / 2)));
            write_file(dir / (c.name + ".cut"), cut);
            job(c, "refuse", dir / (c.name + ".cut"), dir / (c.name + ".cut.opened"));
            auto flipped = ours.bytes();
            flipped[flipped.size() / 2] ^= std::byte{0x10};
            write_file(dir / (c.name + ".flipped"), flipped);
            job(c, "refuse", dir / (c.name + ".flipped"), dir / (c.name + ".flipped.opened"));
            refused.push_back(i);
        }
    }
    const std::string jobs = manifest.str();
    write_file(dir / "manifest", std::as_bytes(std::span(jobs)));
    run_peer(ATREST_TINK_PYTHON, {ATREST_TINK_PEER, (dir / "manifest").string()},
             "Tink's Python package is installed into " ATREST_TINK_PYTHON " by `./scripts/dev deps`");

    for (const auto& c : cases) {
        INFO(c.name);
        REQUIRE(read_file(dir / (c.name + ".ours.opened")) == c.plain);  // Tink opened ours
        const auto theirs = read_file(dir / (c.name + ".tink"));
        const auto expected_size = c.derived_key_size == 16
                                       ? atrest::tink_streaming::layout<atrest::aes128_gcm>({c.segment_size}).cipher_size(c.plain.size())
                                       : atrest::tink_streaming::layout<atrest::aes256_gcm>({c.segment_size}).cipher_size(c.plain.size());
        REQUIRE(theirs.size() == expected_size);  // Tink lays segments out as we do
        REQUIRE((c.derived_key_size == 16 ? tink_open<atrest::aes128_gcm>(c, theirs)
                                          : tink_open<atrest::aes256_gcm>(c, theirs)) == c.plain);  // we open Tink's
    }
    CHECK(refused.size() > 10);
}

TEST_CASE("interop: MinIO's sio opens our DARE 2.0 streams and we open sio's") {
    atrest_test::temp_dir dir;
    const fs::path peer = build_sio_peer();

    struct dare_case {
        std::string name, cipher;
        std::vector<std::byte> key, plain;
    };
    std::vector<dare_case> cases;
    const auto layout = atrest::dare::layout<atrest::aes256_gcm>({});
    std::uint32_t seed = 500;
    for (const char* cipher : {"aes256-gcm", "chacha20-poly1305"}) {
        for (const std::size_t n : atrest_test::boundary_sizes(layout)) {
            ++seed;
            cases.push_back({std::string("dare-") + cipher + "-" + std::to_string(n), cipher, atrest_test::test_bytes(32, seed),
                             atrest_test::test_bytes(n, seed + 1)});
        }
    }
    auto seal = [](const dare_case& c) {
        return c.cipher == "aes256-gcm" ? atrest_test::seal_stream<atrest::aes256_gcm, atrest::dare>(c.key, c.plain, {}, 5000, c.name)
                                        : atrest_test::seal_stream<atrest::chacha20_poly1305, atrest::dare>(c.key, c.plain, {}, 5000, c.name);
    };
    auto open = [](const dare_case& c, const std::vector<std::byte>& cipher) {
        return c.cipher == "aes256-gcm" ? atrest_test::open_stream<atrest::aes256_gcm, atrest::dare>(c.key, cipher, {}, c.name)
                                        : atrest_test::open_stream<atrest::chacha20_poly1305, atrest::dare>(c.key, cipher, {}, c.name);
    };

    std::ostringstream manifest;
    auto job = [&](const dare_case& c, const char* op, const fs::path& in, const fs::path& out) {
        manifest << op << ' ' << c.cipher << ' ' << to_hex(c.key.data(), c.key.size()) << ' ' << in.string() << ' '
                 << out.string() << '\n';
    };
    std::size_t refused = 0;
    for (const auto& c : cases) {
        const auto ours = seal(c);
        write_file(dir / (c.name + ".plain"), c.plain);
        write_file(dir / (c.name + ".ours"), ours.bytes());
        job(c, "encrypt", dir / (c.name + ".plain"), dir / (c.name + ".sio"));
        if (c.plain.empty()) {
            // sio writes an empty stream as no bytes (as we do) but its 2.0 reader refuses no bytes
            // ("unexpected EOF"), its own empty output included: the one place the two differ.
            write_file(dir / (c.name + ".ours.opened"), {});
            job(c, "refuse", dir / (c.name + ".ours"), dir / (c.name + ".ours.unused"));
            continue;
        }
        job(c, "decrypt", dir / (c.name + ".ours"), dir / (c.name + ".ours.opened"));
        if (c.plain.size() > layout.capacity) {
            // sio refuses what we refuse: the final package missing, and a flipped bit.
            auto cut = ours.bytes();
            cut.resize(static_cast<std::size_t>(layout.cipher_start(1)));
            write_file(dir / (c.name + ".cut"), cut);
            job(c, "refuse", dir / (c.name + ".cut"), dir / (c.name + ".cut.opened"));
            auto flipped = ours.bytes();
            flipped[flipped.size() - 20] ^= std::byte{0x01};
            write_file(dir / (c.name + ".flipped"), flipped);
            job(c, "refuse", dir / (c.name + ".flipped"), dir / (c.name + ".flipped.opened"));
            ++refused;
        }
    }
    // With one stream nonce on both sides (sio's Config.Nonce), the bytes are identical: headers,
    // final flags, nonces, ciphertext and tags. A nonce with its top bit set checks that both
    // clear it for the final flag.
    std::vector<std::pair<dare_case, std::array<std::byte, 12>>> fixed;
    for (const auto& c : cases) {
        if (c.plain.empty() || c.plain.size() % 3 != 0) continue;
        std::array<std::byte, 12> nonce{};
        const auto n = atrest_test::test_bytes(12, static_cast<std::uint32_t>(c.plain.size()));
        std::copy(n.begin(), n.end(), nonce.begin());
        if (fixed.size() % 2 == 0) nonce[0] |= std::byte{0x80};
        job(c, "encrypt", dir / (c.name + ".plain"), dir / (c.name + ".sio-fixed"));
        manifest.seekp(-1, std::ios_base::cur);  // the nonce goes on the same line
        manifest << ' ' << to_hex(nonce.data(), nonce.size()) << '\n';
        fixed.emplace_back(c, nonce);
    }
    const std::string jobs = manifest.str();
    write_file(dir / "manifest", std::as_bytes(std::span(jobs)));
    run_peer(peer.string(), {(dir / "manifest").string()}, "the DARE peer was built just above");
    REQUIRE(fixed.size() >= 4);
    for (const auto& [c, nonce] : fixed) {
        INFO(c.name << " with a fixed stream nonce");
        const atrest::dare::options o{0, nonce};
        const auto ours = c.cipher == "aes256-gcm"
                              ? atrest_test::seal_stream<atrest::aes256_gcm, atrest::dare>(c.key, c.plain, o, 777, c.name)
                              : atrest_test::seal_stream<atrest::chacha20_poly1305, atrest::dare>(c.key, c.plain, o, 777, c.name);
        REQUIRE(ours.bytes() == read_file(dir / (c.name + ".sio-fixed")));
    }

    for (const auto& c : cases) {
        INFO(c.name);
        REQUIRE(read_file(dir / (c.name + ".ours.opened")) == c.plain);  // sio opened ours
        const auto theirs = read_file(dir / (c.name + ".sio"));
        REQUIRE(theirs.size() == layout.cipher_size(c.plain.size()));  // sio lays packages out as we do
        REQUIRE(open(c, theirs) == c.plain);                             // we open sio's
    }
    CHECK(refused > 5);
}

TEST_CASE("interop: object keys sealed as MinIO seals them (Go's crypto/hmac and sio), both ways, sio reads our objects") {
    atrest_test::temp_dir dir;
    const fs::path peer = build_sio_peer();
    struct key_case {
        std::string name;
        atrest::sse_type domain;
        std::string bucket, object;
        std::vector<std::byte> external, iv, key, nonce;
    };
    std::vector<key_case> cases;
    std::uint32_t seed = 900;
    for (const auto domain : {atrest::sse_type::sse_c, atrest::sse_type::sse_s3, atrest::sse_type::sse_kms}) {
        for (const char* object : {"object", "dir/sub/file.txt", "x"}) {
            seed += 4;
            cases.push_back({std::string(atrest::domain_of(domain)) + "-" + std::to_string(seed), domain, "bucket-" + std::to_string(seed),
                             object, atrest_test::test_bytes(32, seed), atrest_test::test_bytes(32, seed + 1),
                             atrest_test::test_bytes(32, seed + 2), atrest_test::test_bytes(12, seed + 3)});
        }
    }
    const auto iv_of = [](const key_case& c) {
        std::array<std::byte, 32> iv{};
        std::copy(c.iv.begin(), c.iv.end(), iv.begin());
        return iv;
    };
    const auto input = [](const key_case& c, std::span<const std::byte> body) {
        auto in = c.iv;
        in.insert(in.end(), body.begin(), body.end());
        const auto path = atrest::object_path(c.bucket, c.object);
        const auto p = std::as_bytes(std::span(path.data(), path.size()));
        in.insert(in.end(), p.begin(), p.end());
        return in;
    };
    std::ostringstream manifest;
    for (const auto& c : cases) {
        const auto path = atrest::object_path(c.bucket, c.object);
        const auto key = atrest::object_key::from_bytes(c.key);
        // Ours with a random DARE nonce: the Go side unseals it.
        const auto ours = key.seal(c.external, iv_of(c), c.domain, path);
        write_file(dir / (c.name + ".ours"), input(c, ours.key));
        manifest << "unseal-key " << atrest::domain_of(c.domain) << ' ' << to_hex(c.external.data(), 32) << ' '
                 << (dir / (c.name + ".ours")).string() << ' ' << (dir / (c.name + ".ours.key")).string() << '\n';
        // The Go side seals with a fixed nonce: the same bytes as ours with that nonce.
        write_file(dir / (c.name + ".plain"), input(c, c.key));
        manifest << "seal-key " << atrest::domain_of(c.domain) << ' ' << to_hex(c.external.data(), 32) << ' '
                 << (dir / (c.name + ".plain")).string() << ' ' << (dir / (c.name + ".minio")).string() << ' '
                 << to_hex(c.nonce.data(), 12) << '\n';
    }
    // A whole object written by the object layer (SSE-C): sio decrypts its data under the object key.
    atrest::client_key client(atrest_test::test_bytes(32, 77));
    const auto plain = atrest_test::test_bytes(3 * 65536 + 5, 78);
    auto w = atrest::sealed_object_writer<atrest::memory_file>::create(atrest::memory_file("o"), client, "b", "o");
    w.append(plain);
    w.finish();
    const auto object_key = atrest::unseal_object_key(client, w.metadata(), "b", "o");
    write_file(dir / "object.sealed", w.file().bytes());
    manifest << "decrypt aes256-gcm " << to_hex(object_key.bytes().data(), 32) << ' ' << (dir / "object.sealed").string()
             << ' ' << (dir / "object.opened").string() << '\n';
    const std::string jobs = manifest.str();
    write_file(dir / "manifest", std::as_bytes(std::span(jobs)));
    run_peer(peer.string(), {(dir / "manifest").string()}, "the DARE peer was built just above");

    for (const auto& c : cases) {
        INFO(c.name);
        REQUIRE(read_file(dir / (c.name + ".ours.key")) == c.key);  // MinIO's Unseal opened ours
        std::array<std::byte, 12> nonce{};
        std::copy(c.nonce.begin(), c.nonce.end(), nonce.begin());
        const auto fixed = atrest::object_key::from_bytes(c.key).seal(c.external, iv_of(c), c.domain,
                                                                      atrest::object_path(c.bucket, c.object), {0, nonce});
        const auto theirs = read_file(dir / (c.name + ".minio"));
        REQUIRE(std::vector<std::byte>(fixed.key.begin(), fixed.key.end()) == theirs);  // byte for byte
        atrest::sealed_key sealed;
        std::copy(theirs.begin(), theirs.end(), sealed.key.begin());
        sealed.iv = iv_of(c);
        const auto opened = atrest::object_key::unseal(c.external, sealed, c.domain, atrest::object_path(c.bucket, c.object));
        REQUIRE(opened.has_value());
        CHECK(to_hex(opened->bytes().data(), 32) == to_hex(c.key.data(), 32));  // we open MinIO's
    }
    CHECK(read_file(dir / "object.opened") == plain);
}
