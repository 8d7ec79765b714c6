// Running a system tool (iptables, ip) without a shell. Control plane only: blocks until the
// tool exits.
#pragma once

#include <string>
#include <vector>

namespace dmux::client {

// Runs argv[0] (looked up in PATH) with its output discarded; returns its exit status, or -1 if
// it could not be started or was killed. `output`, if given, receives its stderr.
int run_command(const std::vector<std::string>& argv, std::string* output = nullptr);

// As run_command, but throws std::runtime_error naming the command and its stderr on failure.
void run_checked(const std::vector<std::string>& argv);

}  // namespace dmux::client
