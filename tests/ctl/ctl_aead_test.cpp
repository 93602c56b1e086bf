// atrest-ctl's stream and object subcommands as a user runs them: seal, open (whole and a byte
// range) and verify streams in both formats; put, get, range-get, verify and rotate objects under
// SSE-C and SSE-S3; a wrong key, a moved object, changed metadata and a changed byte each exit 1
// with one line naming the file or object, and leave no output behind.
#include "ctl_helpers.hpp"

#include <filesystem>
#include <string>
#include <vector>

using namespace atrest_test;

namespace {

std::string hex_of(const std::vector<std::byte>& b) {
    static constexpr char digits[] = "0123456789abcdef";
    std::string out;
    for (auto x : b) {
        out += digits[std::to_integer<unsigned>(x) >> 4];
        out += digits[std::to_integer<unsigned>(x) & 15];
    }
    return out;
}

/// A key file of 32 bytes from `seed`, as hex digits and a newline.
std::string key_file(const temp_dir& dir, const std::string& name, unsigned seed) {
    const auto path = (dir / name).string();
    write_text(path, hex_of(random_bytes(32, seed)) + "\n");
    return path;
}

std::vector<std::byte> slice(const std::vector<std::byte>& v, std::size_t at, std::size_t n) {
    return {v.begin() + static_cast<std::ptrdiff_t>(at), v.begin() + static_cast<std::ptrdiff_t>(at + n)};
}

void flip(const std::string& path, std::size_t at) {
    auto bytes = read_all(path);
    REQUIRE(at < bytes.size());
    bytes[at] ^= std::byte{0x01};
    write_all(path, bytes);
}

}  // namespace

TEST_CASE("seal-stream, open-stream and verify-stream in both formats, wrong key and a flipped byte fail", "[ctl]") {
    temp_dir dir;
    const auto key = key_file(dir, "stream.key", 1);
    const auto other = key_file(dir, "other.key", 2);
    const auto plain = (dir / "plain").string();
    const auto original = random_bytes(300000, 3);
    write_all(plain, original);
    for (const std::string format : {"tink", "dare"}) {
        INFO(format);
        const auto sealed = (dir / (format + ".sealed")).string();
        std::vector<std::string> extra;
        if (format == "tink") extra = {"--segment-size", "4096"};
        auto with = [&](std::vector<std::string> args, const std::string& k) {
            args.insert(args.begin() + 1, {"--format", format, "--key-file", k});
            args.insert(args.begin() + 1, extra.begin(), extra.end());
            return args;
        };
        const auto out = ok(with({"seal-stream", plain, sealed}, key)).out;
        CHECK(out.find("300000 bytes") != std::string::npos);
        CHECK(read_all(sealed).size() > original.size());
        CHECK(ok(with({"verify-stream", sealed}, key)).out.find("ok ") == 0);
        const auto opened = (dir / (format + ".opened")).string();
        ok(with({"open-stream", sealed, opened}, key));
        CHECK(read_all(opened) == original);
        const auto part = (dir / (format + ".part")).string();
        ok(with({"open-stream", "--offset", "123456", "--length", "1000", sealed, part}, key));
        CHECK(read_all(part) == slice(original, 123456, 1000));
        fails(with({"seal-stream", plain, sealed}, key), sealed);  // never overwrites

        fails(with({"verify-stream", sealed}, other), sealed);
        const auto never = (dir / (format + ".never")).string();
        fails(with({"open-stream", sealed, never}, other), sealed);
        CHECK_FALSE(std::filesystem::exists(never));
        const auto changed = (dir / (format + ".changed")).string();
        std::filesystem::copy_file(sealed, changed);
        flip(changed, 150000);
        fails(with({"verify-stream", changed}, key), "changed");
        fails(with({"open-stream", changed, never}, key), "changed");
        CHECK_FALSE(std::filesystem::exists(never));
    }
    fails({"seal-stream", "--format", "dare", "--segment-size", "4096", "--key-file", key, plain, (dir / "x").string()},
          "--segment-size");
    fails({"seal-stream", "--format", "aes", "--key-file", key, plain, (dir / "x").string()}, "tink, dare");
    CHECK_FALSE(std::filesystem::exists(dir / "x"));
    // Keys come from files only.
    CHECK(run_ctl({"seal-stream", "--format", "dare", "--key", hex_of(random_bytes(32, 1)), plain, (dir / "y").string()})
              .exit_code != 0);
    CHECK_FALSE(std::filesystem::exists(dir / "y"));
}

