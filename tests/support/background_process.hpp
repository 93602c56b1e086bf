#pragma once
// Helpers for tests that start real servers on 127.0.0.1 (the KMS and KMIP tests): a free port,
// a background process stopped on destruction with its log, and the bytes of a directory tree
// (what "no byte changed" compares).
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace atrest_test {

namespace fs = std::filesystem;

/// A TCP port on 127.0.0.1 that was free a moment ago.
inline std::uint16_t free_port() {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) throw std::runtime_error("socket failed");
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    socklen_t len = sizeof addr;
    if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
        ::close(fd);
        throw std::runtime_error("bind to 127.0.0.1:0 failed");
    }
    ::close(fd);
    return ntohs(addr.sin_port);
}

inline bool port_accepts(std::uint16_t port) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return false;
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(port);
    const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
    ::close(fd);
    return ok;
}

inline std::string read_text(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

inline std::size_t count_of(const std::string& text, const std::string& needle) {
    std::size_t n = 0;
    for (auto pos = text.find(needle); pos != std::string::npos; pos = text.find(needle, pos + needle.size())) ++n;
    return n;
}

/// Every file and directory under `dir` with its bytes ("<dir>" for a directory): what "no byte
/// changed" compares. An absent `dir` gives an empty map.
inline std::map<std::string, std::string> directory_bytes(const fs::path& dir) {
    std::map<std::string, std::string> out;
    if (!fs::exists(dir)) return out;
    for (const auto& entry : fs::recursive_directory_iterator(dir)) {
        out[fs::relative(entry.path(), dir).string()] = entry.is_directory() ? "<dir>" : read_text(entry.path());
    }
    return out;
}

/// A background process with its output in `log`, stopped (SIGTERM, then SIGKILL) on destruction.
class background_process final {
public:
    background_process(const std::string& program, const std::vector<std::string>& args,
                       const std::map<std::string, std::string>& env, fs::path log)
        : m_program(program), m_log(std::move(log)) {
        posix_spawn_file_actions_t actions;
        posix_spawn_file_actions_init(&actions);
        posix_spawn_file_actions_addopen(&actions, 1, m_log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
        posix_spawn_file_actions_adddup2(&actions, 1, 2);
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
        std::vector<std::string> argv_storage{program};
        argv_storage.insert(argv_storage.end(), args.begin(), args.end());
        std::vector<char*> argv;
        for (auto& a : argv_storage) argv.push_back(a.data());
        argv.push_back(nullptr);
        std::vector<std::string> env_storage;
        for (char** e = environ; *e != nullptr; ++e) {
            const std::string entry(*e);
            if (!env.contains(entry.substr(0, entry.find('=')))) env_storage.push_back(entry);
        }
        for (const auto& [k, v] : env) env_storage.push_back(k + "=" + v);
        std::vector<char*> envp;
        for (auto& e : env_storage) envp.push_back(e.data());
        envp.push_back(nullptr);
        const int rc = ::posix_spawnp(&m_pid, program.c_str(), &actions, nullptr, argv.data(), envp.data());
        posix_spawn_file_actions_destroy(&actions);
        if (rc != 0) {
            throw std::runtime_error("cannot start '" + program + "': " + std::strerror(rc) +
                                     " (./scripts/dev deps installs the test servers)");
        }
    }
    background_process(const background_process&) = delete;
    background_process& operator=(const background_process&) = delete;
    ~background_process() { stop(); }

    void stop() {
        if (m_pid <= 0) return;
        ::kill(m_pid, SIGTERM);
        for (int i = 0; i < 100; ++i) {
            if (::waitpid(m_pid, nullptr, WNOHANG) == m_pid) {
                m_pid = 0;
                return;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
        ::kill(m_pid, SIGKILL);
        ::waitpid(m_pid, nullptr, 0);
        m_pid = 0;
    }

    /// Waits until `port` accepts connections; a process that exits or takes longer than
    /// `limit` fails with the end of its log.
    void wait_listening(std::uint16_t port, std::chrono::seconds limit = std::chrono::seconds(60)) {
        const auto until = std::chrono::steady_clock::now() + limit;
        while (!port_accepts(port)) {
            int status = 0;
            if (::waitpid(m_pid, &status, WNOHANG) == m_pid) {
                m_pid = 0;
                throw std::runtime_error("'" + m_program + "' exited before listening on port " + std::to_string(port) +
                                         "; its log:\n" + log_tail());
            }
            if (std::chrono::steady_clock::now() > until) {
                throw std::runtime_error("'" + m_program + "' did not listen on port " + std::to_string(port) +
                                         " within " + std::to_string(limit.count()) + "s; its log:\n" + log_tail());
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(25));
        }
    }

    [[nodiscard]] std::string log_tail() const {
        const auto text = read_text(m_log);
        return text.size() > 4000 ? text.substr(text.size() - 4000) : text;
    }
    [[nodiscard]] const fs::path& log() const noexcept { return m_log; }

private:
    std::string m_program;
    fs::path m_log;
    pid_t m_pid = 0;
};

}  // namespace atrest_test
