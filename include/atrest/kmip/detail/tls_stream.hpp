#pragma once
/// The KMIP client's TLS connection: a TCP socket (every OS call of the KMIP target is in this
/// header) under OpenSSL, configured from the one `tls_config` every key service shares: TLS 1.2
/// or 1.3 at least, the server's certificate verified against `ca-path` (or the system CAs) and its
/// host name or IP address checked, the client certificate presented when configured, no fallback
/// of any kind. Each connection builds a new OpenSSL context that reads the PEM files again, so a
/// certificate replaced on disk is used by the next connection without a restart. Failures are
/// thrown as `transport_failure`, classified (network or TLS), so the caller decides what to retry.

#include <atrest/error.hpp>
#include <atrest/kmip/ttlv.hpp>
#include <atrest/tls/tls_config.hpp>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <array>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <memory>
#include <span>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace atrest::kmip::detail {

/// A connection or exchange that failed below KMIP: `tls` says the TLS layer refused (never
/// retried: a wrong CA or certificate does not fix itself), else the network (retried).
struct transport_failure final : std::runtime_error {
    transport_failure(bool is_tls, const std::string& what) : std::runtime_error(what), tls(is_tls) {}
    bool tls;
};

using steady = std::chrono::steady_clock;

/// OpenSSL's queued errors as text ("error:0A000086:SSL routines::certificate verify failed").
[[nodiscard]] inline std::string openssl_errors() {
    std::string out;
    while (const unsigned long e = ERR_get_error()) {
        std::array<char, 256> buffer{};
        ERR_error_string_n(e, buffer.data(), buffer.size());
        if (!out.empty()) out += "; ";
        out += buffer.data();
    }
    return out.empty() ? std::string("no OpenSSL error queued") : out;
}

struct ssl_ctx_delete final {
    void operator()(SSL_CTX* c) const noexcept { SSL_CTX_free(c); }
};
struct ssl_delete final {
    void operator()(SSL* s) const noexcept { SSL_free(s); }
};

/// A file descriptor closed on destruction.
class socket_fd final {
public:
    socket_fd() = default;
    explicit socket_fd(int fd) noexcept : m_fd(fd) {}
    socket_fd(socket_fd&& o) noexcept : m_fd(std::exchange(o.m_fd, -1)) {}
    socket_fd& operator=(socket_fd&& o) noexcept {
        if (this != &o) {
            reset();
            m_fd = std::exchange(o.m_fd, -1);
        }
        return *this;
    }
    ~socket_fd() { reset(); }
    void reset() noexcept {
        if (m_fd >= 0) ::close(m_fd);
        m_fd = -1;
    }
    [[nodiscard]] int get() const noexcept { return m_fd; }

private:
    int m_fd = -1;
};

[[nodiscard]] inline int remaining_ms(steady::time_point deadline) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - steady::now()).count();
    return left <= 0 ? 0 : static_cast<int>(std::min<long long>(left, 3'600'000));
}

