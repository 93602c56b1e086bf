#pragma once
/// Where the AWS KMS client's credentials come from, in TiKV's order and then the AWS SDKs':
///   1. the config's `[<section>.aws] access-key` / `secret-access-key`;
///   2. AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, with AWS_SESSION_TOKEN when set;
///   3. the shared credentials file: AWS_SHARED_CREDENTIALS_FILE, else ~/.aws/credentials, profile
///      AWS_PROFILE, else "default" (aws_access_key_id, aws_secret_access_key, aws_session_token).
/// Not supported (docs/kms.md): instance metadata (IMDS), ECS task roles, web identity, SSO,
/// `credential_process`, `role_arn` and the config file ~/.aws/config. Nothing here prints a secret.

#include <atrest/config/duration.hpp>
#include <atrest/detail/posix.hpp>
#include <atrest/error.hpp>
#include <atrest/kms/sigv4.hpp>

#include <cstdlib>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace atrest::aws {

/// Where to look; empty strings mean "not given". Filled from the process environment by
/// `from_environment`, or by hand in tests.
struct credential_sources final {
    std::string config_access_key;
    std::string config_secret_access_key;
    std::string config_section;  ///< e.g. "security.encryption.master-key", for messages
    std::string env_access_key_id;
    std::string env_secret_access_key;
    std::string env_session_token;
    std::string shared_credentials_file;  ///< AWS_SHARED_CREDENTIALS_FILE
    std::string profile;                  ///< AWS_PROFILE
    std::string home;                     ///< HOME, for ~/.aws/credentials

    [[nodiscard]] static credential_sources from_environment(std::string access_key, std::string secret_access_key,
                                                             std::string section) {
        auto env = [](const char* name) {
            const char* v = std::getenv(name);
            return std::string(v != nullptr ? v : "");
        };
        credential_sources s;
        s.config_access_key = std::move(access_key);
        s.config_secret_access_key = std::move(secret_access_key);
        s.config_section = std::move(section);
        s.env_access_key_id = env("AWS_ACCESS_KEY_ID");
        s.env_secret_access_key = env("AWS_SECRET_ACCESS_KEY");
        s.env_session_token = env("AWS_SESSION_TOKEN");
        s.shared_credentials_file = env("AWS_SHARED_CREDENTIALS_FILE");
        s.profile = env("AWS_PROFILE");
        s.home = env("HOME");
        return s;
    }
};

inline constexpr std::string_view unsupported_credential_sources =
    "instance metadata (IMDS), ECS task roles, web identity tokens, SSO, credential_process and role_arn are not "
    "supported";

namespace detail {

[[nodiscard]] inline std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
    return s;
}

/// The profile's keys from an INI text as the AWS CLI writes ~/.aws/credentials: "[name]"
/// sections, "key = value" lines, '#' and ';' comments. nullopt when the profile is absent.
[[nodiscard]] inline std::optional<credentials> parse_shared_credentials(std::string_view text, std::string_view profile,
                                                                         const std::string& source) {
    std::optional<credentials> found;
    bool in_profile = false;
    std::size_t line_no = 0;
    while (!text.empty()) {
        const auto nl = text.find('\n');
        const auto raw = text.substr(0, nl);
        text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
        ++line_no;
        const auto line = trim(raw);
        if (line.empty() || line.front() == '#' || line.front() == ';') continue;
        if (line.front() == '[') {
            if (line.back() != ']') {
                throw error(errc::config, source + ":" + std::to_string(line_no) + ": a section header needs its ']'");
            }
            in_profile = trim(line.substr(1, line.size() - 2)) == profile;
            if (in_profile && !found) found = credentials{};
            continue;
        }
        if (!in_profile) continue;
        const auto eq = line.find('=');
        if (eq == std::string_view::npos) continue;  // the CLI ignores such lines too
        const auto key = trim(line.substr(0, eq));
        const auto value = std::string(trim(line.substr(eq + 1)));
        if (key == "aws_access_key_id") found->access_key_id = value;
        if (key == "aws_secret_access_key") found->secret_access_key = value;
        if (key == "aws_session_token") found->session_token = value;
    }
    if (found) found->source = source;
    return found;
}

}  // namespace detail

/// The first complete set of credentials in the order above, or `errc::kms` saying where it
/// looked. A half-given set (an id without its secret) is an error, not a reason to look further.
[[nodiscard]] inline credentials resolve_credentials(const credential_sources& s) {
    if (!s.config_access_key.empty() || !s.config_secret_access_key.empty()) {
        if (s.config_access_key.empty() || s.config_secret_access_key.empty()) {
            throw error(errc::config, "[" + s.config_section + ".aws] needs both access-key and secret-access-key");
        }
        return {s.config_access_key, s.config_secret_access_key, {}, "[" + s.config_section + ".aws]"};
    }
    if (!s.env_access_key_id.empty() || !s.env_secret_access_key.empty()) {
        if (s.env_access_key_id.empty() || s.env_secret_access_key.empty()) {
            throw error(errc::config, std::string(s.env_access_key_id.empty() ? "AWS_SECRET_ACCESS_KEY" : "AWS_ACCESS_KEY_ID") +
                                          " is set in the environment without " +
                                          (s.env_access_key_id.empty() ? "AWS_ACCESS_KEY_ID" : "AWS_SECRET_ACCESS_KEY"));
        }
        return {s.env_access_key_id, s.env_secret_access_key, s.env_session_token, "the environment (AWS_ACCESS_KEY_ID)"};
    }
    const std::string profile = s.profile.empty() ? "default" : s.profile;
    std::filesystem::path file = s.shared_credentials_file;
    if (file.empty() && !s.home.empty()) file = std::filesystem::path(s.home) / ".aws" / "credentials";
    std::string looked = "[" + s.config_section + ".aws], AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY";
    if (!file.empty()) {
        const auto bytes = atrest::detail::posix::read_file_if_exists(file, "AWS shared credentials file");
        if (bytes) {
            const std::string source = "'" + file.string() + "' profile " + atrest::detail::quoted(profile);
            const std::string_view text(reinterpret_cast<const char*>(bytes->data()), bytes->size());
            auto found = detail::parse_shared_credentials(text, profile, "'" + file.string() + "'");
            if (found) {
                if (found->access_key_id.empty() || found->secret_access_key.empty()) {
                    throw error(errc::config, "AWS shared credentials file " + source +
                                                  " needs both aws_access_key_id and aws_secret_access_key");
                }
                found->source = source;
                return *found;
            }
            looked += ", " + source + " (no such profile)";
        } else {
            looked += ", '" + file.string() + "' (does not exist)";
        }
    } else {
        looked += ", ~/.aws/credentials (HOME is not set)";
    }
    throw error(errc::kms, s.config_section + ".type = \"kms\": no AWS credentials found; looked in " + looked + "; " +
                               std::string(unsupported_credential_sources));
}

}  // namespace atrest::aws
