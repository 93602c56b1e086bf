#pragma once
// A fault injector in front of a real KMS server, for the failures the servers cannot be asked to
// produce (5xx, throttling, dropped connections, access denied): it answers the first `faults`
// requests itself — with `status` and `body`, or by closing the connection unanswered when
// `status` is 0 — and forwards every later request, byte for byte, to the server. It counts what
// it received. One request per connection (atrest's transport never reuses one).
#include "kms_servers.hpp"

#include <poll.h>

#include <atomic>
#include <mutex>
#include <thread>

namespace atrest_test {

class fault_proxy final {
public:
    /// `faults` < 0: every request gets the fault.
    fault_proxy(std::uint16_t upstream, int faults, int status, std::string body)
        : m_upstream(upstream), m_faults(faults), m_status(status), m_body(std::move(body)) {
        m_listener = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t len = sizeof addr;
        if (m_listener < 0 || ::bind(m_listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
            ::listen(m_listener, 16) != 0 || ::getsockname(m_listener, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
            throw std::runtime_error("fault_proxy: cannot listen on 127.0.0.1");
        }
        m_port = ntohs(addr.sin_port);
        m_thread = std::thread([this] { serve(); });
    }
    fault_proxy(const fault_proxy&) = delete;
    fault_proxy& operator=(const fault_proxy&) = delete;
    ~fault_proxy() {
        m_stop = true;
        m_thread.join();
        ::close(m_listener);
    }

    [[nodiscard]] std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(m_port); }
    [[nodiscard]] int requests() const noexcept { return m_requests.load(); }

private:
    static bool write_all(int fd, std::string_view data) {
        while (!data.empty()) {
            const auto n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
            if (n <= 0) return false;
            data.remove_prefix(static_cast<std::size_t>(n));
        }
        return true;
    }

    /// One HTTP request: headers and a Content-Length body.
    static std::string read_request(int fd) {
        std::string in;
        char buf[8192];
        while (true) {
            const auto end = in.find("\r\n\r\n");
            if (end != std::string::npos) {
                std::size_t length = 0;
                std::string lower_head = in.substr(0, end);
                for (auto& c : lower_head) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
                if (const auto p = lower_head.find("content-length:"); p != std::string::npos) {
                    length = std::stoul(lower_head.substr(p + 15));
                }
                if (in.size() >= end + 4 + length) return in;
            }
            const auto n = ::recv(fd, buf, sizeof buf, 0);
            if (n <= 0) return in;
            in.append(buf, static_cast<std::size_t>(n));
        }
    }

    void forward(int client, std::string request) const {
        // Ask the server to close after answering, so its answer ends at EOF (an unsigned header).
        request.insert(request.find("\r\n") + 2, "Connection: close\r\n");
        const int up = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        addr.sin_port = htons(m_upstream);
        if (up >= 0 && ::connect(up, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 && write_all(up, request)) {
            char buf[8192];
            while (true) {
                const auto n = ::recv(up, buf, sizeof buf, 0);
                if (n <= 0 || !write_all(client, std::string_view(buf, static_cast<std::size_t>(n)))) break;
            }
        }
        if (up >= 0) ::close(up);
    }

    void serve() {
        while (!m_stop) {
            pollfd p{m_listener, POLLIN, 0};
            if (::poll(&p, 1, 50) <= 0) continue;
            const int client = ::accept(m_listener, nullptr, nullptr);
            if (client < 0) continue;
            const auto request = read_request(client);
            const int n = ++m_requests;
            if (m_faults < 0 || n <= m_faults) {
                if (m_status != 0) {
                    (void)write_all(client, "HTTP/1.1 " + std::to_string(m_status) +
                                                " Fault\r\nContent-Type: application/x-amz-json-1.1\r\nContent-Length: " +
                                                std::to_string(m_body.size()) + "\r\nConnection: close\r\n\r\n" + m_body);
                }
            } else {
                forward(client, request);
            }
            ::close(client);
        }
    }

    std::uint16_t m_upstream;
    int m_faults;
    int m_status;
    std::string m_body;
    int m_listener = -1;
    std::uint16_t m_port = 0;
    std::atomic<bool> m_stop{false};
    std::atomic<int> m_requests{0};
    std::thread m_thread;
};

}  // namespace atrest_test
