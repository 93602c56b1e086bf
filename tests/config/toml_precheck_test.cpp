// The check parse_toml_config runs before toml++: every byte class it rejects (with file, line
// and column), the two inputs that crash Debian's toml++ 3.3.0 ("[\x01" asserts, "EF BB 9F"
// reaches __builtin_unreachable), and valid TOML that must still parse — UTF-8 in strings,
// comments and quoted keys, a BOM, CRLF, every escape, multi-line strings.
#include "catch.hpp"
#include "expect_error.hpp"
#include "temp_dir.hpp"

#include <atrest/config/toml_config.hpp>

#include <fstream>
#include <initializer_list>
#include <string>
#include <string_view>

using namespace std::chrono_literals;
using atrest::errc;

namespace {

void rejected(std::string_view toml, std::initializer_list<std::string_view> parts) {
    INFO(atrest::detail::quoted(toml));
    atrest_test::require_error([&] { (void)atrest::parse_toml_config(toml, "bad.toml"); }, errc::config, parts);
}

/// A config whose only setting is the method, with `extra` (comments, other tables) around it.
atrest::encryption_config parse_with(std::string_view before, std::string_view after = "") {
    const std::string text = std::string(before) + "[security.encryption]\ndata-encryption-method = \"plaintext\"\n" +
                             std::string(after);
    INFO(atrest::detail::quoted(text));
    return atrest::parse_toml_config(text, "good.toml");
}

}  // namespace

TEST_CASE("TOML pre-check: the two inputs that crash toml++ 3.3.0 are config errors", "[config][toml]") {
    rejected("[\x01", {"bad.toml:1:2:", "invalid TOML", "a table header must start with a key"});
    rejected("\xef\xbb\x9f", {"bad.toml:1:1:", "non-ASCII character U+FEDF outside a string or comment"});
    // The same families: a header that does not start with a key, and non-ASCII where toml++
    // asks whether it is whitespace.
    rejected("[&", {"bad.toml:1:2:", "a table header must start with a key"});
    rejected("[[[a]]]", {"bad.toml:1:3:", "a table header must start with a key"});
    rejected("[[=", {"bad.toml:1:3:", "table header"});
    rejected("x = 1\n  [ .a]\n", {"bad.toml:2:5:", "table header"});
    rejected("a = 1\xc3\xa9\n", {"bad.toml:1:6:", "U+00E9 outside a string"});
    rejected("\xe3\x80\x82", {"U+3002"});
    rejected("a = \"\"\"\\\xc3\xa9\"\"\"\n", {"bad.toml:1:9:", "invalid escape"});
    rejected("a = \"\"\"\\\n   \xe3\x81\x82\"\"\"\n", {"bad.toml:2:4:", "U+3042 right after a line-ending backslash"});
    rejected("a = \"\"\"\\ \xc3\xa9\"\"\"\n", {"bad.toml:1:10:", "line-ending backslash"});
}

TEST_CASE("TOML pre-check: load_toml_config runs it on the file's bytes", "[config][toml]") {
    atrest_test::temp_dir dir;
    const auto path = dir / "tikv.toml";
    for (std::string_view bytes : {std::string_view("[\x01"), std::string_view("\xef\xbb\x9f")}) {
        {
            std::ofstream out(path, std::ios::binary | std::ios::trunc);
            out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
        }
        atrest_test::require_error([&] { (void)atrest::load_toml_config(path); }, errc::config,
                                   {path.string() + ":1:", "invalid TOML"});
    }
}

