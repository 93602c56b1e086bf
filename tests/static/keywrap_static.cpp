// Which types model key_wrap_policy (and which do not), and that secret_bytes, which open()
// returns, cannot be printed or copied implicitly. Compiling is the test.
#include <atrest/cipher.hpp>
#include <atrest/keywrap.hpp>

#include <ostream>
#include <type_traits>

namespace {
struct wrap_without_open {
    static constexpr std::size_t key_size = 32, overhead = 28;
    static constexpr std::string_view name = "x";
    static std::vector<std::byte> seal(std::span<const std::byte>, std::span<const std::byte>, std::span<const std::byte>);
};
/// open() handing back plain bytes would let key material escape secret memory.
struct wrap_open_returns_vector {
    static constexpr std::size_t key_size = 32, overhead = 28;
    static constexpr std::string_view name = "x";
    static std::vector<std::byte> seal(std::span<const std::byte>, std::span<const std::byte>, std::span<const std::byte>);
    static std::vector<std::byte> open(std::span<const std::byte>, std::span<const std::byte>, std::span<const std::byte>);
};
template <class T>
concept printable = requires(std::ostream& os, const T& t) { os << t; };
}  // namespace

static_assert(atrest::key_wrap_policy<atrest::aes256_gcm_wrap>);
static_assert(atrest::aes256_gcm_wrap::key_size == 32 && atrest::aes256_gcm_wrap::overhead == 12 + 16);
static_assert(atrest::aes256_gcm_wrap::name == "aes256-gcm");
static_assert(!atrest::key_wrap_policy<wrap_without_open>);
static_assert(!atrest::key_wrap_policy<wrap_open_returns_vector>);
static_assert(!atrest::key_wrap_policy<atrest::aes128_ctr>);  // a cipher policy is not a key wrap
static_assert(!atrest::key_wrap_policy<int>);

static_assert(!printable<atrest::secret_bytes>);
static_assert(!std::is_copy_constructible_v<atrest::secret_bytes>);
static_assert(!std::is_copy_assignable_v<atrest::secret_bytes>);
static_assert(std::is_nothrow_move_constructible_v<atrest::secret_bytes>);
static_assert(std::is_nothrow_move_assignable_v<atrest::secret_bytes>);
static_assert(!std::is_convertible_v<std::size_t, atrest::secret_bytes>);  // no accidental secret_bytes(32)
