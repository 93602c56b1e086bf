// AWS Signature Version 4: AWS's published examples as known answers, then a differential check
// against botocore's own signer (tests/kms/botocore_sign.py) over generated requests.
#include "catch.hpp"
#include "subprocess.hpp"

#include <atrest/kms/sigv4.hpp>

#include <nlohmann/json.hpp>

#include <chrono>
#include <sstream>
#include <string>

namespace sigv4 = atrest::aws::sigv4;
using atrest::aws::credentials;
using atrest::aws::http_request;

namespace {

std::string hex(const atrest::secret_bytes& s) {
    return sigv4::to_hex({reinterpret_cast<const std::uint8_t*>(s.data()), s.size()});
}

const credentials example_credentials{"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", {}, "AWS's examples"};

}  // namespace

// AWS General Reference, "Create a canonical request for Signature Version 4" and the pages after
// it: IAM ListUsers, GET https://iam.amazonaws.com/?Action=ListUsers&Version=2010-05-08 at
// 20150830T123600Z in us-east-1. Every intermediate value AWS publishes is checked.
TEST_CASE("SigV4 reproduces AWS's IAM ListUsers example step by step", "[sigv4]") {
    http_request r;
    r.method = "GET";
    r.path = "/";
    r.query = "Action=ListUsers&Version=2010-05-08";
    r.headers = {{"Host", "iam.amazonaws.com"},
                 {"Content-Type", "application/x-www-form-urlencoded; charset=utf-8"},
                 {"X-Amz-Date", "20150830T123600Z"}};
    const std::string canonical = sigv4::canonical_request(r);
    CHECK(canonical ==
          "GET\n/\nAction=ListUsers&Version=2010-05-08\n"
          "content-type:application/x-www-form-urlencoded; charset=utf-8\nhost:iam.amazonaws.com\n"
          "x-amz-date:20150830T123600Z\n\ncontent-type;host;x-amz-date\n"
          "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    CHECK(sigv4::sha256_hex(canonical) == "f536975d06c0309214f805bb90ccff089219ecd68b2577efef23edd43b7e1a59");
    const auto scope = sigv4::credential_scope("20150830T123600Z", "us-east-1", "iam");
    CHECK(scope == "20150830/us-east-1/iam/aws4_request");
    CHECK(sigv4::string_to_sign("20150830T123600Z", scope, canonical) ==
          "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/iam/aws4_request\n"
          "f536975d06c0309214f805bb90ccff089219ecd68b2577efef23edd43b7e1a59");
    CHECK(hex(sigv4::signing_key(example_credentials.secret_access_key, "20150830", "us-east-1", "iam")) ==
          "c4afb1cc5771d871763a393e44b703571b55cc28424d1a5e86da6ed3c154a4b9");
    CHECK(sigv4::authorization(r, example_credentials, "us-east-1", "iam", "20150830T123600Z") ==
          "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request, "
          "SignedHeaders=content-type;host;x-amz-date, "
          "Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7");
}

// The SigV4 test suite (us-east-1, service "service", 20150830T123600Z, example.amazonaws.com).
TEST_CASE("SigV4 reproduces the signature test suite's vanilla cases", "[sigv4]") {
    auto suite = [](std::string method, std::string query) {
        http_request r;
        r.method = std::move(method);
        r.query = std::move(query);
        r.headers = {{"Host", "example.amazonaws.com"}};
        sigv4::sign(r, example_credentials, "us-east-1", "service", "20150830T123600Z");
        return std::string(r.header("Authorization"));
    };
    const std::string prefix =
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, "
        "Signature=";
    // get-vanilla: its canonical request's hash and its signature.
    http_request vanilla;
    vanilla.method = "GET";
    vanilla.headers = {{"Host", "example.amazonaws.com"}, {"X-Amz-Date", "20150830T123600Z"}};
    CHECK(sigv4::sha256_hex(sigv4::canonical_request(vanilla)) ==
          "bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63");
    CHECK(suite("GET", "") == prefix + "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31");
    CHECK(suite("POST", "") == prefix + "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b");
    // get-vanilla-query-order-key-case: parameters are signed sorted.
    CHECK(suite("GET", "Param2=value2&Param1=value1") ==
          prefix + "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500");
}

TEST_CASE("SigV4 pieces: encoding, paths, header values, session tokens, dates", "[sigv4]") {
    CHECK(sigv4::uri_encode("a b/c~d_e.f-g*", false) == "a%20b%2Fc~d_e.f-g%2A");
    CHECK(sigv4::uri_encode("a b/c", true) == "a%20b/c");
    CHECK(sigv4::canonical_uri("/a%20b") == "/a%2520b");  // every service but S3 signs the path encoded twice
    CHECK(sigv4::normalized_path("/a/./b/../c//d/") == "/a/c/d/");
    CHECK(sigv4::normalized_path("") == "/");
    CHECK(sigv4::trimmed_value("  a \t  b  ") == "a b");
    CHECK(sigv4::canonical_query("b=2&a=&a=1&c") == "a=&a=1&b=2&c=");

    http_request r;
    r.headers = {{"Host", "kms.eu-west-2.amazonaws.com"}, {"X-Amz-Date", "stale"}, {"Authorization", "stale"}};
    const credentials temporary{"ASIAEXAMPLE", "secret", "token/with+chars=", "test"};
    sigv4::sign(r, temporary, "eu-west-2", "kms", "20260101T000000Z");
    CHECK(r.header("X-Amz-Date") == "20260101T000000Z");
    CHECK(r.header("X-Amz-Security-Token") == "token/with+chars=");
    CHECK(std::string(r.header("Authorization")).find("SignedHeaders=host;x-amz-date;x-amz-security-token,") !=
          std::string::npos);
    std::size_t authorizations = 0;
    for (const auto& h : r.headers) authorizations += h.first == "Authorization";
    CHECK(authorizations == 1);  // a retry re-signs, never signs twice

    CHECK(sigv4::amz_date(std::chrono::system_clock::time_point(std::chrono::seconds(1440938160))) == "20150830T123600Z");
    CHECK(sigv4::amz_date(std::chrono::system_clock::time_point(std::chrono::seconds(1709164800))) == "20240229T000000Z");
}

// botocore (PyPI, in build/kms-tools/venv) signs generated requests; atrest must produce the same
// canonical request and the same Authorization header for every one.
TEST_CASE("SigV4 agrees with botocore's signer on generated requests", "[sigv4][botocore]") {
    constexpr int count = 400;
    const auto run = atrest_test::run_process(ATREST_KMS_PYTHON, {ATREST_KMS_TEST_DIR "/botocore_sign.py", "20261101",
                                                                  std::to_string(count)});
    INFO(run.err);
    REQUIRE(run.exit_code == 0);
    std::istringstream lines(run.out);
    std::string line;
    int compared = 0;
    while (std::getline(lines, line)) {
        const auto c = nlohmann::json::parse(line);
        http_request r;
        r.method = c.at("method").get<std::string>();
        r.path = c.at("path").get<std::string>();
        r.query = c.at("query").get<std::string>();
        r.body = c.at("body").get<std::string>();
        r.headers.emplace_back("Host", c.at("host").get<std::string>());
        for (const auto& h : c.at("headers")) r.headers.emplace_back(h.at(0).get<std::string>(), h.at(1).get<std::string>());
        const credentials creds{c.at("access_key").get<std::string>(), c.at("secret").get<std::string>(),
                                c.at("token").get<std::string>(), "generated"};
        sigv4::sign(r, creds, c.at("region").get<std::string>(), c.at("service").get<std::string>(),
                    c.at("amz_date").get<std::string>());
        INFO(line);
        auto unsigned_copy = r;
        std::erase_if(unsigned_copy.headers, [](const auto& h) { return h.first == "Authorization"; });
        CHECK(sigv4::canonical_request(unsigned_copy) == c.at("canonical_request").get<std::string>());
        CHECK(std::string(r.header("Authorization")) == c.at("authorization").get<std::string>());
        ++compared;
    }
    CHECK(compared == count);
}
