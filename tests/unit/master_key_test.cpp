// Master-key sources: the key file format (every malformed case has its own error naming the
// path and the rule, and none shows key material), the permission warning, key generation,
// backend mismatches, and previous-key fallback only on wrong_key.
#include "catch.hpp"
#include "expect_error.hpp"
#include "temp_dir.hpp"

#include <atrest/master_key.hpp>

#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>
#include <vector>

using atrest_test::temp_dir;

using atrest_test::expect_error;

namespace {

const std::string key_hex = "3b5896b5be691006e0f71c3040a29495ddcad20b14aff61806940ebd780d3c62";  // the spec's example

void write_text(const std::filesystem::path& p, const std::string& text, ::mode_t mode = 0600) {
    auto fd = atrest::detail::posix::open_file(p, O_WRONLY | O_CREAT | O_TRUNC, mode);
    atrest::detail::posix::write_all(fd.get(), std::as_bytes(std::span(text.data(), text.size())), p);
    ::fchmod(fd.get(), mode);
}


/// No 8-hex-digit run of the key appears in the message.
void check_no_key_material(const std::string& what) {
    for (std::size_t i = 0; i + 8 <= key_hex.size(); ++i) {
        INFO(what);
        REQUIRE(what.find(key_hex.substr(i, 8)) == std::string::npos);
    }
}

const std::vector<std::byte> aad = {std::byte{1}, std::byte{2}};
const std::vector<std::byte> secret = {std::byte{'k'}, std::byte{'e'}, std::byte{'y'}, std::byte{'s'}};

}  // namespace

