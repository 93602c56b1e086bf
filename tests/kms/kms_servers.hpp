#pragma once
// The two independent KMS servers the KMS tests run every case against, started once per test
// process on 127.0.0.1: local-kms (Go, `go install` into build/kms-tools/bin) and moto's server
// (Python, `pip install "moto[server]"` into build/kms-tools/venv); ./scripts/dev deps installs
// both. A server that cannot start fails the test with its log — it is never skipped. Each server
// counts the requests it served on its own (local-kms logs each GenerateDataKey and Decrypt, moto
// records every request), so "one Decrypt per open" is counted by the server, not by us.
#include "background_process.hpp"
#include "catch.hpp"

#include <atrest/kms/curl_transport.hpp>
#include <atrest/kms/sigv4.hpp>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace atrest_test {

namespace fs = std::filesystem;

/// Credentials for the test servers (neither checks signatures; AWS's documented example pair).
inline atrest::aws::credentials test_credentials() {
    return {"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", {}, "the test"};
}

/// One KMS server: its endpoint, plain JSON calls for setting up keys, and its own request counts.
class kms_server {
public:
    virtual ~kms_server() = default;
    [[nodiscard]] virtual std::string name() const = 0;
    [[nodiscard]] std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(m_port); }
    [[nodiscard]] std::uint16_t port() const noexcept { return m_port; }
    [[nodiscard]] std::string region() const { return "eu-west-2"; }

    /// How many GenerateDataKey / Decrypt requests the server has served so far.
    [[nodiscard]] virtual std::size_t decrypts() const = 0;
    [[nodiscard]] virtual std::size_t generates() const = 0;

    /// Any KMS call, signed by atrest's own signer; the answer's JSON, or an exception naming the error.
    nlohmann::json call(const std::string& operation, const nlohmann::json& body) const {
        atrest::aws::http_request r;
        r.body = body.dump();
        r.headers = {{"Host", "127.0.0.1:" + std::to_string(m_port)},
                     {"Content-Type", "application/x-amz-json-1.1"},
                     {"X-Amz-Target", "TrentService." + operation}};
        atrest::aws::sigv4::sign(r, test_credentials(), region(), "kms",
                                 atrest::aws::sigv4::amz_date(std::chrono::system_clock::now()));
        const atrest::aws::curl_transport transport({}, "test");
        const auto result = transport.perform(endpoint(), r, std::chrono::seconds(20));
        if (result.failure != atrest::aws::transport_failure::none) {
            throw std::runtime_error(name() + ": " + operation + " failed: " + result.message);
        }
        auto json = nlohmann::json::parse(result.body.empty() ? std::string("{}") : result.body, nullptr, false);
        if (result.status != 200) {
            throw std::runtime_error(name() + ": " + operation + " answered HTTP " + std::to_string(result.status) + ": " +
                                     result.body);
        }
        return json;
    }

    /// A new symmetric key; returns its key id.
    std::string create_key() const {
        const auto answer = call("CreateKey", {{"Description", "atrest test key"}});
        return answer.at("KeyMetadata").at("KeyId").get<std::string>();
    }
    void create_alias(const std::string& alias, const std::string& key_id) const {
        (void)call("CreateAlias", {{"AliasName", alias}, {"TargetKeyId", key_id}});
    }
    void disable_key(const std::string& key_id) const { (void)call("DisableKey", {{"KeyId", key_id}}); }
    void enable_key(const std::string& key_id) const { (void)call("EnableKey", {{"KeyId", key_id}}); }

protected:
    std::uint16_t m_port = 0;
};

class local_kms_server final : public kms_server {
public:
    explicit local_kms_server(const fs::path& work) {
        fs::create_directories(work / "local-kms-data");
        m_port = free_port();
        m_process = std::make_unique<background_process>(
            ATREST_LOCAL_KMS, std::vector<std::string>{},
            std::map<std::string, std::string>{{"PORT", std::to_string(m_port)},
                                               {"KMS_REGION", "eu-west-2"},
                                               {"KMS_DATA_PATH", (work / "local-kms-data").string()}},
            work / "local-kms.log");
        m_process->wait_listening(m_port);
    }
    [[nodiscard]] std::string name() const override { return "local-kms"; }
    [[nodiscard]] std::size_t decrypts() const override { return count_of(read_text(m_process->log()), "Decryption called"); }
    [[nodiscard]] std::size_t generates() const override {
        return count_of(read_text(m_process->log()), "Data key generated with plaintext");
    }
    [[nodiscard]] background_process& process() { return *m_process; }

private:
    std::unique_ptr<background_process> m_process;
};

class moto_server final : public kms_server {
public:
    explicit moto_server(const fs::path& work) : m_recording(work / "moto-recording.jsonl") {
        m_port = free_port();
        m_process = std::make_unique<background_process>(
            ATREST_MOTO_SERVER, std::vector<std::string>{"-H", "127.0.0.1", "-p", std::to_string(m_port)},
            std::map<std::string, std::string>{{"MOTO_ENABLE_RECORDING", "True"},
                                               {"MOTO_RECORDER_FILEPATH", m_recording.string()},
                                               {"AWS_DEFAULT_REGION", "eu-west-2"}},
            work / "moto.log");
        m_process->wait_listening(m_port);
    }
    [[nodiscard]] std::string name() const override { return "moto"; }
    [[nodiscard]] std::size_t decrypts() const override { return count_of(read_text(m_recording), "TrentService.Decrypt\""); }
    [[nodiscard]] std::size_t generates() const override {
        return count_of(read_text(m_recording), "TrentService.GenerateDataKey\"");
    }

private:
    fs::path m_recording;
    std::unique_ptr<background_process> m_process;
};

/// Both servers, started on first use and stopped at exit; a work directory for their files.
struct kms_servers final {
    fs::path work;
    std::unique_ptr<local_kms_server> local;
    std::unique_ptr<moto_server> moto;

    kms_servers() {
        std::string pattern = (fs::temp_directory_path() / "atrest-kms-servers-XXXXXX").string();
        if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
        work = pattern;
        local = std::make_unique<local_kms_server>(work);
        moto = std::make_unique<moto_server>(work);
    }
    ~kms_servers() {
        local.reset();
        moto.reset();
        std::error_code ec;
        fs::remove_all(work, ec);
    }
    [[nodiscard]] std::vector<kms_server*> all() { return {local.get(), moto.get()}; }
};

inline kms_servers& servers() {
    static kms_servers instance;
    return instance;
}

}  // namespace atrest_test
