// Which types model atrest::external_key_source. Compiling is the test.
#include <atrest/master_key.hpp>
#include <atrest/object.hpp>

namespace {
/// No `recover`: could seal but never open again.
struct seal_only {
    atrest::sse_type type() const noexcept { return atrest::sse_type::sse_c; }
    atrest::secret_bytes issue(std::string_view, atrest::object_metadata&) { return atrest::secret_bytes(32); }
};
/// `type()` gives a string, not an SSE type.
struct string_type {
    std::string type() const { return "SSE-C"; }
    atrest::secret_bytes issue(std::string_view, atrest::object_metadata&) { return atrest::secret_bytes(32); }
    atrest::secret_bytes recover(const atrest::object_metadata&, std::string_view) { return atrest::secret_bytes(32); }
};
/// Gives the key as a plain vector, not secret memory.
struct vector_key {
    atrest::sse_type type() const noexcept { return atrest::sse_type::sse_c; }
    std::vector<std::byte> issue(std::string_view, atrest::object_metadata&) { return {}; }
    std::vector<std::byte> recover(const atrest::object_metadata&, std::string_view) { return {}; }
};
}  // namespace

static_assert(atrest::external_key_source<atrest::client_key>);
static_assert(atrest::external_key_source<atrest::kms_data_key<atrest::memory_master_key<>>>);
static_assert(atrest::external_key_source<atrest::kms_data_key<atrest::file_master_key<>>>);
static_assert(atrest::external_key_source<atrest::kms_data_key<atrest::any_master_key>>);
static_assert(!atrest::external_key_source<int>);
static_assert(!atrest::external_key_source<seal_only>);
static_assert(!atrest::external_key_source<string_type>);
static_assert(!atrest::external_key_source<vector_key>);
