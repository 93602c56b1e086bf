// The master-key file parser (TiKV's format: exactly 64 hex digits and "\n"). Every other file is
// errc::key_file_format; an accepted file decodes to exactly the key its digits spell.
#include "fuzz_support.hpp"

#include <atrest/master_key/file_master_key.hpp>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using atrest_fuzz::require;
    try {
        const auto key = atrest::detail::parse_master_key_file(atrest_fuzz::bytes(data, size), "fuzz/master.key");
        require(size == 65 && data[64] == '\n', "only 65-byte files ending in a newline are accepted");
        require(key.size() == 32, "a master key has 32 bytes");
        for (std::size_t i = 0; i < 32; ++i) {
            const int hi = atrest::detail::hex_value(std::byte{data[2 * i]});
            const int lo = atrest::detail::hex_value(std::byte{data[2 * i + 1]});
            require(hi >= 0 && lo >= 0, "every accepted digit is hex");
            require(key.bytes()[i] == std::byte(static_cast<std::uint8_t>(hi << 4 | lo)), "the key is the digits' value");
        }
    } catch (const atrest::error& e) {
        require(e.kind() == atrest::errc::key_file_format, "a bad key file is errc::key_file_format");
        require(std::string_view(e.what()).find("fuzz/master.key") != std::string_view::npos, "the message names the file");
        require(std::getenv("ATREST_FUZZ_EXPECT_OK") == nullptr, "a seed expected to parse was rejected");
    }
    return 0;
}
