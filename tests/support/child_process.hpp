#pragma once
// Runs a check in a forked child, for what must not touch this process (its limits) or must
// come from another process (locks). The child's exit code is the body's return value; an
// exception in the body is exit code 125.
#include "catch.hpp"

#include <sys/wait.h>
#include <unistd.h>

namespace atrest_test {

template <class Body>
int exit_code_in_child(Body&& body) {
    const pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        int code = 125;
        try {
            code = body();
        } catch (...) {
        }
        ::_exit(code);
    }
    int status = 0;
    REQUIRE(::waitpid(pid, &status, 0) == pid);
    REQUIRE(WIFEXITED(status));
    return WEXITSTATUS(status);
}

}  // namespace atrest_test
