// Which types model master_key_source (and which do not). Compiling is the test.
#include <atrest/keywrap.hpp>
#include <atrest/master_key.hpp>

namespace {
struct source_without_describe {
    std::vector<std::byte> seal(std::span<const std::byte>, std::span<const std::byte>);
    atrest::unsealed open(std::span<const std::byte>, std::span<const std::byte>);
    bool is_secure() const;
};
/// open() must say whether a re-seal is needed, so a bare secret is not enough.
struct source_open_returns_secret {
    std::vector<std::byte> seal(std::span<const std::byte>, std::span<const std::byte>);
    atrest::secret_bytes open(std::span<const std::byte>, std::span<const std::byte>);
    std::string describe() const;
    bool is_secure() const;
};
}  // namespace

static_assert(atrest::master_key_source<atrest::file_master_key<>>);
static_assert(atrest::master_key_source<atrest::file_master_key<atrest::aes256_gcm_wrap>>);
static_assert(atrest::master_key_source<atrest::memory_master_key<>>);
static_assert(atrest::master_key_source<atrest::plaintext_master_key>);
static_assert(atrest::master_key_source<atrest::any_master_key>);
static_assert(atrest::master_key_source<atrest::with_previous<atrest::file_master_key<>, atrest::plaintext_master_key>>);
static_assert(atrest::master_key_source<
              atrest::with_previous<atrest::with_previous<atrest::memory_master_key<>, atrest::file_master_key<>>,
                                    atrest::plaintext_master_key>>);
static_assert(!atrest::master_key_source<source_without_describe>);
static_assert(!atrest::master_key_source<source_open_returns_secret>);
static_assert(!atrest::master_key_source<atrest::aes256_gcm_wrap>);  // a key wrap needs a key passed in
static_assert(!atrest::master_key_source<atrest::secret_bytes>);

static_assert(static_cast<std::uint8_t>(atrest::sealed_backend::plaintext) == 1);
static_assert(static_cast<std::uint8_t>(atrest::sealed_backend::local_key) == 2);
static_assert(static_cast<std::uint8_t>(atrest::sealed_backend::kms) == 3);
