// Quickstart: pick each method from its config name once, encrypt a buffer as the bytes at a
// random file offset, decrypt it again from that offset, and show the round trip.
#include <atrest/atrest.hpp>
#include <atrest/detail/botan_compat.hpp>

#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

namespace {

std::string hex_prefix(const std::vector<std::byte>& v, std::size_t n) {
    static constexpr char digits[] = "0123456789abcdef";
    std::string out;
    for (std::size_t i = 0; i < n && i < v.size(); ++i) {
        const auto b = static_cast<unsigned>(v[i]);
        out += digits[b >> 4];
        out += digits[b & 15];
    }
    return out;
}

}  // namespace

int main() {
    const std::string_view message = "Storage engines write blocks; atrest encrypts them at any offset.";
    auto& rng = atrest::detail::botan_compat::system_rng();
    std::uint64_t offset = 0;
    rng.randomize(reinterpret_cast<std::uint8_t*>(&offset), sizeof offset);
    offset %= (1ull << 40);  // somewhere in the first terabyte of a file

    int failures = 0;
    for (const char* name : {"plaintext", "aes128-ctr", "aes192-ctr", "aes256-ctr", "sm4-ctr"}) {
        const atrest::method m = atrest::parse_method(name);  // config string -> method, once
        atrest::visit_method(m, [&]<class Cipher>(Cipher) {   // method -> compile-time policy, once
          if constexpr (!atrest::authenticated_policy<Cipher>) {  // (sealed files: docs/aead.md)
            std::vector<std::byte> key(Cipher::key_size), iv(Cipher::iv_size);
            rng.randomize(reinterpret_cast<std::uint8_t*>(key.data()), key.size());
            rng.randomize(reinterpret_cast<std::uint8_t*>(iv.data()), iv.size());
            const atrest::ctr_stream<Cipher> stream(key, iv);

            std::vector<std::byte> data(message.size());
            std::memcpy(data.data(), message.data(), message.size());
            stream.apply(offset, data);  // encrypt in place: same length as the plaintext
            const std::string cipher_hex = hex_prefix(data, 12);
            stream.apply(offset, data);  // decrypt in place
            const bool ok = std::memcmp(data.data(), message.data(), message.size()) == 0;
            failures += ok ? 0 : 1;
            std::printf("%-11s offset %-14llu %zu bytes  ciphertext %s...  round trip %s\n", name,
                        static_cast<unsigned long long>(offset), data.size(), cipher_hex.c_str(), ok ? "ok" : "FAILED");
          }
        });
    }
    return failures == 0 ? 0 : 1;
}
