#pragma once
/// Durations as TiKV's config spells them ("168h", "7d", "1h30m"), parsed strictly: a rotation
/// period that silently became 0 or 168 days because of a typo would weaken or stall key rotation.

#include <atrest/error.hpp>

#include <array>
#include <chrono>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>

namespace atrest {

/// What `parse_duration` accepts, for error messages and help texts.
inline constexpr std::string_view accepted_durations =
    "whole numbers with units d, h, m, s, largest unit first, each at most once "
    "(e.g. \"168h\", \"7d\", \"30m\", \"1h30m\")";

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
    char symbol;
    std::int64_t seconds;
};
inline constexpr std::array<duration_unit, 4> duration_units = {
    duration_unit{'d', 86'400}, duration_unit{'h', 3'600}, duration_unit{'m', 60}, duration_unit{'s', 1}};

/// The parsed duration, or nullopt with `why` saying what is wrong (position included).
[[nodiscard]] inline std::optional<std::chrono::seconds> try_parse_duration(std::string_view text, std::string& why) {
    constexpr auto max_seconds = std::numeric_limits<std::int64_t>::max();
    if (text.empty()) {
        why = "empty";
        return std::nullopt;
    }
    if (text.front() == '-') {
        why = "negative durations are not accepted";
        return std::nullopt;
    }
    std::int64_t total = 0;
    std::size_t next_unit = 0;  // index into duration_units: units must strictly decrease
    std::size_t pos = 0;
    while (pos < text.size()) {
        const std::size_t number_start = pos;
        std::int64_t number = 0;
        while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
            const int digit = text[pos] - '0';
            if (number > (max_seconds - digit) / 10) {
                why = "number at position " + std::to_string(number_start) + " is too large";
                return std::nullopt;
            }
            number = number * 10 + digit;
            ++pos;
        }
        if (pos == number_start) {
            why = "expected a digit at position " + std::to_string(pos) + ", found " + quoted(text.substr(pos, 1));
            return std::nullopt;
        }
        if (pos == text.size()) {
            why = "number at position " + std::to_string(number_start) + " has no unit";
            return std::nullopt;
        }
        const std::size_t unit_start = pos;
        while (pos < text.size() && (text[pos] < '0' || text[pos] > '9')) ++pos;
        const std::string_view unit = text.substr(unit_start, pos - unit_start);
        std::size_t index = duration_units.size();
        for (std::size_t i = 0; i < duration_units.size(); ++i) {
            if (unit.size() == 1 && unit[0] == duration_units[i].symbol) index = i;
        }
        if (index == duration_units.size()) {
            why = "unknown unit " + quoted(unit) + " at position " + std::to_string(unit_start);
            return std::nullopt;
        }
        if (index < next_unit) {
            why = "unit " + quoted(unit) + " at position " + std::to_string(unit_start) +
                  " repeats or follows a smaller unit";
            return std::nullopt;
        }
        next_unit = index + 1;
        const std::int64_t scale = duration_units[index].seconds;
        if (number > max_seconds / scale || total > max_seconds - number * scale) {
            why = "too large (the limit is " + std::to_string(max_seconds) + " seconds)";
            return std::nullopt;
        }
        total += number * scale;
    }
    return std::chrono::seconds(total);
}

}  // namespace detail

/// Parses "168h", "7d", "30m", "1h30m", "0s"…; anything else (empty, negative, fractions, spaces,
/// unknown units such as "ms", overflow) is `errc::config` naming the text and what is wrong.
[[nodiscard]] inline std::chrono::seconds parse_duration(std::string_view text) {
    std::string why;
    if (auto parsed = detail::try_parse_duration(text, why)) return *parsed;
    throw error(errc::config,
                "invalid duration " + detail::quoted(text) + ": " + why + "; accepted: " + std::string(accepted_durations));
}

/// The canonical spelling `parse_duration` reads back exactly: 604800s is "7d", 5400s "1h30m".
[[nodiscard]] inline std::string format_duration(std::chrono::seconds value) {
    if (value.count() < 0) throw error(errc::invalid_argument, "format_duration: negative duration " +
                                                                   std::to_string(value.count()) + "s");
    if (value.count() == 0) return "0s";
    std::string out;
    std::int64_t rest = value.count();
    for (const auto& unit : detail::duration_units) {
        if (rest >= unit.seconds) {
            out += std::to_string(rest / unit.seconds);
            out += unit.symbol;
            rest %= unit.seconds;
        }
    }
    return out;
}

}  // namespace atrest