/// A TCP connection to host:port, within `deadline` (each resolved address is tried in turn).
[[nodiscard]] inline socket_fd connect_tcp(const std::string& host, std::uint16_t port, steady::time_point deadline) {
    std::string bare = host;
    if (bare.size() > 2 && bare.front() == '[' && bare.back() == ']') bare = bare.substr(1, bare.size() - 2);
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* found = nullptr;
    const int rc = ::getaddrinfo(bare.c_str(), std::to_string(port).c_str(), &hints, &found);
    if (rc != 0) throw transport_failure(false, "cannot resolve '" + bare + "': " + ::gai_strerror(rc));
    std::unique_ptr<addrinfo, decltype(&::freeaddrinfo)> list(found, &::freeaddrinfo);
    std::string last = "no address";
    for (const addrinfo* a = list.get(); a != nullptr; a = a->ai_next) {
        socket_fd fd(::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, a->ai_protocol));
        if (fd.get() < 0) {
            last = std::string("socket: ") + std::strerror(errno);
            continue;
        }
        int err = 0;
        if (::connect(fd.get(), a->ai_addr, a->ai_addrlen) != 0) {
            if (errno != EINPROGRESS) {
                last = std::string("connect: ") + std::strerror(errno);
                continue;
            }
            pollfd p{fd.get(), POLLOUT, 0};
            const int ready = ::poll(&p, 1, remaining_ms(deadline));
            if (ready <= 0) {
                last = ready == 0 ? "connect: timed out" : std::string("poll: ") + std::strerror(errno);
                continue;
            }
            socklen_t len = sizeof err;
            if (::getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &err, &len) != 0) err = errno;
            if (err != 0) {
                last = std::string("connect: ") + std::strerror(err);
                continue;
            }
        }
        const int flags = ::fcntl(fd.get(), F_GETFL, 0);
        if (flags < 0 || ::fcntl(fd.get(), F_SETFL, flags & ~O_NONBLOCK) != 0) {
            last = std::string("fcntl: ") + std::strerror(errno);
            continue;
        }
        const int one = 1;
        (void)::setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        return fd;
    }
    throw transport_failure(false, "cannot connect to " + host + ":" + std::to_string(port) + " (" + last + ")");
}

