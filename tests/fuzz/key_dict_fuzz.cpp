// key.dict: the file framing (decode_file), the master-key open and the sealed contents (parse),
// as the key manager reads them. The first input byte picks the path:
//   bit 0 set: the rest is unsealed contents, parsed directly;
//   bit 0 clear: the rest is a key.dict file; bit 1 set fixes its length field and CRC32C first so
//   mutations reach the seal; bit 2 set opens it with a fixed memory master key (seeds sealed under
//   it), else with the plaintext master key, whose "seal" is the contents behind one byte, so the
//   fuzzer reaches parse through the real file path.
// Property: whatever parse accepts, serialize writes and parse reads back equal.
#include "fuzz_support.hpp"

#include <atrest/detail/crc32c.hpp>
#include <atrest/detail/endian.hpp>
#include <atrest/dict/key_dictionary.hpp>
#include <atrest/master_key/memory_master_key.hpp>
#include <atrest/master_key/plaintext_master_key.hpp>

#include <algorithm>
#include <vector>

namespace {

bool same_bytes(const atrest::secret_bytes& a, const atrest::secret_bytes& b) {
    return std::equal(a.bytes().begin(), a.bytes().end(), b.bytes().begin(), b.bytes().end());
}

bool equal_states(const atrest::key_state& a, const atrest::key_state& b) {
    if (a.current_key_id != b.current_key_id || a.retired_ids != b.retired_ids || a.keys.size() != b.keys.size() ||
        !same_bytes(*a.file_dictionary_mac_key, *b.file_dictionary_mac_key)) {
        return false;
    }
    for (const auto& [id, k] : a.keys) {
        const auto it = b.keys.find(id);
        if (it == b.keys.end()) return false;
        const auto& o = it->second;
        if (k.id != o.id || k.method != o.method || k.creation_time != o.creation_time ||
            k.was_exposed != o.was_exposed || !same_bytes(*k.key, *o.key)) {
            return false;
        }
    }
    return true;
}

void parse_and_round_trip(std::span<const std::byte> contents) {
    namespace kd = atrest::detail::key_dict;
    const auto state = kd::parse(contents, "fuzz/key.dict");
    const auto again = kd::parse(kd::serialize(state).bytes(), "fuzz/key.dict (re-serialized)");
    atrest_fuzz::require(equal_states(state, again), "serialize(parse(x)) parses to the same key state");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    namespace kd = atrest::detail::key_dict;
    if (size == 0) return 0;
    const std::uint8_t mode = data[0];
    std::vector<std::byte> file(atrest_fuzz::bytes(data + 1, size - 1).begin(), atrest_fuzz::bytes(data + 1, size - 1).end());
    atrest_fuzz::expect_only_atrest_errors([&] {
        if ((mode & 1) != 0) {
            parse_and_round_trip(file);
            return;
        }
        if ((mode & 2) != 0 && file.size() >= kd::header_size + 4) {
            atrest::detail::store_le(file.data() + 12, static_cast<std::uint32_t>(file.size() - kd::header_size - 4));
            atrest::detail::store_le(file.data() + file.size() - 4,
                                     atrest::detail::crc32c(std::span(file).first(file.size() - 4)));
        }
        const auto sealed = kd::decode_file(file, "fuzz/key.dict");
        atrest_fuzz::require(sealed.size() + kd::header_size + 4 == file.size(), "decode_file returns the sealed part");
        const auto aad = kd::associated_data(std::span(file).first(kd::header_size));
        if ((mode & 4) != 0) {
            atrest::memory_master_key<> master(atrest::secret_bytes(std::vector<std::byte>(32, std::byte{0x11})));
            parse_and_round_trip(master.open(sealed, aad).data.bytes());
        } else {
            parse_and_round_trip(atrest::plaintext_master_key{}.open(sealed, aad).data.bytes());
        }
    });
    return 0;
}
