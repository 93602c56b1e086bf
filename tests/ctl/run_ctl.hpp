#pragma once
// Runs the atrest-ctl binary as a user would: a child process with captured stdout and stderr.
#include "subprocess.hpp"

#include <string>
#include <vector>

namespace atrest_test {

using ctl_result = process_result;

inline ctl_result run_ctl(const std::vector<std::string>& args) { return run_process(ATREST_CTL_PATH, args); }

}  // namespace atrest_test