TEST_CASE("a well-formed key file seals and opens, its key never shows in descriptions", "[master_key]") {
    temp_dir dir;
    write_text(dir / "k", key_hex + "\n");
    atrest::file_master_key<> key(dir / "k");
    CHECK(key.is_secure());
    const auto sealed = key.seal(secret, aad);
    CHECK(sealed[0] == std::byte{2});
    CHECK(sealed.size() == 1 + 12 + secret.size() + 16);
    const auto opened = key.open(sealed, aad);
    CHECK(std::equal(opened.data.bytes().begin(), opened.data.bytes().end(), secret.begin(), secret.end()));
    CHECK_FALSE(opened.needs_reseal);
    CHECK(key.describe().find((dir / "k").string()) != std::string::npos);
    check_no_key_material(key.describe());
    // Uppercase hex is the same key.
    std::string upper = key_hex;
    for (auto& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    write_text(dir / "K", upper + "\n");
    CHECK(atrest::file_master_key<>(dir / "K").open(sealed, aad).data.size() == secret.size());
}

TEST_CASE("each malformed key file gets its own error naming the path and the rule", "[master_key]") {
    temp_dir dir;
    struct bad_case {
        const char* name;
        std::string content;
        const char* rule;
    };
    const std::vector<bad_case> cases = {
        {"empty", "", "is empty"},
        {"63 digits", key_hex.substr(0, 63) + "\n", "63 hex digits instead of 64"},
        {"65 digits", key_hex + "a\n", "65 hex digits instead of 64"},
        {"non-hex", key_hex.substr(0, 10) + "g" + key_hex.substr(11) + "\n", "non-hex character at byte 10"},
        {"no newline", key_hex, "no newline at the end"},
        {"CRLF", key_hex + "\r\n", "\\r\\n"},
        {"trailing bytes", key_hex + "\nextra", "5 bytes after the newline"},
        {"two keys", key_hex + "\n" + key_hex + "\n", "65 bytes after the newline"},
        {"huge", std::string(100000, 'a'), "100000 bytes long"},
    };
    for (const auto& c : cases) {
        INFO(c.name);
        const auto path = dir / c.name;
        write_text(path, c.content);
        const auto e = expect_error([&] { atrest::file_master_key<> k(path); });
        CHECK(e.code() == atrest::errc::key_file_format);
        const std::string what = e.what();
        CHECK(what.find(path.string()) != std::string::npos);
        CHECK(what.find(c.rule) != std::string::npos);
        check_no_key_material(what);
    }
    const auto missing = expect_error([&] { atrest::file_master_key<> k(dir / "missing"); });
    CHECK(missing.code() == atrest::errc::not_found);
    CHECK(std::string(missing.what()).find((dir / "missing").string()) != std::string::npos);
    std::filesystem::create_directory(dir / "a-directory");
    const auto directory = expect_error([&] { atrest::file_master_key<> k(dir / "a-directory"); });
    CHECK(directory.code() == atrest::errc::key_file_format);
    CHECK(std::string(directory.what()).find("is a directory") != std::string::npos);
    REQUIRE(::mkfifo((dir / "a-fifo").c_str(), 0600) == 0);
    const auto fifo = expect_error([&] { atrest::file_master_key<> k(dir / "a-fifo"); });
    CHECK(fifo.code() == atrest::errc::key_file_format);
    CHECK(std::string(fifo.what()).find("is not a regular file") != std::string::npos);
    // A symlink to a good key file is fine (operators mount secrets that way).
    write_text(dir / "real", key_hex + "\n");
    std::filesystem::create_symlink(dir / "real", dir / "link");
    CHECK(atrest::file_master_key<>(dir / "link").is_secure());
}

TEST_CASE("a key file readable by group or others triggers a warning, not an error", "[master_key]") {
    temp_dir dir;
    std::vector<std::string> warnings;
    const atrest::diagnostic_sink sink = [&](std::string_view w) { warnings.emplace_back(w); };
    write_text(dir / "private", key_hex + "\n", 0600);
    atrest::file_master_key<> ok(dir / "private", sink);
    CHECK(warnings.empty());
    write_text(dir / "shared", key_hex + "\n", 0644);
    atrest::file_master_key<> shared(dir / "shared", sink);
    REQUIRE(warnings.size() == 1);
    CHECK(warnings[0].find((dir / "shared").string()) != std::string::npos);
    CHECK(warnings[0].find("0644") != std::string::npos);
    check_no_key_material(warnings[0]);
}

TEST_CASE("generate_master_key_file writes a fresh 0600 key in the spec's format and never overwrites", "[master_key]") {
    temp_dir dir;
    atrest::generate_master_key_file(dir / "a");
    atrest::generate_master_key_file(dir / "b");
    const auto a = atrest::detail::posix::read_file_if_exists(dir / "a").value();
    const auto b = atrest::detail::posix::read_file_if_exists(dir / "b").value();
    REQUIRE(a.size() == 65);
    CHECK(a[64] == std::byte{'\n'});
    CHECK(a != b);
    for (std::size_t i = 0; i < 64; ++i) CHECK(std::string("0123456789abcdef").find(static_cast<char>(a[i])) != std::string::npos);
    struct ::stat st {};
    REQUIRE(::stat((dir / "a").c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0600);
    const auto exists = expect_error([&] { atrest::generate_master_key_file(dir / "a"); });
    CHECK(exists.code() == atrest::errc::already_exists);
    CHECK(std::string(exists.what()).find((dir / "a").string()) != std::string::npos);
    CHECK(atrest::detail::posix::read_file_if_exists(dir / "a").value() == a);
    CHECK(std::distance(std::filesystem::directory_iterator(dir.path()), {}) == 2);  // a and b: no temp file left
    // A dangling symlink is "present" too: never write through it.
    std::filesystem::create_symlink(dir / "nowhere", dir / "dangling");
    CHECK(expect_error([&] { atrest::generate_master_key_file(dir / "dangling"); }).code() == atrest::errc::already_exists);
    CHECK_FALSE(std::filesystem::exists(dir / "nowhere"));
    CHECK(expect_error([&] { atrest::generate_master_key_file(dir / "no-such-dir" / "k"); }).code() == atrest::errc::not_found);
    // A restrictive umask is no reason for another mode, nor a permissive one.
    const auto old_mask = ::umask(0);
    atrest::generate_master_key_file(dir / "c");
    ::umask(old_mask);
    REQUIRE(::stat((dir / "c").c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0600);
    atrest::file_master_key<> loaded(dir / "a");
    CHECK(loaded.open(loaded.seal(secret, aad), aad).data.size() == secret.size());
}

TEST_CASE("sources refuse each other's blobs as wrong_key and damaged blobs as corrupt", "[master_key]") {
    atrest::memory_master_key<> one(atrest::secret_bytes(std::vector<std::byte>(32, std::byte{1})), "key one");
    atrest::memory_master_key<> two(atrest::secret_bytes(std::vector<std::byte>(32, std::byte{2})), "key two");
    atrest::plaintext_master_key plain;
    const auto by_one = one.seal(secret, aad);
    const auto by_plain = plain.seal(secret, aad);
    CHECK(by_plain[0] == std::byte{1});
    CHECK(std::equal(by_plain.begin() + 1, by_plain.end(), secret.begin(), secret.end()));
    CHECK_FALSE(plain.is_secure());
    CHECK(plain.open(by_plain, aad).data.size() == secret.size());

    CHECK(expect_error([&] { (void)two.open(by_one, aad); }).code() == atrest::errc::wrong_key);
    CHECK(expect_error([&] { (void)one.open(by_one, std::vector<std::byte>{std::byte{9}}); }).code() == atrest::errc::wrong_key);
    CHECK(expect_error([&] { (void)one.open(by_plain, aad); }).code() == atrest::errc::wrong_key);
    CHECK(expect_error([&] { (void)plain.open(by_one, aad); }).code() == atrest::errc::wrong_key);
    CHECK(expect_error([&] { (void)one.open({}, aad); }).code() == atrest::errc::corrupt);
    auto unknown = by_one;
    unknown[0] = std::byte{9};
    CHECK(expect_error([&] { (void)one.open(unknown, aad); }).code() == atrest::errc::corrupt);
    CHECK(expect_error([&] { (void)one.open(std::span(by_one).first(20), aad); }).code() == atrest::errc::corrupt);
    CHECK(expect_error([] { atrest::memory_master_key<> k(atrest::secret_bytes(16)); }).code() == atrest::errc::invalid_key_size);
}

namespace {
/// Counts open() calls, to show the previous key is not tried on a corrupt blob.
struct counting_key {
    atrest::memory_master_key<> inner;
    std::shared_ptr<int> opens = std::make_shared<int>(0);
    std::vector<std::byte> seal(std::span<const std::byte> d, std::span<const std::byte> a) { return inner.seal(d, a); }
    atrest::unsealed open(std::span<const std::byte> s, std::span<const std::byte> a) {
        ++*opens;
        return inner.open(s, a);
    }
    std::string describe() const { return inner.describe(); }
    bool is_secure() const { return true; }
};
atrest::memory_master_key<> key_of(std::uint8_t fill, const std::string& label) {
    return atrest::memory_master_key<>(atrest::secret_bytes(std::vector<std::byte>(32, std::byte{fill})), label);
}
}  // namespace

TEST_CASE("with_previous tries the previous key only on wrong_key and asks for a re-seal", "[master_key]") {
    using rotation = atrest::with_previous<atrest::memory_master_key<>, counting_key>;
    auto old_key = key_of(1, "old key");
    const auto by_old = old_key.seal(secret, aad);
    counting_key previous{key_of(1, "old key")};
    const auto previous_opens = previous.opens;
    rotation r(key_of(2, "new key"), std::move(previous));
    const auto opened = r.open(by_old, aad);
    CHECK(opened.needs_reseal);
    CHECK(opened.data.size() == secret.size());
    CHECK(*previous_opens == 1);

    const auto by_new = r.seal(secret, aad);  // seals with the current key
    CHECK_FALSE(r.open(by_new, aad).needs_reseal);
    CHECK(*previous_opens == 1);

    auto corrupt = by_new;
    corrupt[0] = std::byte{7};
    CHECK(expect_error([&] { (void)r.open(corrupt, aad); }).code() == atrest::errc::corrupt);
    CHECK(*previous_opens == 1);  // damage is not a reason to try another key

    auto stranger = key_of(3, "stranger");
    const auto e = expect_error([&] { (void)r.open(stranger.seal(secret, aad), aad); });
    CHECK(e.code() == atrest::errc::wrong_key);
    CHECK(std::string(e.what()).find("new key") != std::string::npos);
    CHECK(std::string(e.what()).find("old key") != std::string::npos);
    CHECK(r.is_secure());

    atrest::any_master_key any(std::move(r));
    CHECK(any.open(by_old, aad).needs_reseal);
    CHECK(any.describe() == "new key");
    atrest::any_master_key insecure{atrest::plaintext_master_key{}};
    CHECK_FALSE(insecure.is_secure());
}

TEST_CASE("a new master key cannot be read or taken over through a planted temp file", "[master_key][failure]") {
    // The attack: another local user pre-creates PATH.tmp in a shared directory and holds it open,
    // hoping the key is written through it. Key files never go through a fixed name now.
    temp_dir dir;
    std::filesystem::permissions(dir.path(), std::filesystem::perms::all | std::filesystem::perms::sticky_bit);
    const auto key = dir / "master.key";
    int pipe_fds[2];
    REQUIRE(::pipe(pipe_fds) == 0);
    const pid_t attacker = ::fork();
    REQUIRE(attacker >= 0);
    if (attacker == 0) {  // as nobody: plant PATH.tmp, keep it open, report back, wait
        if (::setgid(65534) != 0 || ::setuid(65534) != 0) ::_exit(2);
        const int fd = ::open((key.string() + ".tmp").c_str(), O_RDWR | O_CREAT, 0666);
        char ok = fd >= 0 ? 'y' : 'n';
        (void)!::write(pipe_fds[1], &ok, 1);
        ::pause();
        ::_exit(0);
    }
    char ready = 0;
    REQUIRE(::read(pipe_fds[0], &ready, 1) == 1);
    REQUIRE(ready == 'y');
    atrest::generate_master_key_file(key);
    ::kill(attacker, SIGKILL);
    ::waitpid(attacker, nullptr, 0);
    struct ::stat st {}, planted {};
    REQUIRE(::stat(key.c_str(), &st) == 0);
    REQUIRE(::stat((key.string() + ".tmp").c_str(), &planted) == 0);
    CHECK(st.st_uid == ::geteuid());       // the key file is ours, not the attacker's
    CHECK((st.st_mode & 0777) == 0600);
    CHECK(st.st_ino != planted.st_ino);    // and not the planted file
    CHECK(planted.st_size == 0);           // which never saw a byte of the key
    CHECK(atrest::file_master_key<>(key).is_secure());
}

TEST_CASE("without O_TMPFILE a secret file gets a fresh exclusive name and leaves nothing behind", "[master_key]") {
    temp_dir dir;
    const auto path = dir / "secret";
    const std::vector<std::byte> text(65, std::byte{'a'});
    atrest::detail::posix::create_secret_file(path, text, false);
    CHECK(atrest::detail::posix::read_file_if_exists(path).value() == text);
    struct ::stat st {};
    REQUIRE(::stat(path.c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0600);
    CHECK(std::distance(std::filesystem::directory_iterator(dir.path()), {}) == 1);
    CHECK(expect_error([&] { atrest::detail::posix::create_secret_file(path, text, false); }).code() ==
          atrest::errc::already_exists);
    CHECK(expect_error([&] { atrest::detail::posix::create_secret_file(dir / "no-dir" / "x", text, false); }).code() ==
          atrest::errc::not_found);
}
