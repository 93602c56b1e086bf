#pragma once
// Runs the atrest-ctl binary as a user would: a child process with captured stdout and stderr.
#include "subprocess.hpp"

#include <string>
#include <vector>

namespace atrest_test {

using ctl_result = process_result;

/// Runs atrest-ctl with `args`, in the working directory `cwd` when one is given.
inline ctl_result run_ctl(const std::vector<std::string>& args, const std::string& cwd = {}) {
    return run_process(ATREST_CTL_PATH, args, {}, std::nullopt, cwd);
}

}  // namespace atrest_test