TEST_CASE("put-object, get-object (whole and range), verify-object and rotate-object with SSE-C", "[ctl]") {
    temp_dir dir;
    const auto alice = key_file(dir, "alice.key", 10);
    const auto bob = key_file(dir, "bob.key", 11);
    const auto plain = (dir / "plain").string();
    const auto original = random_bytes(200000, 12);
    write_all(plain, original);
    const auto data = (dir / "obj").string();
    const auto meta = (dir / "obj.meta").string();
    const std::vector<std::string> name = {"--bucket", "photos", "--object", "2024/cat.jpg", "--metadata", meta};
    auto with = [&](std::vector<std::string> args, std::vector<std::string> more) {
        args.insert(args.begin() + 1, name.begin(), name.end());
        args.insert(args.begin() + 1, more.begin(), more.end());
        return args;
    };
    CHECK(ok(with({"put-object", plain, data}, {"--key-file", alice})).out.find("SSE-C") != std::string::npos);
    const auto text = read_all(meta);
    CHECK(std::string(reinterpret_cast<const char*>(text.data()), text.size()).starts_with("atrest-object-metadata 1\n"));
    CHECK(ok(with({"verify-object", data}, {"--key-file", alice})).out.find("200000 bytes") != std::string::npos);
    const auto whole = (dir / "whole").string();
    ok(with({"get-object", data, whole}, {"--key-file", alice}));
    CHECK(read_all(whole) == original);
    const auto range = (dir / "range").string();
    ok(with({"get-object", "--offset", "70000", "--length", "5", data, range}, {"--key-file", alice}));
    CHECK(read_all(range) == slice(original, 70000, 5));

    const auto never = (dir / "never").string();
    fails(with({"get-object", data, never}, {"--key-file", bob}), "client key is not the one");
    CHECK_FALSE(std::filesystem::exists(never));
    // Moved: asked for under another name.
    fails({"get-object", "--bucket", "photos", "--object", "2024/dog.jpg", "--metadata", meta, "--key-file", alice, data, never},
          "sealed for 'photos/2024/cat.jpg'");
    // A flipped byte of the object: the object is named.
    const auto changed = (dir / "obj.changed").string();
    std::filesystem::copy_file(data, changed);
    flip(changed, 100000);
    fails(with({"verify-object", changed}, {"--key-file", alice}), "object 'photos/2024/cat.jpg'");
    fails(with({"get-object", changed, never}, {"--key-file", alice}), "object 'photos/2024/cat.jpg'");
    CHECK_FALSE(std::filesystem::exists(never));
    // Changed metadata: a bit of the sealed key (base64 'A' <-> 'B' changes one bit).
    auto edited = std::string(reinterpret_cast<const char*>(text.data()), text.size());
    const auto at = edited.find("Sealed-Key: ") + 12 + 30;
    edited[at] = edited[at] == 'A' ? 'B' : 'A';
    const auto bad_meta = (dir / "bad.meta").string();
    write_text(bad_meta, edited);
    fails({"get-object", "--bucket", "photos", "--object", "2024/cat.jpg", "--metadata", bad_meta, "--key-file", alice, data,
           never},
          "was changed");
    write_text(bad_meta, "hello\n");
    fails({"verify-object", "--bucket", "photos", "--object", "2024/cat.jpg", "--metadata", bad_meta, "--key-file", alice, data},
          "not atrest object metadata");

    // Rotation: only the metadata changes.
    const auto before = read_all(data);
    fails(with({"rotate-object"}, {"--key-file", bob, "--new-key-file", alice}), "client key is not the one");
    CHECK(read_all(meta) == text);  // a failed rotation changes nothing
    CHECK(ok(with({"rotate-object"}, {"--key-file", alice, "--new-key-file", bob})).out.find("object data unchanged") !=
          std::string::npos);
    CHECK(read_all(data) == before);
    CHECK(read_all(meta) != text);
    fails(with({"verify-object", data}, {"--key-file", alice}), "client key is not the one");
    ok(with({"verify-object", data}, {"--key-file", bob}));
    fails(with({"put-object", plain, (dir / "obj2").string()}, {"--key-file", alice}), meta);  // never overwrites metadata
    CHECK_FALSE(std::filesystem::exists(dir / "obj2"));
    fails(with({"get-object", data, never}, {}), "exactly one of");
}

TEST_CASE("objects under SSE-S3 with a master key file, rotation to a new master key and to SSE-C", "[ctl]") {
    temp_dir dir;
    const auto m1 = (dir / "m1.key").string();
    const auto m2 = (dir / "m2.key").string();
    ok({"keygen", "--out", m1});
    ok({"keygen", "--out", m2});
    const auto client = key_file(dir, "client.key", 20);
    const auto plain = (dir / "plain").string();
    const auto original = random_bytes(70000, 21);
    write_all(plain, original);
    const auto data = (dir / "obj").string();
    const auto meta = (dir / "obj.meta").string();
    const std::vector<std::string> name = {"--bucket", "logs", "--object", "day-1", "--metadata", meta};
    auto with = [&](std::vector<std::string> args, std::vector<std::string> more) {
        args.insert(args.begin() + 1, name.begin(), name.end());
        args.insert(args.begin() + 1, more.begin(), more.end());
        return args;
    };
    CHECK(ok(with({"put-object", plain, data}, {"--master-key-file", m1})).out.find("SSE-S3") != std::string::npos);
    const auto whole = (dir / "whole").string();
    ok(with({"get-object", data, whole}, {"--master-key-file", m1}));
    CHECK(read_all(whole) == original);
    fails(with({"verify-object", data}, {"--master-key-file", m2}), "object 'logs/day-1'");
    fails(with({"verify-object", data}, {"--key-file", client}), "sealed with SSE-S3");
    const auto before = read_all(data);
    ok(with({"rotate-object"}, {"--master-key-file", m1, "--new-master-key-file", m2}));
    fails(with({"verify-object", data}, {"--master-key-file", m1}), "object 'logs/day-1'");
    ok(with({"verify-object", data}, {"--master-key-file", m2}));
    ok(with({"rotate-object"}, {"--master-key-file", m2, "--new-key-file", client}));
    ok(with({"verify-object", data}, {"--key-file", client}));
    CHECK(read_all(data) == before);
}
