// TTLV known answers: the primitive encodings of the KMIP 1.x specification (section 9.1.2, tag
// 0x420020) and the Get request of the KMIP 1.x test cases as PyKMIP's tests spell it; round trips;
// and every kind of malformed input is a typed error naming what and where, never a crash or an
// allocation of a claimed length.
#include "catch.hpp"
#include "expect_error.hpp"
#include "hex.hpp"

#include <atrest/kmip/kmip_client.hpp>
#include <atrest/kmip/ttlv.hpp>

#include <string>
#include <vector>

namespace {

namespace k = atrest::kmip;
template <class F>
void expect_error(F&& f, atrest::errc kind, const std::string& part) {
    atrest_test::require_error(std::forward<F>(f), kind, {part});
}

std::vector<std::byte> bytes_of(const std::string& hex) { return atrest_test::from_hex(hex); }
std::string hex_of(const std::vector<std::byte>& b) { return atrest_test::to_hex(b.data(), b.size()); }

void known_answer(const k::item& i, const std::string& hex) {
    INFO(hex);
    CHECK(hex_of(k::encode(i)) == hex);
    CHECK(k::decode(bytes_of(hex)) == i);
}

}  // namespace

TEST_CASE("TTLV: the specification's primitive encodings", "[ttlv]") {
    constexpr std::uint32_t t = 0x420020;
    known_answer(k::integer(t, 8), "42002002000000040000000800000000");
    known_answer(k::long_integer(t, 123456789000000000), "420020030000000801b69b4ba5749200");
    known_answer(k::big_integer(t, bytes_of("0000000003fd35eb6bc2df4618080000")),
                 "42002004000000100000000003fd35eb6bc2df4618080000");
    known_answer(k::enumeration(t, 255), "4200200500000004000000ff00000000");
    known_answer(k::boolean(t, true), "42002006000000080000000000000001");
    known_answer(k::text_string(t, "Hello World"), "420020070000000b48656c6c6f20576f726c640000000000");
    known_answer(k::byte_string(t, bytes_of("010203")), "42002008000000030102030000000000");
    known_answer(k::date_time(t, 0x47DA67F8), "42002009000000080000000047da67f8");  // Fri 14 Mar 2008 11:56:40 GMT
    known_answer(k::interval(t, 864000), "4200200a00000004000d2f0000000000");     // ten days
    known_answer(k::structure(t, {k::enumeration(0x420004, 254), k::integer(0x420005, 255)}),
                 "42002001000000204200040500000004000000fe000000004200050200000004000000ff00000000");
    known_answer(k::integer(t, -1), "4200200200000004ffffffff00000000");
}

TEST_CASE("TTLV: the KMIP 1.x test cases' Get request, byte for byte", "[ttlv]") {
    // RequestMessage{ RequestHeader{ ProtocolVersion 1.1, BatchCount 1 },
    //                 BatchItem{ Operation Get, RequestPayload{ UniqueIdentifier "49a1ca88-…" } } }
    const std::string get =
        "42007801000000904200770100000038420069010000002042006a0200000004000000010000000042006b02000000040000"
        "00010000000042000d0200000004000000010000000042000f010000004842005c0500000004000000"
        "0a00000000420079010000003042009407000000243439613163613838"
        "2d366265612d346662322d623435302d37653538383032633330333800000000";
    const auto request = k::kmip_client::request({1, 1}, k::op::get,
                                                 {k::text_string(k::tag::unique_identifier, "49a1ca88-6bea-4fb2-b450-7e58802c3038")});
    CHECK(hex_of(k::encode(request)) == get);
    const auto back = k::decode(bytes_of(get));
    CHECK(back == request);
    const auto* payload = back.find(k::tag::batch_item)->find(k::tag::request_payload);
    REQUIRE(payload != nullptr);
    CHECK(payload->find(k::tag::unique_identifier)->text() == "49a1ca88-6bea-4fb2-b450-7e58802c3038");
    std::array<std::byte, 8> header{};
    std::copy_n(bytes_of(get).begin(), 8, header.begin());
    CHECK(k::message_length(header) == 0x98);
}

TEST_CASE("TTLV: round trips of nested structures and every string length", "[ttlv]") {
    for (std::size_t n = 0; n <= 17; ++n) {
        const std::string text(n, 'x');
        const auto i = k::structure(k::tag::batch_item, {k::text_string(k::tag::name_value, text),
                                                         k::byte_string(k::tag::data, std::vector<std::byte>(n, std::byte{7})),
                                                         k::structure(k::tag::attribute, {}), k::boolean(k::tag::state, false)});
        const auto encoded = k::encode(i);
        CHECK(encoded.size() % 8 == 0);
        CHECK(k::decode(encoded) == i);
    }
}