TEST_CASE("TOML pre-check: invalid UTF-8 is rejected with its position", "[config][toml]") {
    rejected("# \x80\n", {"bad.toml:1:3:", "invalid UTF-8 at byte 0x80"});                 // stray continuation
    rejected("a = \"\xc3\"\n", {"bad.toml:1:6:", "invalid UTF-8 at byte 0xC3"});           // truncated
    rejected("a = \"\xc0\xaf\"\n", {"invalid UTF-8 at byte 0xC0"});                         // overlong '/'
    rejected("a = \"\xe0\x80\xaf\"\n", {"invalid UTF-8 at byte 0xE0"});                     // overlong, 3 bytes
    rejected("a = \"\xf0\x82\x82\xac\"\n", {"invalid UTF-8 at byte 0xF0"});                 // overlong, 4 bytes
    rejected("a = \"\xed\xa0\x80\"\n", {"invalid UTF-8 at byte 0xED"});                     // surrogate U+D800
    rejected("a = \"\xf4\x90\x80\x80\"\n", {"invalid UTF-8 at byte 0xF4"});                 // U+110000
    rejected("a = \"\xf8\x88\x80\x80\x80\"\n", {"invalid UTF-8 at byte 0xF8"});             // 5-byte form
    rejected("a = 'x'\nb = '\xff'\n", {"bad.toml:2:6:", "invalid UTF-8 at byte 0xFF (offset 13)"});
}

TEST_CASE("TOML pre-check: control characters other than tab, LF and CRLF are rejected", "[config][toml]") {
    for (char c = 0; c < 0x20; ++c) {
        if (c == '\t' || c == '\n' || c == '\r') continue;
        const std::string where[] = {std::string("a = 1") + c + "\n", std::string("# x") + c + "\n",
                                     std::string("a = \"x") + c + "\"\n", std::string("a = '''x") + c + "'''\n"};
        for (const auto& text : where) rejected(text, {"bad.toml:1:", "control character U+00", "tab, LF and CRLF"});
    }
    rejected("a = \"\x7f\"\n", {"bad.toml:1:6:", "control character U+007F"});
    rejected("a = 1\r# x\n", {"bad.toml:1:6:", "carriage return (U+000D) without a line feed"});
    rejected("a = 1\n\r", {"bad.toml:2:1:", "carriage return"});
    rejected(std::string_view("a = \"\0\"\n", 8), {"control character U+0000"});
}

TEST_CASE("TOML pre-check: a BOM counts only as the first three bytes", "[config][toml]") {
    const auto c = parse_with("\xef\xbb\xbf");
    CHECK(c.data_encryption_method == atrest::method::plaintext);
    CHECK(atrest::detail::checked_toml_text("\xef\xbb\xbf" "a = 1", "t") == "a = 1");
    rejected("\xef\xbb\xbf\xef\xbb\xbf" "a = 1", {"bad.toml:1:1:", "U+FEFF outside a string"});
    rejected("a = 1\n\xef\xbb\xbf", {"bad.toml:2:1:", "U+FEFF"});
    rejected("\xef\xbb", {"invalid UTF-8 at byte 0xEF"});
    // Inside a string it is an ordinary character.
    CHECK(atrest::parse_toml_config("[security.encryption.master-key]\ntype = \"file\"\npath = \"/k\xef\xbb\xbf\"\n", "t")
              .master_key->path == "/k\xef\xbb\xbf");
}

TEST_CASE("TOML pre-check: invalid escapes are rejected, TOML 1.0's all parse", "[config][toml]") {
    rejected("a = \"\\q\"\n", {"bad.toml:1:7:", "invalid escape sequence"});
    rejected("a = \"\\x41\"\n", {"invalid escape sequence"});  // TOML 1.1, not 1.0
    rejected("a = \"\\e\"\n", {"invalid escape sequence"});
    rejected("a = \"\\ \"\n", {"invalid escape sequence"});    // line-ending backslash is multi-line only
    const auto c = atrest::parse_toml_config(
        "[security.encryption.master-key]\ntype = \"file\"\n"
        "path = \"/k/\\b\\t\\n\\f\\r\\\"\\\\\\u00e9\\U0001F600\"\n",
        "t");
    CHECK(c.master_key->path == "/k/\b\t\n\f\r\"\\\xc3\xa9\xf0\x9f\x98\x80");
    // Backslashes in literal strings are not escapes.
    CHECK(atrest::parse_toml_config("[security.encryption.master-key]\ntype = \"file\"\npath = 'C:\\q\\x'\n", "t")
              .master_key->path == "C:\\q\\x");
}

