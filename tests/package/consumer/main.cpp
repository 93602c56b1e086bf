// Encrypts and decrypts one buffer through the public umbrella header; exit 0 on a round trip.
#include <atrest/atrest.hpp>

#include <array>
#include <cstdio>
#include <cstring>

int main() {
    std::array<std::byte, 16> key{};
    std::array<std::byte, 16> iv{};
    key[0] = std::byte{1};
    std::array<std::byte, 100> data{};
    std::array<std::byte, 100> orig{};
    std::memcpy(data.data(), "consumer round trip", 19);
    orig = data;
    return atrest::visit_method(atrest::parse_method("aes128-ctr"), [&]<class C>(C) {
        if constexpr (C::key_size == 16) {
            atrest::ctr_stream<C> s(key, iv);
            s.apply(7, data);
            if (data == orig) return 1;
            s.apply(7, data);
            std::puts(data == orig ? "consumer: round trip ok" : "consumer: mismatch");
            return data == orig ? 0 : 1;
        } else {
            return 1;
        }
    });
}
