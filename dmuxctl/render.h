// Human-readable rendering of dmuxd's JSON replies.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace dmux::ctl {

std::string render_status(const nlohmann::json& status);
std::string render_routers(const nlohmann::json& routers);
std::string render_peers(const nlohmann::json& peers);

}  // namespace dmux::ctl
