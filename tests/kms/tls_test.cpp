// TLS to the key service, through Debian's nginx terminating TLS in front of local-kms, with a CA
// and certificates the test makes with the openssl command: the right CA works; a wrong CA, an
// expired server certificate and a server below `tls-version` fail with a clear error and change
// no byte; a client certificate is presented where the server asks for one, its validity is in
// the metrics, and a certificate replaced on disk is the one the next connection presents.
#include "catch.hpp"
#include "expect_error.hpp"
#include "kms_servers.hpp"
#include "subprocess.hpp"
#include "temp_dir.hpp"

#include <atrest/config.hpp>
#include <atrest/kms/aws_kms_master_key.hpp>
#include <atrest/metrics/prometheus_metrics.hpp>

#include <fstream>
#include <string>

namespace {

using atrest_test::expect_error;
namespace fs = std::filesystem;

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

/// A CA, another CA, a server certificate for 127.0.0.1 (valid, and one that expired in 2020) and
/// two client certificates with different serials and lifetimes, all from the openssl command.
void make_pki(const fs::path& dir) {
    std::ofstream(dir / "ca.cnf") << "[ca]\ndefault_ca = the_ca\n[the_ca]\ndatabase = index.txt\nnew_certs_dir = .\n"
                                     "serial = serial\ndefault_md = sha256\npolicy = any\ncopy_extensions = copy\n"
                                     "unique_subject = no\n[any]\ncommonName = supplied\n";
    const std::string o = ATREST_OPENSSL;
    const std::string ec = " -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes";
    const std::string sign = o + " ca -batch -notext -config ca.cnf -cert ca.pem -keyfile ca.key";
    const std::string script =
        "set -e\n: > index.txt\necho 01 > serial\n" +
        o + " req -x509" + ec + " -keyout ca.key -out ca.pem -subj /CN=atrest-test-ca -days 2\n" +
        o + " req -x509" + ec + " -keyout other-ca.key -out other-ca.pem -subj /CN=other-ca -days 2\n" +
        o + " req" + ec + " -keyout server.key -out server.csr -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1\n" +
        sign + " -in server.csr -out server.pem -days 2\n" +
        sign + " -in server.csr -out expired.pem -startdate 20200101000000Z -enddate 20200102000000Z\n" +
        o + " req" + ec + " -keyout client.key -out client.csr -subj /CN=atrest-client\n" +
        sign + " -in client.csr -out client1.pem -days 2\n" +
        sign + " -in client.csr -out client2.pem -days 3\n";
    const auto r = atrest_test::run_process("/bin/sh", {"-c", script}, {}, std::nullopt, dir.string());
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
}

/// nginx with four TLS servers in front of one KMS port: `good` (TLS 1.2+), `expired` (an expired
/// certificate), `old` (TLS 1.2 only) and `mutual` (asks for a client certificate from the CA).
struct tls_proxy final {
    fs::path dir;
    std::uint16_t good = atrest_test::free_port(), expired = atrest_test::free_port(), old = atrest_test::free_port(),
                  mutual = atrest_test::free_port();
    std::unique_ptr<atrest_test::background_process> nginx;

    tls_proxy(const fs::path& d, std::uint16_t kms_port) : dir(d) {
        fs::create_directories(dir / "tmp");
        const std::string p = dir.string() + "/";
        auto server = [&](std::uint16_t port, const std::string& cert, const std::string& extra) {
            return "server { listen 127.0.0.1:" + std::to_string(port) + " ssl; ssl_certificate " + p + cert +
                   "; ssl_certificate_key " + p + "server.key; " + extra +
                   " location / { proxy_pass http://127.0.0.1:" + std::to_string(kms_port) +
                   "; proxy_set_header Host $http_host; } }\n";
        };
        std::ofstream(dir / "nginx.conf")
            << "daemon off;\nmaster_process off;\nerror_log " << p << "error.log;\npid " << p << "nginx.pid;\n"
            << "events { worker_connections 64; }\nhttp {\nlog_format clients '$server_port $ssl_protocol "
               "$ssl_client_serial';\naccess_log "
            << p << "access.log clients;\nclient_body_temp_path " << p << "tmp;\nproxy_temp_path " << p << "tmp;\n"
            << "fastcgi_temp_path " << p << "tmp;\nuwsgi_temp_path " << p << "tmp;\nscgi_temp_path " << p << "tmp;\n"
            << server(good, "server.pem", "ssl_protocols TLSv1.2 TLSv1.3;")
            << server(expired, "expired.pem", "ssl_protocols TLSv1.2 TLSv1.3;")
            << server(old, "server.pem", "ssl_protocols TLSv1.2;")
            << server(mutual, "server.pem",
                      "ssl_protocols TLSv1.2 TLSv1.3; ssl_verify_client on; ssl_client_certificate " + p + "ca.pem;")
            << "}\n";
        nginx = std::make_unique<atrest_test::background_process>(
            ATREST_NGINX, std::vector<std::string>{"-e", p + "startup.log", "-p", p, "-c", p + "nginx.conf"},
            std::map<std::string, std::string>{}, dir / "nginx.log");
        for (auto port : {good, expired, old, mutual}) nginx->wait_listening(port);
    }
    [[nodiscard]] std::string endpoint(std::uint16_t port) const { return "https://127.0.0.1:" + std::to_string(port); }
    /// The last access-log line of `port`: "port protocol client-serial".
    [[nodiscard]] std::string last_request(std::uint16_t port) const {
        std::istringstream lines(atrest_test::read_text(dir / "access.log"));
        std::string line, last;
        while (std::getline(lines, line)) {
            if (line.starts_with(std::to_string(port) + " ")) last = line;
        }
        return last;
    }
};

atrest::encryption_config tls_config(const atrest_test::kms_server& s, const std::string& key_id, const std::string& endpoint,
                                     const fs::path& ca) {
    atrest::master_key_config mk;
    mk.type = atrest::master_key_config::kind::kms;
    mk.key_id = key_id;
    mk.region = s.region();
    mk.endpoint = endpoint;
    mk.access_key = "AKIDEXAMPLE";
    mk.secret_access_key = "tls-test-secret";
    mk.timeout = std::chrono::seconds(5);
    mk.tls.ca_path = ca;
    atrest::encryption_config c;
    c.data_encryption_method = atrest::method::aes256_ctr;
    c.master_key = mk;
    return c;
}

template <class... Args>
auto open_fresh(Args&&... args) {
    atrest::aws_kms_master_key<>::clear_process_cache();
    return atrest::open_key_manager(std::forward<Args>(args)...);
}

}  // namespace