TEST_CASE("TOML pre-check: valid UTF-8 TOML still parses", "[config][toml]") {
    // Comments in any script (TiKV's users write Chinese ones), CRLF line ends, a quoted
    // non-ASCII key in another table, multi-line strings with quotes and line-ending backslashes.
    const std::string text =
        "# 加密配置 — configuración — конфигурация 🔐\r\n"
        "[server]\r\n"
        "labels = { \"zone\" = \"東京\", \"région\" = 'Île-de-France' } # ünïcödé\r\n"
        "\"ключ\" = \"\"\"\r\n"
        "многострочный \"текст\" \"\"с\"\" кавычками\"\"\"\r\n"
        "literal = '''\r\n"
        "行 'one' ''two'' \\ 原文'''\r\n"
        "folded = \"\"\"\\\r\n"
        "     ASCII first, then 日本語 \\\r\n"
        "\r\n"
        "   \\u00e9 \"\"\"\r\n"
        "nested = [[1, 2], [\"三\", '四'], { a = [ { b = \"五\" } ] }]\r\n"
        "[security.encryption] # 安全\r\n"
        "data-encryption-method = \"aes256-ctr\" # 方法\r\n"
        "data-key-rotation-period = \" 1.5h \"\r\n"
        "[security.encryption.master-key]\r\n"
        "type = \"file\"\r\n"
        "path = \"/run/密钥/master.key\"\r\n"
        "[[arrays]]\r\n"
        "[ \"quoted header é\" . x ]\r\n";
    const auto c = atrest::parse_toml_config(text, "utf8.toml");
    CHECK(c.data_encryption_method == atrest::method::aes256_ctr);
    CHECK(c.data_key_rotation_period == 5400s);
    CHECK(c.master_key->path == "/run/密钥/master.key");
    // The same text with LF line ends and a BOM.
    std::string lf;
    for (char ch : text) {
        if (ch != '\r') lf += ch;
    }
    CHECK(atrest::parse_toml_config("\xef\xbb\xbf" + lf, "utf8.toml") == c);
    // Characters whose low byte is a quote, backslash, '#', '[' or newline are not those (the
    // fuzzer found the check looping on U+0422 "Т" in a multi-line string, whose low byte is '"').
    for (std::string_view ch : {"\xd0\xa2", "\xc4\xa2", "\xc4\xa7", "\xc5\x9c", "\xc4\x8a", "\xc4\xa3", "\xc5\x9b"}) {
        const std::string value = std::string(ch) + "x" + std::string(ch);
        for (const std::string& text : {"a = \"" + value + "\"\n", "a = '" + value + "'\n", "a = \"\"\"" + value + "\"\"\"\n",
                                        "a = '''" + value + "'''\n", "# " + value + "\n", "\"" + value + "\" = 1\n"}) {
            CHECK(parse_with("[t]\n" + text).data_encryption_method == atrest::method::plaintext);
        }
    }
    // 4-byte characters, U+FFFF and U+10FFFF in strings.
    CHECK(parse_with("a = \"\xf0\x9f\x98\x80 \xef\xbf\xbf \xf4\x8f\xbf\xbf\"\n").data_encryption_method ==
          atrest::method::plaintext);
}

TEST_CASE("TOML pre-check: syntax errors after the check are still toml++'s, located", "[config][toml]") {
    // Things the check lets through must reach toml++ and fail there, not crash.
    for (std::string_view text : {"[", "[[", "[ ]", "[a", "a = \"x", "a = '''x", "a = \"\"\"x\\", "a = [1,\n[&]",
                                  "a = {\n[&", "a = \"\\", "[\"a\" b]"}) {
        INFO(atrest::detail::quoted(text));
        const auto e = atrest_test::expect_error([&] { (void)atrest::parse_toml_config(text, "t.toml"); });
        CHECK(e.kind() == errc::config);
        CHECK(std::string_view(e.what()).starts_with("t.toml:"));
    }
}
