// Human-readable "status" of the daemons other than dmuxd, from their control sockets' JSON
// (dmux-provider: docs/provider.md, dmux-mcast: docs/multicast.md, dmux-client: docs/client.md).
// Each renderer reads fields with defaults, so a field a newer or older daemon lacks shows as
// "?" or 0 rather than failing.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace dmux::ctl {

std::string render_provider_status(const nlohmann::json& status);
std::string render_mcast_status(const nlohmann::json& status);
std::string render_client_status(const nlohmann::json& status);

// Which daemon wrote `status` ("dmuxd", "dmux-provider", "dmux-mcast", "dmux-client") and its
// rendering.
std::string render_any_status(const nlohmann::json& status);

}  // namespace dmux::ctl
