// The sender's flows: one UDP socket per flow, each with its own source port and connected to the
// target (a connected socket keeps its route cached, so the kernel's per-datagram work is the
// same for every flow). Start-up code: throws std::system_error naming the endpoint.
#pragma once

#include <vector>

#include "common/net/unique_fd.h"
#include "tools/loadgen/config.h"

namespace dmux::loadgen {

std::vector<net::UniqueFd> open_flow_sockets(const SendConfig& config);

}  // namespace dmux::loadgen