TEST_CASE("TTLV: malformed input is errc::kms naming what and where", "[ttlv]") {
    auto bad = [](const std::string& hex, const std::string& part) {
        INFO(hex);
        expect_error([&] { (void)k::decode(bytes_of(hex)); }, atrest::errc::kms, part);
    };
    bad("", "truncated item header");
    bad("42002002000000", "truncated item header");
    bad("43002002000000040000000800000000", "not a KMIP tag");
    bad("4200200b000000040000000800000000", "unknown item type 11");
    bad("42002002000000080000000800000000", "has length 8, not 4");
    bad("420020020000000400000008", "Integer 0x420020 needs 8 bytes but 4 remain");
    bad("42002006000000080000000000000002", "not 0 or 1");
    bad("42002004000000030102030000000000", "not a positive multiple of 8");
    bad("4200200700000010414243", "needs 16 bytes but 3 remain");
    bad("42002007fffffff0414243", "needs 4294967280 bytes but 3 remain");  // a huge length: no allocation
    bad("42002001000000084200200200000004", "needs 8 bytes but 0 remain");
    bad("42002001000000050000000000000000", "not a multiple of 8");
    bad("4200200200000004000000080000000000", "bytes after the message");
    // A structure whose child claims more than the structure holds.
    bad("420020010000001042002007000000104142434400000000", "remain");
    // Nesting deeper than the limit.
    std::vector<std::byte> nested;
    for (int i = 0; i < 20; ++i) {
        const std::size_t len = static_cast<std::size_t>(19 - i) * 8;
        for (auto b : {0x42, 0x00, 0x20, 0x01}) nested.push_back(static_cast<std::byte>(b));
        for (int s = 24; s >= 0; s -= 8) nested.push_back(static_cast<std::byte>((len >> s) & 0xff));
    }
    expect_error([&] { (void)k::decode(nested); }, atrest::errc::kms, "nested deeper than 16");
    // The message header: wrong tag, not a structure, a length past the limit.
    auto header = [](const std::string& hex) {
        std::array<std::byte, 8> h{};
        const auto b = bytes_of(hex);
        std::copy_n(b.begin(), 8, h.begin());
        return h;
    };
    expect_error([&] { (void)k::message_length(header("4200200100000010")); }, atrest::errc::kms, "not a Request or Response");
    expect_error([&] { (void)k::message_length(header("42007b0200000010")); }, atrest::errc::kms, "not a Structure");
    expect_error([&] { (void)k::message_length(header("42007b01ffffffff")); }, atrest::errc::kms, "the limit is 1 MiB");
    CHECK(k::message_length(header("42007b0100000010")) == 24);
}

TEST_CASE("TTLV: responses that are not what was asked are errc::kms", "[ttlv]") {
    using c = k::kmip_client;
    const auto header = k::structure(k::tag::response_header, {k::integer(k::tag::batch_count, 1)});
    auto response = [&](std::vector<k::item> batch) {
        return k::structure(k::tag::response_message, {header, k::structure(k::tag::batch_item, std::move(batch))});
    };
    expect_error([&] { (void)c::parse_response(k::structure(k::tag::request_message, {}), k::op::get); }, atrest::errc::kms,
                 "not a Response Message");
    expect_error([&] { (void)c::parse_response(response({}), k::op::get); }, atrest::errc::kms, "no Result Status");
    expect_error([&] { (void)c::parse_response(response({k::enumeration(k::tag::operation, k::op::encrypt),
                                                         k::enumeration(k::tag::result_status, 0)}),
                                               k::op::get); },
                 atrest::errc::kms, "answers operation 31, not 10");
    const auto [payload, refusal] = c::parse_response(
        response({k::enumeration(k::tag::operation, k::op::get), k::enumeration(k::tag::result_status, 1),
                  k::enumeration(k::tag::result_reason, k::reason::item_not_found), k::text_string(k::tag::result_message, "gone")}),
        k::op::get);
    REQUIRE(refusal);
    CHECK(refusal->reason == k::reason::item_not_found);
    CHECK(refusal->message == "gone");
    const auto [ok, none] = c::parse_response(
        response({k::enumeration(k::tag::operation, k::op::get), k::enumeration(k::tag::result_status, 0),
                  k::structure(k::tag::response_payload, {k::text_string(k::tag::unique_identifier, "7")})}),
        k::op::get);
    CHECK_FALSE(none);
    CHECK(ok.find(k::tag::unique_identifier)->text() == "7");
}
