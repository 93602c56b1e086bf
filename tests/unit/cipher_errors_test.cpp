// Methods, names and the documented errors of the cipher API.
#include "catch.hpp"
#include "expect_error.hpp"

#include <atrest/cipher.hpp>

#include <array>
#include <string>

using atrest_test::expect_error;

TEST_CASE("method names round-trip and numbers match TiKV's kvproto", "[cipher][method]") {
    CHECK(static_cast<int>(atrest::method::unknown) == 0);
    CHECK(static_cast<int>(atrest::method::plaintext) == 1);
    CHECK(static_cast<int>(atrest::method::aes128_ctr) == 2);
    CHECK(static_cast<int>(atrest::method::aes192_ctr) == 3);
    CHECK(static_cast<int>(atrest::method::aes256_ctr) == 4);
    CHECK(static_cast<int>(atrest::method::sm4_ctr) == 5);
    for (auto m : atrest::all_methods) CHECK(atrest::parse_method(atrest::to_string(m)) == m);
    CHECK(atrest::to_string(atrest::method::aes192_ctr) == "aes192-ctr");
    CHECK(atrest::to_string(atrest::method::sm4_ctr) == "sm4-ctr");
}

TEST_CASE("unknown method names are rejected with the bad value and the accepted ones", "[cipher][method]") {
    for (const char* bad : {"", "aes128", "AES128-CTR", "aes-128-ctr", "unknown", "sm4-ctr "}) {
        const auto e = expect_error([&] { (void)atrest::parse_method(bad); });
        CHECK(e.code() == atrest::errc::unknown_method);
        const std::string what = e.what();
        CHECK(what.find('"' + std::string(bad) + '"') != std::string::npos);
        CHECK(what.find("\"aes256-ctr\"") != std::string::npos);
        CHECK(what.find("\"plaintext\"") != std::string::npos);
    }
    CHECK(expect_error([] { (void)atrest::method_from_byte(9, "file.dict"); }).code() == atrest::errc::unknown_method);
    CHECK(expect_error([] { (void)atrest::method_from_byte(0, "file.dict"); }).code() == atrest::errc::unknown_method);
    CHECK(atrest::method_from_byte(4, "x") == atrest::method::aes256_ctr);
}

TEST_CASE("atrest::error is a std::system_error in the atrest category", "[error]") {
    const atrest::error e(atrest::errc::corrupt, "key.dict: truncated");
    const std::system_error& base = e;
    CHECK(base.code().category().name() == std::string("atrest"));
    CHECK(e.kind() == atrest::errc::corrupt);
    CHECK(std::string(e.what()).find("key.dict") != std::string::npos);
    CHECK(atrest::make_error_code(atrest::errc::wrong_key).message().find("wrong key") != std::string::npos);
}

TEST_CASE("wrong key and IV sizes are rejected", "[cipher]") {
    std::array<std::byte, 16> k16{};
    std::array<std::byte, 32> k32{};
    std::array<std::byte, 16> iv{};
    std::array<std::byte, 12> iv12{};
    CHECK(expect_error([&] { atrest::ctr_stream<atrest::aes256_ctr> s(k16, iv); }).code() == atrest::errc::invalid_key_size);
    CHECK(expect_error([&] { atrest::ctr_stream<atrest::aes128_ctr> s(k32, iv); }).code() == atrest::errc::invalid_key_size);
    CHECK(expect_error([&] { atrest::ctr_stream<atrest::sm4_ctr> s(k16, iv12); }).code() == atrest::errc::invalid_iv_size);
    CHECK(expect_error([&] { atrest::ctr_stream<atrest::plaintext> s(k16, {}); }).code() == atrest::errc::invalid_key_size);
    const auto e = expect_error([&] { atrest::ctr_stream<atrest::aes192_ctr> s(k16, iv); });
    CHECK(std::string(e.what()).find("24-byte key") != std::string::npos);
    atrest::ctr_stream<atrest::aes128_ctr> s(k16, iv);
    std::array<std::byte, 10> in{};
    std::array<std::byte, 9> out{};
    CHECK(expect_error([&] { s.apply(0, in, out); }).code() == atrest::errc::invalid_argument);
}

TEST_CASE("visit_method dispatches each runtime method to its policy", "[cipher][dispatch]") {
    for (auto m : atrest::all_methods) {
        const auto got = atrest::visit_method(m, []<class C>(C) { return C::id; });
        CHECK(got == m);
    }
    CHECK(atrest::visit_method(atrest::method::aes192_ctr, []<class C>(C) { return C::key_size; }) == 24);
    CHECK(expect_error([] { atrest::visit_method(atrest::method::unknown, [](auto) { return 0; }); }).code() ==
          atrest::errc::unknown_method);
    CHECK(expect_error([] { atrest::visit_method(static_cast<atrest::method>(77), [](auto) { return 0; }); }).code() ==
          atrest::errc::unknown_method);
}