TEST_CASE("KMS over TLS: CA, expiry, minimum version and client certificates, through nginx", "[tls]") {
    auto& server = *atrest_test::servers().local;
    atrest_test::temp_dir dir;
    make_pki(dir.path());
    const tls_proxy proxy(dir / "", server.port());
    const auto key_id = server.create_key();
    const auto data = dir / "data";
    const auto ca = dir / "ca.pem";

    // The right CA: the directory is made and reopened over TLS.
    (void)open_fresh(tls_config(server, key_id, proxy.endpoint(proxy.good), ca), data)->new_file(data / "f");
    CHECK(open_fresh(tls_config(server, key_id, proxy.endpoint(proxy.good), ca), data)->get_file(data / "f").encrypted());
    CHECK(contains(proxy.last_request(proxy.good), "TLSv1.3"));
    const auto before = atrest_test::directory_bytes(data);

    auto refused = [&](const atrest::encryption_config& c, const std::string& why) {
        const auto e = expect_error([&] { (void)open_fresh(c, data); });
        INFO(e.what());
        CHECK(e.kind() == atrest::errc::kms);
        CHECK(contains(e.what(), "TLS failure"));
        CHECK(contains(e.what(), why));
        CHECK_FALSE(contains(e.what(), "tls-test-secret"));
        CHECK(atrest_test::directory_bytes(data) == before);
    };
    refused(tls_config(server, key_id, proxy.endpoint(proxy.good), dir / "other-ca.pem"), "other-ca.pem");
    refused(tls_config(server, key_id, proxy.endpoint(proxy.good), {}), "system CAs");
    refused(tls_config(server, key_id, proxy.endpoint(proxy.expired), ca), "expired");
    auto tls13 = tls_config(server, key_id, proxy.endpoint(proxy.old), ca);
    tls13.master_key->tls.min_version = atrest::tls_version::tls1_3;
    refused(tls13, "TLSv1.3");
    tls13.master_key->tls.min_version = atrest::tls_version::tls1_2;
    CHECK(open_fresh(tls13, data)->get_file(data / "f").encrypted());
    CHECK(contains(proxy.last_request(proxy.old), "TLSv1.2"));

    // A server that asks for a client certificate: refused without one, served with one.
    auto mutual = tls_config(server, key_id, proxy.endpoint(proxy.mutual), ca);
    const auto none = expect_error([&] { (void)open_fresh(mutual, data); });
    CHECK(none.kind() == atrest::errc::kms);
    CHECK(atrest_test::directory_bytes(data) == before);
    fs::copy_file(dir / "client1.pem", dir / "client.pem");
    mutual.master_key->tls.cert_path = dir / "client.pem";
    mutual.master_key->tls.key_path = dir / "client.key";
    atrest::prometheus_metrics metrics;
    CHECK(open_fresh(mutual, data, atrest::diagnostic_sink{}, metrics)->get_file(data / "f").encrypted());
    CHECK(proxy.last_request(proxy.mutual).ends_with(" 03"));  // client1's serial
    const auto first = atrest::read_certificate_validity(dir / "client1.pem", "client1");
    CHECK(contains(metrics.render(), "atrest_tls_client_certificate_not_after_timestamp_seconds " +
                                         std::to_string(first.not_after) + "\n"));

    // The certificate replaced on disk: the next connection presents the new one, no restart.
    fs::copy_file(dir / "client2.pem", dir / "client.pem", fs::copy_options::overwrite_existing);
    CHECK(open_fresh(mutual, data, atrest::diagnostic_sink{}, metrics)->get_file(data / "f").encrypted());
    CHECK(proxy.last_request(proxy.mutual).ends_with(" 04"));  // client2's serial
    const auto second = atrest::read_certificate_validity(dir / "client2.pem", "client2");
    CHECK(second.not_after > first.not_after);
    CHECK(contains(metrics.render(), "atrest_tls_client_certificate_not_after_timestamp_seconds " +
                                         std::to_string(second.not_after) + "\n"));
}