/// Bounds every blocking read and write on `fd` by what is left until `deadline`.
inline void set_io_deadline(int fd, steady::time_point deadline) {
    const int ms = std::max(1, remaining_ms(deadline));
    timeval tv{ms / 1000, static_cast<suseconds_t>((ms % 1000) * 1000)};
    (void)::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    (void)::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

[[nodiscard]] inline bool is_ip_literal(const std::string& host) {
    std::array<unsigned char, 16> buffer{};
    return ::inet_pton(AF_INET, host.c_str(), buffer.data()) == 1 || ::inet_pton(AF_INET6, host.c_str(), buffer.data()) == 1;
}

/// One TLS connection carrying KMIP messages.
class tls_stream final {
public:
    /// Connects and completes the handshake; `section` names the TLS keys in messages.
    tls_stream(const std::string& host, std::uint16_t port, const tls_config& tls, const std::string& section,
               steady::time_point deadline)
        : m_fd(connect_tcp(host, port, deadline)) {
        ERR_clear_error();
        m_ctx.reset(SSL_CTX_new(TLS_client_method()));
        if (!m_ctx) throw transport_failure(true, "OpenSSL could not create a TLS context: " + openssl_errors());
        SSL_CTX* ctx = m_ctx.get();
        SSL_CTX_set_min_proto_version(ctx, tls.min_version == tls_version::tls1_3 ? TLS1_3_VERSION : TLS1_2_VERSION);
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
        const bool cas = tls.ca_path.empty() ? SSL_CTX_set_default_verify_paths(ctx) == 1
                                             : SSL_CTX_load_verify_locations(ctx, tls.ca_path.c_str(), nullptr) == 1;
        if (!cas) {
            throw transport_failure(true, "cannot load the CA certificates (" + openssl_errors() + ")" + describe_tls(tls, section));
        }
        if (tls.has_client_certificate()) {
            if (SSL_CTX_use_certificate_chain_file(ctx, tls.cert_path.c_str()) != 1 ||
                SSL_CTX_use_PrivateKey_file(ctx, tls.key_path.c_str(), SSL_FILETYPE_PEM) != 1 ||
                SSL_CTX_check_private_key(ctx) != 1) {
                throw transport_failure(true, "cannot use the client certificate and key (" + openssl_errors() +
                                                  "): " + section + ".key-path must hold the unencrypted private key of " +
                                                  section + ".cert-path" + describe_tls(tls, section));
            }
        }
        m_ssl.reset(SSL_new(ctx));
        if (!m_ssl) throw transport_failure(true, "OpenSSL could not create a connection: " + openssl_errors());
        SSL* ssl = m_ssl.get();
        std::string bare = host;
        if (bare.size() > 2 && bare.front() == '[') bare = bare.substr(1, bare.size() - 2);
        X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
        if (is_ip_literal(bare)) {
            X509_VERIFY_PARAM_set1_ip_asc(param, bare.c_str());
        } else {
            X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
            X509_VERIFY_PARAM_set1_host(param, bare.c_str(), bare.size());
            SSL_set_tlsext_host_name(ssl, bare.c_str());
        }
        SSL_set_fd(ssl, m_fd.get());
        set_io_deadline(m_fd.get(), deadline);
        if (SSL_connect(ssl) != 1) {
            const long verify = SSL_get_verify_result(ssl);
            std::string why = verify != X509_V_OK
                                  ? std::string("the server's certificate was not accepted: ") +
                                        X509_verify_cert_error_string(verify)
                                  : "the TLS handshake failed: " + openssl_errors();
            if (verify == X509_V_OK && errno != 0 && why.find("no OpenSSL error") != std::string::npos) {
                why += std::string(" (") + std::strerror(errno) + ")";
            }
            throw transport_failure(true, "TLS with " + host + ":" + std::to_string(port) + ": " + why + describe_tls(tls, section));
        }
    }

    tls_stream(const tls_stream&) = delete;
    tls_stream& operator=(const tls_stream&) = delete;
    ~tls_stream() {
        if (m_ssl) (void)SSL_shutdown(m_ssl.get());
    }

    void write(std::span<const std::byte> bytes, steady::time_point deadline) {
        set_io_deadline(m_fd.get(), deadline);
        std::size_t done = 0;
        while (done < bytes.size()) {
            ERR_clear_error();
            const int n = SSL_write(m_ssl.get(), bytes.data() + done, static_cast<int>(bytes.size() - done));
            if (n <= 0) failed("sending the request", n);
            done += static_cast<std::size_t>(n);
        }
    }

    /// One whole KMIP message: its 8-byte header, then exactly the length it claims (at most 1 MiB,
    /// checked before anything is allocated).
    [[nodiscard]] std::vector<std::byte> read_message(steady::time_point deadline) {
        set_io_deadline(m_fd.get(), deadline);
        std::array<std::byte, 8> header{};
        read_exact(header);
        const std::size_t total = message_length(header);
        std::vector<std::byte> out(total);
        std::copy(header.begin(), header.end(), out.begin());
        read_exact(std::span<std::byte>(out).subspan(8));
        return out;
    }

private:
    void read_exact(std::span<std::byte> into) {
        std::size_t done = 0;
        while (done < into.size()) {
            ERR_clear_error();
            const int n = SSL_read(m_ssl.get(), into.data() + done, static_cast<int>(into.size() - done));
            if (n <= 0) failed("reading the response", n);
            done += static_cast<std::size_t>(n);
        }
    }

    [[noreturn]] void failed(const std::string& doing, int rc) {
        const int e = SSL_get_error(m_ssl.get(), rc);
        if (e == SSL_ERROR_ZERO_RETURN) throw transport_failure(false, "the server closed the connection while " + doing);
        if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
            throw transport_failure(false, "timed out " + doing);
        }
        if (e == SSL_ERROR_SYSCALL) {
            throw transport_failure(false, "the connection failed while " + doing +
                                               (errno != 0 ? std::string(": ") + std::strerror(errno) : std::string(" (EOF)")));
        }
        // An alert from the server after the handshake (TLS 1.3 reports a refused client
        // certificate here) is a TLS failure.
        throw transport_failure(true, "TLS failure while " + doing + ": " + openssl_errors());
    }

    socket_fd m_fd;
    std::unique_ptr<SSL_CTX, ssl_ctx_delete> m_ctx;
    std::unique_ptr<SSL, ssl_delete> m_ssl;
};

}  // namespace atrest::kmip::detail
