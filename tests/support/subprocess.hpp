#pragma once
// Runs a program as a user would: a child process with captured stdout and stderr, optional
// text on its stdin and extra environment variables. A program that cannot be started at all
// (not installed) throws, naming it, so a test that needs an outside tool fails and says why.
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

extern char** environ;

namespace atrest_test {

struct process_result {
    int exit_code = -1;  // 128 + signal when killed by one
    std::string out;
    std::string err;
};

inline std::string drain(int fd) {
    std::string s;
    std::array<char, 4096> buf;
    for (;;) {
        const auto n = ::read(fd, buf.data(), buf.size());
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        s.append(buf.data(), static_cast<std::size_t>(n));
    }
    ::close(fd);
    return s;
}

/// This process's environment with `overrides` set (an empty value removes the variable).
inline std::vector<std::string> environment_with(const std::map<std::string, std::string>& overrides) {
    std::vector<std::string> env;
    for (char** e = environ; *e != nullptr; ++e) {
        const std::string_view entry(*e);
        if (!overrides.contains(std::string(entry.substr(0, entry.find('='))))) env.emplace_back(entry);
    }
    for (const auto& [name, value] : overrides) {
        if (!value.empty()) env.push_back(name + "=" + value);
    }
    return env;
}

/// Runs `program` (a path, or a name looked up in PATH) with `args`, in the working directory
/// `cwd` when one is given. Without `input` the child shares this process's stdin.
inline process_result run_process(const std::string& program, const std::vector<std::string>& args,
                                  const std::map<std::string, std::string>& env = {},
                                  const std::optional<std::string>& input = std::nullopt,
                                  const std::string& cwd = {}) {
    int out_pipe[2], err_pipe[2], in_pipe[2] = {-1, -1};
    if (::pipe2(out_pipe, O_CLOEXEC) != 0 || ::pipe2(err_pipe, O_CLOEXEC) != 0 ||
        (input && ::pipe2(in_pipe, O_CLOEXEC) != 0)) {
        throw std::runtime_error("pipe failed");
    }
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, out_pipe[1], 1);
    posix_spawn_file_actions_adddup2(&actions, err_pipe[1], 2);
    if (input) posix_spawn_file_actions_adddup2(&actions, in_pipe[0], 0);
    if (!cwd.empty()) posix_spawn_file_actions_addchdir_np(&actions, cwd.c_str());
    std::vector<std::string> argv_storage{program};
    argv_storage.insert(argv_storage.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& a : argv_storage) argv.push_back(a.data());
    argv.push_back(nullptr);
    auto env_storage = environment_with(env);
    std::vector<char*> envp;
    for (auto& e : env_storage) envp.push_back(e.data());
    envp.push_back(nullptr);
    pid_t pid = 0;
    const int rc = ::posix_spawnp(&pid, program.c_str(), &actions, nullptr, argv.data(), envp.data());
    posix_spawn_file_actions_destroy(&actions);
    ::close(out_pipe[1]);
    ::close(err_pipe[1]);
    if (input) ::close(in_pipe[0]);
    if (rc != 0) {
        ::close(out_pipe[0]);
        ::close(err_pipe[0]);
        if (input) ::close(in_pipe[1]);
        throw std::runtime_error("cannot run '" + program + "': " + std::strerror(rc));
    }
    std::thread writer([&] {
        if (!input) return;
        sigset_t pipe_signal;  // a child that stops reading early gives EPIPE here, not SIGPIPE
        sigemptyset(&pipe_signal);
        sigaddset(&pipe_signal, SIGPIPE);
        pthread_sigmask(SIG_BLOCK, &pipe_signal, nullptr);
        std::string_view rest(*input);
        while (!rest.empty()) {
            const auto n = ::write(in_pipe[1], rest.data(), rest.size());
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) break;  // the child closed its stdin early
            rest.remove_prefix(static_cast<std::size_t>(n));
        }
        ::close(in_pipe[1]);
    });
    process_result r;
    std::thread err_reader([&] { r.err = drain(err_pipe[0]); });
    r.out = drain(out_pipe[0]);
    err_reader.join();
    writer.join();
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return r;
}

}  // namespace atrest_test
