#pragma once
// A real KMIP server for the KMIP tests: Debian's pykmip-server (python3-pykmip, PyKMIP 0.10),
// started once per test process on 127.0.0.1 with its own config file, policy directory and
// SQLite database in a temp dir, and a PKI the openssl command makes: a CA, a server certificate
// for 127.0.0.1, a client certificate (clientAuth, which PyKMIP requires), a second client
// identity, and a client certificate from another CA. A server that cannot start fails the test
// with its log — it is never skipped.
#include "background_process.hpp"
#include "catch.hpp"
#include "subprocess.hpp"
#include "temp_dir.hpp"

#include <atrest/kmip/kmip_client.hpp>

#include <fstream>
#include <memory>
#include <string>

namespace atrest_test {

/// Makes ca.pem, other-ca.pem, server.{pem,key}, client.{pem,key} (CN atrest-client),
/// client2.{pem,key} (CN atrest-other-client), renewed.{pem,key} (CN atrest-client again, valid
/// for 30 days: a renewed certificate) and stranger.{pem,key} (signed by the other CA).
inline void make_kmip_pki(const fs::path& dir) {
    const std::string o = ATREST_OPENSSL;
    const std::string ec = " -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes";
    auto leaf = [&](const std::string& name, const std::string& cn, const std::string& ca, const std::string& ext,
                    const std::string& days = "2") {
        return o + " req" + ec + " -keyout " + name + ".key -out " + name + ".csr -subj /CN=" + cn + "\n" + "printf '" +
               ext + "' > " + name + ".ext\n" + o + " x509 -req -in " + name + ".csr -CA " + ca + ".pem -CAkey " + ca +
               ".key -CAcreateserial -out " + name + ".pem -days " + days + " -extfile " + name + ".ext\n";
    };
    const std::string script =
        "set -e\n" + o + " req -x509" + ec + " -keyout ca.key -out ca.pem -subj /CN=atrest-kmip-test-ca -days 2\n" + o +
        " req -x509" + ec + " -keyout other-ca.key -out other-ca.pem -subj /CN=other-ca -days 2\n" +
        leaf("server", "127.0.0.1", "ca", "subjectAltName=IP:127.0.0.1\\nextendedKeyUsage=serverAuth\\n") +
        leaf("client", "atrest-client", "ca", "extendedKeyUsage=clientAuth\\n") +
        leaf("client2", "atrest-other-client", "ca", "extendedKeyUsage=clientAuth\\n") +
        leaf("renewed", "atrest-client", "ca", "extendedKeyUsage=clientAuth\\n", "30") +
        leaf("stranger", "atrest-client", "other-ca", "extendedKeyUsage=clientAuth\\n");
    const auto r = run_process("/bin/sh", {"-c", script}, {}, std::nullopt, dir.string());
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
}

/// pykmip-server on a free port of 127.0.0.1, TLS 1.2 with client certificates required.
class pykmip_server final {
public:
    explicit pykmip_server(const fs::path& work) : m_dir(work) {
        fs::create_directories(m_dir / "policies");
        make_kmip_pki(m_dir);
        start();
    }

    void start() {
        m_port = free_port();
        const std::string d = m_dir.string() + "/";
        std::ofstream(m_dir / "server.conf") << "[server]\nhostname=127.0.0.1\nport=" << m_port
                                              << "\ncertificate_path=" << d << "server.pem\nkey_path=" << d
                                              << "server.key\nca_path=" << d << "ca.pem\nauth_suite=TLS1.2\npolicy_path="
                                              << d << "policies\nenable_tls_client_auth=True\nlogging_level=INFO\n"
                                              << "database_path=" << d << "pykmip.sqlite\n";
        m_process = std::make_unique<background_process>(
            ATREST_PYKMIP_SERVER, std::vector<std::string>{"-f", d + "server.conf", "-l", d + "server.log"},
            std::map<std::string, std::string>{{"PYTHONWARNINGS", "ignore"}}, m_dir / "stdout.log");
        m_process->wait_listening(m_port, std::chrono::seconds(30));
    }
    void stop() { m_process.reset(); }

    [[nodiscard]] std::uint16_t port() const noexcept { return m_port; }
    [[nodiscard]] std::string endpoint() const { return "127.0.0.1:" + std::to_string(m_port); }
    [[nodiscard]] fs::path file(const std::string& name) const { return m_dir / name; }

    /// TLS settings of the named client identity ("client", "client2", "stranger").
    [[nodiscard]] atrest::tls_config tls(const std::string& who = "client") const {
        return {file("ca.pem"), file(who + ".pem"), file(who + ".key"), atrest::tls_version::tls1_2};
    }
    /// An administrative client (identity "client") for creating, revoking and destroying keys.
    [[nodiscard]] atrest::kmip::kmip_client admin() const {
        atrest::kmip::kmip_settings s;
        s.host = "127.0.0.1";
        s.port = m_port;
        s.key_id = "admin";
        s.tls = tls();
        s.timeout = std::chrono::seconds(10);
        s.section = "test";
        return atrest::kmip::kmip_client(std::move(s));
    }
    /// How many times the server logged `operation` ("Encrypt", "Decrypt", "Get", ...).
    [[nodiscard]] std::size_t served(const std::string& operation) const {
        return count_of(read_text(m_dir / "server.log"), "Processing operation: " + operation + "\n");
    }
    [[nodiscard]] std::string log_tail() const {
        const auto text = read_text(m_dir / "server.log");
        return text.size() > 3000 ? text.substr(text.size() - 3000) : text;
    }

private:
    fs::path m_dir;
    std::uint16_t m_port = 0;
    std::unique_ptr<background_process> m_process;
};

/// The server for this test process, started on first use.
inline pykmip_server& kmip_server() {
    static temp_dir dir;
    static pykmip_server server(dir.path());
    return server;
}

}  // namespace atrest_test
