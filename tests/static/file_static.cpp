// Which types model atrest::random_access_file and atrest::writable_file, and what
// encrypted_file offers over each. Compiling is the test.
#include <atrest/file.hpp>

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

namespace {

/// The smallest writable file: everything the concepts ask for, nothing else.
struct memory_file {
    std::size_t read_at(std::uint64_t, std::span<std::byte>) const { return 0; }
    std::uint64_t size() const { return 0; }
    std::string_view name() const { return "mem"; }
    std::size_t write_at(std::uint64_t, std::span<const std::byte> d) { return d.size(); }
    void sync() {}
    void truncate(std::uint64_t) {}
};

/// Reads only.
struct read_only {
    std::size_t read_at(std::uint64_t, std::span<std::byte>) const { return 0; }
    std::uint64_t size() const { return 0; }
    std::string_view name() const { return "ro"; }
};

/// read_at that is not const: one reader at a time is not enough for RocksDB's shared readers.
struct mutable_reader {
    std::size_t read_at(std::uint64_t, std::span<std::byte>) { return 0; }
    std::uint64_t size() const { return 0; }
    std::string_view name() const { return "x"; }
};

/// write_at with no way to report a short write.
struct void_writer {
    std::size_t read_at(std::uint64_t, std::span<std::byte>) const { return 0; }
    std::uint64_t size() const { return 0; }
    std::string_view name() const { return "x"; }
    void write_at(std::uint64_t, std::span<const std::byte>) {}
    void sync() {}
    void truncate(std::uint64_t) {}
};

/// No name: errors could not say which file.
struct nameless {
    std::size_t read_at(std::uint64_t, std::span<std::byte>) const { return 0; }
    std::uint64_t size() const { return 0; }
};

/// Writes but cannot sync: no durability barrier.
struct no_sync {
    std::size_t read_at(std::uint64_t, std::span<std::byte>) const { return 0; }
    std::uint64_t size() const { return 0; }
    std::string_view name() const { return "x"; }
    std::size_t write_at(std::uint64_t, std::span<const std::byte> d) { return d.size(); }
    void truncate(std::uint64_t) {}
};

template <class T>
concept can_append = requires(T& t, std::span<const std::byte> d, std::span<std::byte> m) {
    t.append(d);
    t.append_in_place(m);
    t.write_at(0, d);
    t.sync();
    t.truncate(0);
};

template <class T>
concept can_read = requires(const T& t, std::span<std::byte> out) {
    { t.read_at(0, out) } -> std::same_as<std::size_t>;
    { t.size() } -> std::same_as<std::uint64_t>;
};

}  // namespace

static_assert(atrest::random_access_file<atrest::posix_file>);
static_assert(atrest::writable_file<atrest::posix_file>);
static_assert(atrest::writable_file<memory_file>);
static_assert(atrest::random_access_file<read_only>);
static_assert(!atrest::writable_file<read_only>);
static_assert(!atrest::random_access_file<mutable_reader>);
static_assert(atrest::random_access_file<void_writer> && !atrest::writable_file<void_writer>);
static_assert(!atrest::random_access_file<nameless>);
static_assert(!atrest::writable_file<no_sync>);
static_assert(!atrest::random_access_file<int>);

// encrypted_file is itself not a file policy (no name(), and its write_at returns nothing since it
// never writes short), so it cannot be stacked by accident; it reads over any random_access_file
// and appends only over a writable_file.
using enc_posix = atrest::encrypted_file<atrest::aes128_ctr>;
using enc_ro = atrest::encrypted_file<atrest::sm4_ctr, read_only>;
static_assert(std::same_as<enc_posix::file_type, atrest::posix_file>);
static_assert(can_read<enc_posix> && can_append<enc_posix>);
static_assert(can_read<enc_ro> && !can_append<enc_ro>);
static_assert(can_append<atrest::encrypted_file<atrest::plaintext, memory_file>>);
static_assert(!atrest::writable_file<enc_posix>);

// Moves (into an engine's adapter), never copies (one key schedule, one scratch buffer).
static_assert(std::is_nothrow_move_constructible_v<enc_posix>);
static_assert(!std::is_copy_constructible_v<enc_posix>);

// authenticated_file has the same calls (plus flush), over the same file policies, and is not a
// file policy itself; it takes only authenticated methods, encrypted_file's CTR methods do not fit.
using auth_posix = atrest::authenticated_file<atrest::aes256_gcm_stream>;
using auth_ro = atrest::authenticated_file<atrest::aes128_gcm_stream, read_only>;
static_assert(std::same_as<auth_posix::file_type, atrest::posix_file>);
static_assert(can_read<auth_posix> && can_append<auth_posix>);
static_assert(can_read<auth_ro> && !can_append<auth_ro>);
static_assert(requires(auth_posix& f) { f.flush(); } && requires(enc_posix& f) { f.flush(); });
static_assert(!atrest::writable_file<auth_posix>);
static_assert(std::is_move_constructible_v<auth_posix> && !std::is_copy_constructible_v<auth_posix>);

template <class C>
concept authenticated_file_of = requires { typename atrest::authenticated_file<C>; sizeof(atrest::authenticated_file<C>); };
static_assert(!authenticated_file_of<atrest::aes256_ctr>);
static_assert(authenticated_file_of<atrest::aes256_gcm_stream>);
