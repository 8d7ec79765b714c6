// JSON documents served on the control socket ("status", "routers"). docs/operations.md
// describes their fields; dmuxctl renders them for humans.
#pragma once

#include <string>

#include "gateway/config.h"
#include "gateway/stats.h"

namespace dmux::gateway {

std::string status_json(const GatewayConfig& config, const GatewayStats& stats, double now_seconds);
std::string routers_json(const GatewayStats& stats);
std::string peers_json(const GatewayStats& stats);

}  // namespace dmux::gateway
