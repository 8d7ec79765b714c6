// Sends one command to dmuxd's control socket and returns its JSON reply.
#pragma once

#include <string>

namespace dmux::ctl {

// Throws std::runtime_error with a message fit for the user (e.g. "is dmuxd running?").
std::string request(const std::string& socket_path, const std::string& command);

}  // namespace dmux::ctl
