// The KMIP TTLV decoder and response reader (what a KMIP server, or anyone between it and us,
// sends). Every input is decoded or rejected with errc::kms — never a crash, a read past the end or
// an allocation of a claimed length; what decodes re-encodes to as many bytes and decodes again to
// the same item; a response is read or rejected with errc::kms.
#include "fuzz_support.hpp"

#include <atrest/kmip/kmip_client.hpp>
#include <atrest/kmip/ttlv.hpp>

#include <array>
#include <algorithm>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using atrest_fuzz::require;
    namespace k = atrest::kmip;
    const auto in = atrest_fuzz::bytes(data, size);
    if (size >= 8) {
        std::array<std::byte, 8> header{};
        std::copy_n(in.begin(), 8, header.begin());
        try {
            const std::size_t n = k::message_length(header);
            require(n >= 8 && n <= k::max_message_size, "a message length is within the limit");
        } catch (const atrest::error& e) {
            require(e.kind() == atrest::errc::kms, "a bad message header is errc::kms");
        }
    }
    atrest_fuzz::expect_only_atrest_errors([&] {
        try {
            const auto item = k::decode(in);
            const auto again = k::encode(item);
            require(again.size() == size, "a decoded message re-encodes to as many bytes");
            require(k::decode(again) == item, "a re-encoded message decodes to the same item");
            for (std::uint32_t op : {k::op::get, k::op::decrypt, k::op::discover_versions}) {
                try {
                    (void)k::kmip_client::parse_response(item, op);
                } catch (const atrest::error& e) {
                    require(e.kind() == atrest::errc::kms, "an unexpected response is errc::kms");
                }
            }
        } catch (const atrest::error& e) {
            require(e.kind() == atrest::errc::kms, "malformed TTLV is errc::kms");
            throw;
        }
    });
    return 0;
}
