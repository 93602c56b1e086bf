#pragma once
// Hex helpers for known-answer vectors in tests.
#include <cstddef>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace atrest_test {

inline std::vector<std::byte> from_hex(std::string_view hex) {
    auto nibble = [](char c) -> int {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        if (c >= 'A' && c <= 'F') return c - 'A' + 10;
        throw std::invalid_argument("bad hex digit");
    };
    std::vector<std::byte> out;
    std::string digits;
    for (char c : hex) {
        if (c != ' ' && c != '\n') digits += c;
    }
    if (digits.size() % 2 != 0) throw std::invalid_argument("odd hex length");
    for (std::size_t i = 0; i < digits.size(); i += 2) {
        out.push_back(static_cast<std::byte>(nibble(digits[i]) * 16 + nibble(digits[i + 1])));
    }
    return out;
}

inline std::string to_hex(const void* data, std::size_t n) {
    static constexpr char digits[] = "0123456789abcdef";
    std::string out;
    const auto* p = static_cast<const unsigned char*>(data);
    for (std::size_t i = 0; i < n; ++i) {
        out += digits[p[i] >> 4];
        out += digits[p[i] & 15];
    }
    return out;
}

template <class Container>
std::string to_hex(const Container& c) {
    return to_hex(c.data(), c.size());
}

}  // namespace atrest_test
