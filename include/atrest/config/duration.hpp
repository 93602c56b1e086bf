#pragma once
/// Durations as TiKV's config reads them (tikv_util's `ReadableDuration`): "168h", "7d", "1.5h",
/// "1h30m", "500ms", " 30m ". The grammar and the arithmetic are TiKV's, so a value TiKV accepts
/// means the same here; the few things TiKV lets through that can only be typos (a minus sign,
/// `inf`/`nan`, empty text, overflow) are refused with the reason, because a rotation period that
/// silently became 0 or 584 942 years would weaken or stall key rotation.

#include <atrest/error.hpp>

#include <array>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>

namespace atrest {

/// What `parse_duration` accepts, for error messages and help texts.
inline constexpr std::string_view accepted_durations =
    "numbers (fractions allowed) each followed by a unit d, h, m, s, ms or us, largest unit first, each at most "
    "once (e.g. \"168h\", \"7d\", \"1.5h\", \"1h30m\", \"500ms\")";

namespace detail {

/// `text` in double quotes with control and non-ASCII bytes escaped, so an error message shows
/// exactly what was read (a stray tab or NUL is visible) and never breaks a log line.
[[nodiscard]] inline std::string quoted(std::string_view text) {
    static constexpr std::string_view digits = "0123456789abcdef";
    std::string out = "\"";
    for (char c : text) {
        const auto u = static_cast<unsigned char>(c);
        if (c == '"' || c == '\\') {
            out += '\\';
            out += c;
        } else if (c == '\n') {
            out += "\\n";
        } else if (c == '\t') {
            out += "\\t";
        } else if (u < 0x20 || u >= 0x7f) {
            out += "\\x";
            out += digits[u >> 4];
            out += digits[u & 0xf];
        } else {
            out += c;
        }
    }
    out += '"';
    return out;
}

struct duration_unit final {
    std::string_view symbol;
    std::int64_t micros;
};
/// Largest first; a duration names each at most once, in this order (TiKV's rule).
inline constexpr std::array<duration_unit, 6> duration_units = {
    duration_unit{"d", 86'400'000'000}, duration_unit{"h", 3'600'000'000}, duration_unit{"m", 60'000'000},
    duration_unit{"s", 1'000'000},      duration_unit{"ms", 1'000},        duration_unit{"us", 1}};

/// The UTF-8 encodings of Unicode's White_Space characters, which TiKV (Rust's `str::trim`)
/// strips from both ends of a duration: "\t\n\v\f\r ", U+0085, U+00A0, U+1680, U+2000-U+200A,
/// U+2028, U+2029, U+202F, U+205F, U+3000.
[[nodiscard]] inline std::size_t unicode_space_at(std::string_view text, bool at_end) {
    static constexpr std::array<std::string_view, 25> spaces = {
        "\t", "\n", "\v", "\f", "\r", " ", "\xc2\x85", "\xc2\xa0", "\xe1\x9a\x80", "\xe2\x80\x80",
        "\xe2\x80\x81", "\xe2\x80\x82", "\xe2\x80\x83", "\xe2\x80\x84", "\xe2\x80\x85", "\xe2\x80\x86",
        "\xe2\x80\x87", "\xe2\x80\x88", "\xe2\x80\x89", "\xe2\x80\x8a", "\xe2\x80\xa8", "\xe2\x80\xa9",
        "\xe2\x80\xaf", "\xe2\x81\x9f", "\xe3\x80\x80"};
    for (std::string_view s : spaces) {
        if (at_end ? text.ends_with(s) : text.starts_with(s)) return s.size();
    }
    return 0;
}

[[nodiscard]] constexpr bool is_ascii_space(char c) noexcept {
    return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}
[[nodiscard]] constexpr bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }

/// Whether `number` (already trimmed) is a finite decimal number as Rust's `f64::from_str`
/// reads it: digits with an optional '.', at least one digit, optional exponent, optional '+'.
/// Sets `why` for the cases TiKV accepts but atrest refuses (a sign, inf, nan).
[[nodiscard]] inline bool is_decimal_number(std::string_view number, std::string& why) {
    std::size_t i = 0;
    if (!number.empty() && number[0] == '-') {
        why = "negative numbers are not accepted";
        return false;
    }
    if (!number.empty() && number[0] == '+') ++i;
    std::string lower;
    for (char c : number.substr(i)) lower += static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
    if (lower == "inf" || lower == "infinity" || lower == "nan") {
        why = "only finite numbers are accepted";
        return false;
    }
    std::size_t digits = 0;
    while (i < number.size() && is_digit(number[i])) ++i, ++digits;
    if (i < number.size() && number[i] == '.') {
        ++i;
        while (i < number.size() && is_digit(number[i])) ++i, ++digits;
    }
    if (digits == 0) return false;
    if (i < number.size() && (number[i] == 'e' || number[i] == 'E')) {
        ++i;
        if (i < number.size() && (number[i] == '+' || number[i] == '-')) ++i;
        std::size_t exponent_digits = 0;
        while (i < number.size() && is_digit(number[i])) ++i, ++exponent_digits;
        if (exponent_digits == 0) return false;
    }
    return i == number.size();
}

/// The parsed duration, or nullopt with `why` saying what is wrong (position included). TiKV's
/// algorithm: trim; split at each unit letter; each number is an f64 (trimmed, so "1h 30m" is
/// fine) times its unit in microseconds, summed in f64 and truncated to whole microseconds.
[[nodiscard]] inline std::optional<std::chrono::microseconds> try_parse_duration(std::string_view text,
                                                                                 std::string& why) {
    std::size_t start = 0;
    std::size_t end = text.size();
    while (const auto n = unicode_space_at(text.substr(start, end - start), false)) start += n;
    while (const auto n = unicode_space_at(text.substr(start, end - start), true)) end -= n;
    if (start == end) {
        why = "empty";
        return std::nullopt;
    }
    for (std::size_t i = start; i < end; ++i) {
        if (static_cast<unsigned char>(text[i]) >= 0x80) {
            why = "non-ASCII character at position " + std::to_string(i);
            return std::nullopt;
        }
    }
    double total = 0;  // microseconds, as TiKV sums them
    std::size_t next_unit = 0;
    std::size_t pos = start;
    while (pos < end) {
        std::size_t unit_at = pos;
        while (unit_at < end && std::string_view("dhmsu").find(text[unit_at]) == std::string_view::npos) ++unit_at;
        std::size_t number_start = pos;
        std::size_t number_end = unit_at;
        while (number_start < number_end && is_ascii_space(text[number_start])) ++number_start;
        while (number_end > number_start && is_ascii_space(text[number_end - 1])) --number_end;
        const std::string_view number = text.substr(number_start, number_end - number_start);
        if (unit_at == end) {
            std::size_t unknown = number_start;  // past what could be a number: an unknown unit
            while (unknown < number_end && std::string_view("0123456789.+-eE").find(text[unknown]) != std::string_view::npos) {
                ++unknown;
            }
            why = unknown == number_end
                      ? "number " + quoted(number) + " at position " + std::to_string(number_start) + " has no unit"
                      : "unknown unit " + quoted(text.substr(unknown, number_end - unknown)) + " at position " +
                            std::to_string(unknown);
            return std::nullopt;
        }
        std::size_t index = duration_units.size();  // the longest symbol there: "ms" is not "m"
        for (std::size_t i = 0; i < duration_units.size(); ++i) {
            const std::string_view symbol = duration_units[i].symbol;
            if (text.substr(unit_at, end - unit_at).starts_with(symbol) &&
                (index == duration_units.size() || symbol.size() > duration_units[index].symbol.size())) {
                index = i;
            }
        }
        if (index == duration_units.size()) {
            why = "unknown unit " + quoted(text.substr(unit_at, 1)) + " at position " + std::to_string(unit_at);
            return std::nullopt;
        }
        const std::string_view unit = duration_units[index].symbol;
        if (index < next_unit) {
            why = "unit " + quoted(unit) + " at position " + std::to_string(unit_at) +
                  " repeats or follows a smaller unit";
            return std::nullopt;
        }
        next_unit = index + 1;
        if (number.empty()) {
            why = "expected a number before unit " + quoted(unit) + " at position " + std::to_string(unit_at);
            return std::nullopt;
        }
        std::string number_why;
        if (!is_decimal_number(number, number_why)) {
            why = "invalid number " + quoted(number) + " at position " + std::to_string(number_start) +
                  (number_why.empty() ? "" : ": " + number_why);
            return std::nullopt;
        }
        const std::string_view digits = number[0] == '+' ? number.substr(1) : number;
        double value = 0;
        const auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
        if (ec != std::errc{} || ptr != digits.data() + digits.size()) {  // only "1e400"-like, after the check
            why = "number " + quoted(number) + " at position " + std::to_string(number_start) +
                  " is out of range";
            return std::nullopt;
        }
        total += value * static_cast<double>(duration_units[index].micros);
        pos = unit_at + unit.size();
    }
    if (!(total < 9'223'372'036'854'775'808.0)) {  // 2^63: what int64 microseconds can hold
        why = "too large (the limit is " + std::to_string(INT64_MAX) + " microseconds, about 292 271 years)";
        return std::nullopt;
    }
    return std::chrono::microseconds(static_cast<std::int64_t>(total));  // truncates, as TiKV does
}

}  // namespace detail

/// Parses what TiKV's config accepts as a duration: "168h", "7d", "30m", "1h30m", "1.5h", "500ms",
/// "1d2h3m4s5ms6us", " 1h " — a number (digits, optional fraction and exponent) before each unit
/// d, h, m, s, ms, us, units largest first and each at most once, spaces around numbers and the
/// whole text allowed. The result is exact to the microsecond (fractions below are truncated, as
/// in TiKV). Anything else — empty text, a sign, inf/nan, units such as "w", a number without a
/// unit, overflow — is `errc::config` naming the text and what is wrong.
[[nodiscard]] inline std::chrono::microseconds parse_duration(std::string_view text) {
    std::string why;
    if (auto parsed = detail::try_parse_duration(text, why)) return *parsed;
    throw error(errc::config,
                "invalid duration " + detail::quoted(text) + ": " + why + "; accepted: " + std::string(accepted_durations));
}

/// The canonical spelling (TiKV's): 604800s is "7d", 5400s "1h30m", 1500ms "1s500ms", zero "0s";
/// `parse_duration` reads it back exactly.
[[nodiscard]] inline std::string format_duration(std::chrono::microseconds value) {
    if (value.count() < 0) {
        throw error(errc::invalid_argument, "format_duration: negative duration " + std::to_string(value.count()) + "us");
    }
    if (value.count() == 0) return "0s";
    std::string out;
    std::int64_t rest = value.count();
    for (const auto& unit : detail::duration_units) {
        if (rest >= unit.micros) {
            out += std::to_string(rest / unit.micros);
            out += unit.symbol;
            rest %= unit.micros;
        }
    }
    return out;
}

}  // namespace atrest
