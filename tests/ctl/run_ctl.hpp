#pragma once
// Runs the atrest-ctl binary as a user would: a child process with captured stdout and stderr.
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace atrest_test {

struct ctl_result {
    int exit_code = -1;
    std::string out;
    std::string err;
};

inline std::string drain(int fd) {
    std::string s;
    std::array<char, 4096> buf;
    for (;;) {
        const auto n = ::read(fd, buf.data(), buf.size());
        if (n <= 0) break;
        s.append(buf.data(), static_cast<std::size_t>(n));
    }
    ::close(fd);
    return s;
}

/// Runs atrest-ctl with `args`, in the working directory `cwd` when one is given.
inline ctl_result run_ctl(const std::vector<std::string>& args, const std::string& cwd = {}) {
    int out_pipe[2], err_pipe[2];
    if (::pipe(out_pipe) != 0 || ::pipe(err_pipe) != 0) throw std::runtime_error("pipe failed");
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, out_pipe[1], 1);
    posix_spawn_file_actions_adddup2(&actions, err_pipe[1], 2);
    posix_spawn_file_actions_addclose(&actions, out_pipe[0]);
    posix_spawn_file_actions_addclose(&actions, err_pipe[0]);
    if (!cwd.empty()) posix_spawn_file_actions_addchdir_np(&actions, cwd.c_str());
    std::vector<std::string> argv_storage{ATREST_CTL_PATH};
    argv_storage.insert(argv_storage.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& a : argv_storage) argv.push_back(a.data());
    argv.push_back(nullptr);
    pid_t pid = 0;
    const int rc = ::posix_spawn(&pid, ATREST_CTL_PATH, &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    ::close(out_pipe[1]);
    ::close(err_pipe[1]);
    if (rc != 0) throw std::runtime_error("posix_spawn failed");
    ctl_result r;
    std::thread err_reader([&] { r.err = drain(err_pipe[0]); });
    r.out = drain(out_pipe[0]);
    err_reader.join();
    int status = 0;
    ::waitpid(pid, &status, 0);
    r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return r;
}

}  // namespace atrest_test
